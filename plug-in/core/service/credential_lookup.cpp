#include "core/service/credential_lookup.h"

#include "core/service/secret_store.h"
#include "core/util/i18n.h"

#include <exception>
#include <utility>

namespace imagegen {

namespace {

const char* keyVariable(const Connection& connection) {
    return isAzure(connection.kind) ? "AZURE_OPENAI_API_KEY" : "OPENAI_API_KEY";
}

Error cancelled() {
    return makeError(ErrorKind::Cancelled, "cancelled");
}

} // namespace

CredentialQuery credentialQuery(const Connection& connection, const EnvLookup& env,
                                std::shared_ptr<EntraTokenSource> tokens, int64_t nowUnix) {
    const char* key = env(keyVariable(connection));
    return {connection, key != nullptr ? key : "", std::move(tokens), nowUnix};
}

std::optional<Credential> credentialAtHand(const Connection& connection, const EnvLookup& env,
                                           const EntraTokenSource& tokens, int64_t nowUnix) {
    if (connection.auth != AuthMethod::EntraId) {
        return std::nullopt;
    }
    const char* token = env("AZURE_OPENAI_AD_TOKEN");
    if (token != nullptr && *token != '\0') {
        return Credential{AuthMethod::EntraId, token};
    }
    if (auto fresh = tokens.cached(nowUnix)) {
        return Credential{AuthMethod::EntraId, *fresh};
    }
    return std::nullopt;
}

Result<Credential> findCredential(const Connection& connection, const std::string& envKey,
                                  EntraTokenSource& tokens, int64_t nowUnix,
                                  GCancellable* cancellable) {
    if (connection.auth == AuthMethod::EntraId) {
        auto fetched = tokens.token(nowUnix, cancellable);
        if (!fetched) {
            return fetched.error();
        }
        return Credential{AuthMethod::EntraId, *fetched};
    }
    auto saved = lookupSecret(connection.name, cancellable);
    if (g_cancellable_is_cancelled(cancellable) != FALSE) {
        return cancelled();
    }
    if (saved && !saved->empty()) {
        return Credential{connection.auth, *saved};
    }
    if (!envKey.empty()) {
        return Credential{connection.auth, envKey};
    }
    std::string message = textf(_("no key is saved for the connection %s: enter it in "
                                  "Connections… and Save, or set %s"),
                                connection.name.c_str(), keyVariable(connection));
    if (!saved) {
        message += textf(_(" (%s)"), saved.error().message.c_str());
    }
    return makeError(ErrorKind::Configuration, message);
}

// What the lookup shares with its GTask: `done` is cleared when the owner goes.
struct CredentialLookup::Pending {
    Done done;
    GRef<GCancellable> cancellable = adoptRef(g_cancellable_new()); // the lookup's own
    GRef<GCancellable> outer;
    gulong outerHandler = 0;
};

namespace {

using Found = Result<Credential>;

// On the worker: the query is the task's own, freed with the task.
void work(GTask* task, gpointer /*source*/, gpointer data, GCancellable* cancellable) {
    auto* query = static_cast<CredentialQuery*>(data);
    Found* found = nullptr;
    try {
        found = new Found(findCredential(query->connection, query->envKey, *query->tokens,
                                         query->nowUnix, cancellable));
    } catch (const std::exception& e) { // nothing may throw into GLib's thread pool
        found = new Found(
            makeError(ErrorKind::Authentication, textf(_("internal error: %s"), e.what())));
    }
    g_task_return_pointer(task, found, [](gpointer p) { delete static_cast<Found*>(p); });
}

// On the main loop, once: the worker's answer, or a cancel at once (return-on-cancel).
void ready(GObject* /*source*/, GAsyncResult* result, gpointer data) {
    const std::unique_ptr<std::shared_ptr<CredentialLookup::Pending>> holder(
        static_cast<std::shared_ptr<CredentialLookup::Pending>*>(data));
    const std::shared_ptr<CredentialLookup::Pending> pending = *holder;
    GErrorPtr error;
    const std::unique_ptr<Found> found(
        static_cast<Found*>(g_task_propagate_pointer(G_TASK(result), outPtr(error))));
    if (!pending->done) {
        return; // the owner has gone
    }
    const CredentialLookup::Done done = std::move(pending->done);
    pending->done = nullptr;
    try {
        if (found) {
            done(std::move(*found));
        } else {
            done(cancelled()); // the only error a task of ours returns by itself
        }
    } catch (...) {
        g_warning("imagegen: a credential lookup's completion handler threw");
    }
}

} // namespace

CredentialLookup::CredentialLookup(CredentialQuery query, GCancellable* cancellable, Done done)
    : pending_(std::make_shared<Pending>()) {
    pending_->done = std::move(done);
    if (cancellable != nullptr) {
        // Its own cancellable, which the outer one cancels: the lookup's end must not cancel
        // the caller's.
        pending_->outer = addRef(cancellable);
        pending_->outerHandler =
            g_cancellable_connect(cancellable, G_CALLBACK(+[](GCancellable* /*c*/, gpointer own) {
                                      g_cancellable_cancel(G_CANCELLABLE(own));
                                  }),
                                  pending_->cancellable.get(), nullptr);
    }
    GTask* task = g_task_new(nullptr, pending_->cancellable.get(), ready,
                             new std::shared_ptr<Pending>(pending_));
    g_task_set_task_data(task, new CredentialQuery(std::move(query)),
                         [](gpointer p) { delete static_cast<CredentialQuery*>(p); });
    // A cancel ends the task at once; the worker finishes on the task's data, which the task
    // owns, and its answer is dropped.
    g_task_set_return_on_cancel(task, TRUE);
    g_task_run_in_thread(task, work);
    g_object_unref(task);
}

CredentialLookup::~CredentialLookup() {
    pending_->done = nullptr;
    if (pending_->outer && pending_->outerHandler != 0) {
        g_cancellable_disconnect(pending_->outer.get(), pending_->outerHandler);
    }
    g_cancellable_cancel(pending_->cancellable.get());
}

std::optional<Credential> CredentialCache::find(const std::string& connection) const {
    auto it = known_.find(connection);
    return it == known_.end() ? std::nullopt : std::optional<Credential>(it->second);
}

void CredentialCache::keep(const std::string& connection, const Credential& credential) {
    known_[connection] = credential;
}

void CredentialCache::forget(const std::string& connection) {
    known_.erase(connection);
}

} // namespace imagegen
