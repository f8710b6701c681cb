#include "core/service/keyring_call.h"

#include "core/service/secret_store.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"

#include <exception>
#include <utility>

namespace imagegen {

// What the call shares with its GTask: `done` is cleared when the owner goes.
struct KeyringCall::Pending {
    Done done;
    GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
};

namespace {

using Answer = Result<std::string>;

Answer asAnswer(const Status& status) {
    if (!status) {
        return status.error();
    }
    return std::string();
}

KeyringCall::Done statusDone(std::function<void(Status)> done) {
    return [done = std::move(done)](const Answer& answer) {
        if (!answer) {
            done(answer.error());
        } else {
            done(Ok{});
        }
    };
}

// On the worker: the work is the task's own, freed with the task.
void work(GTask* task, gpointer /*source*/, gpointer data, GCancellable* cancellable) {
    auto* call = static_cast<KeyringCall::Work*>(data);
    Answer* answer = nullptr;
    try {
        answer = new Answer((*call)(cancellable));
    } catch (const std::exception& e) { // nothing may throw into GLib's thread pool
        answer = new Answer(
            makeError(ErrorKind::Configuration, textf(_("internal error: %s"), e.what())));
    }
    g_task_return_pointer(task, answer, [](gpointer p) { delete static_cast<Answer*>(p); });
}

// On the main loop, once: the worker's answer, or a cancel at once (return-on-cancel), which
// only the owner's going makes, and then nobody hears it.
void ready(GObject* /*source*/, GAsyncResult* result, gpointer data) {
    const std::unique_ptr<std::shared_ptr<KeyringCall::Pending>> holder(
        static_cast<std::shared_ptr<KeyringCall::Pending>*>(data));
    const std::shared_ptr<KeyringCall::Pending> pending = *holder;
    GErrorPtr error;
    const std::unique_ptr<Answer> answer(
        static_cast<Answer*>(g_task_propagate_pointer(G_TASK(result), outPtr(error))));
    if (!pending->done || !answer) {
        return;
    }
    const KeyringCall::Done done = std::move(pending->done);
    pending->done = nullptr;
    try {
        done(std::move(*answer));
    } catch (...) {
        g_warning("imagegen: a keyring call's completion handler threw");
    }
}

} // namespace

KeyringCall::KeyringCall(Work work_, Done done) : pending_(std::make_shared<Pending>()) {
    pending_->done = std::move(done);
    GTask* task = g_task_new(nullptr, pending_->cancellable.get(), ready,
                             new std::shared_ptr<Pending>(pending_));
    g_task_set_task_data(task, new Work(std::move(work_)),
                         [](gpointer p) { delete static_cast<Work*>(p); });
    // A cancel ends the task at once; the worker finishes on the task's data, which the task
    // owns, and its answer is dropped.
    g_task_set_return_on_cancel(task, TRUE);
    g_task_run_in_thread(task, work);
    g_object_unref(task);
}

KeyringCall::~KeyringCall() {
    pending_->done = nullptr;
    g_cancellable_cancel(pending_->cancellable.get());
}

std::unique_ptr<KeyringCall> lookupSecretAsync(const std::string& connectionName,
                                               std::function<void(Result<std::string>)> done) {
    return std::make_unique<KeyringCall>(
        [connectionName](GCancellable* cancellable) {
            return lookupSecret(connectionName, cancellable);
        },
        std::move(done));
}

std::unique_ptr<KeyringCall> storeSecretAsync(const std::string& connectionName,
                                              const std::string& secret,
                                              std::function<void(Status)> done) {
    return std::make_unique<KeyringCall>(
        [connectionName, secret](GCancellable* /*never half a write*/) {
            return asAnswer(storeSecret(connectionName, secret));
        },
        statusDone(std::move(done)));
}

std::unique_ptr<KeyringCall> clearSecretAsync(const std::string& connectionName,
                                              std::function<void(Status)> done) {
    return std::make_unique<KeyringCall>(
        [connectionName](GCancellable* /*never half a write*/) {
            return asAnswer(clearSecret(connectionName));
        },
        statusDone(std::move(done)));
}

Status saveConnectionKey(const std::string& name, const std::string& previous,
                         const std::string& typedKey) {
    Status typed = Ok{};
    if (!typedKey.empty()) {
        typed = storeSecret(name, typedKey);
    }
    if (!previous.empty() && previous != name) {
        if (auto old = lookupSecret(previous); typedKey.empty() && old && !old->empty()) {
            (void)storeSecret(name, *old);
        }
        (void)clearSecret(previous);
    }
    return typed;
}

std::unique_ptr<KeyringCall> saveConnectionKeyAsync(const std::string& name,
                                                    const std::string& previous,
                                                    const std::string& typedKey,
                                                    std::function<void(Status)> done) {
    return std::make_unique<KeyringCall>(
        [name, previous, typedKey](GCancellable* /*never half a move*/) {
            return asAnswer(saveConnectionKey(name, previous, typedKey));
        },
        statusDone(std::move(done)));
}

} // namespace imagegen
