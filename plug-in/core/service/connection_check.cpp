#include "core/service/connection_check.h"

#include "core/service/service_text.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <exception>
#include <utility>

namespace imagegen {

namespace {

// What the service said in its error body, for a message; nothing from a body that is not an
// API error (an HTML page from a proxy says nothing useful).
struct ServiceSaid {
    std::string message;
    std::string param;
    std::string code;
};

constexpr size_t kMaxQuotedChars = 300;

// The secret is taken out before the message is cut, so no part of it survives the cut.
ServiceSaid serviceSaid(const std::string& body, const std::string& secret) {
    ServiceSaid said;
    auto document = json::parseObject(body);
    if (!document) {
        return said;
    }
    JsonObject* error = json::object(document->root(), "error");
    if (error == nullptr) {
        error = document->root(); // some gateways put the message at the top level
    }
    said.message =
        serviceText(json::string(error, "message").value_or(""), kMaxQuotedChars, secret);
    said.param = json::string(error, "param").value_or("");
    said.code = json::string(error, "code").value_or("");
    return said;
}

std::string quoted(const std::string& name) {
    // TRANSLATORS: a name quoted in a message; use your language's quotation marks.
    return textf(_("“%s”"), name.c_str());
}

std::string statusText(int status) {
    return "(" + std::to_string(status) + ")";
}

// `sentence` ends without a full stop; what the service said, if anything, follows it.
std::string alongWith(const std::string& sentence, const ServiceSaid& said) {
    // TRANSLATORS: a sentence of the connection test, then what the service said in its words.
    return said.message.empty()
               ? textf(_("%s."), sentence.c_str())
               : textf(_("%s. The service said: %s"), sentence.c_str(), said.message.c_str());
}

// The dialog puts "Tested with …" after the message: it must be a whole sentence, with a capital
// first and a full stop last, whatever a service or GIO said at its end.
std::string asSentence(std::string message) {
    while (!message.empty() && g_ascii_isspace(message.back())) {
        message.pop_back();
    }
    if (message.empty()) {
        return message;
    }
    message[0] = g_ascii_toupper(message[0]);
    const char last = message.back();
    if (last != '.' && last != '!' && last != '?') {
        message += '.';
    }
    return message;
}

ConnectionTestResult verdict(ConnectionVerdict v, int status, std::string message) {
    return {v, status, std::move(message)};
}

ConnectionTestResult refusedCredential(const Connection& c, const Credential& credential) {
    std::string message;
    if (credential.secret.empty()) {
        message = _("The service asks for a key and none is set (401): enter the key.");
    } else if (credential.method == AuthMethod::EntraId) {
        message = _("The token was refused (401): sign in again (az login) or check the token.");
    } else if (isAzure(c.kind)) {
        message = _("The key was refused (401): check the key, and that it belongs to the "
                    "resource of this endpoint.");
    } else {
        message = _("The key was refused (401): check the key.");
    }
    return verdict(ConnectionVerdict::BadCredential, 401, std::move(message));
}

ConnectionTestResult notFound(const Connection& c, const std::string& model, int status,
                              const ServiceSaid& said) {
    std::string sentence;
    if (status == 400) {
        sentence = textf(_("The service accepted the key but does not know the model %s (400): "
                           "check its name"),
                         quoted(model).c_str());
    } else if (isAzure(c.kind) && said.code == "DeploymentNotFound") {
        sentence = textf(_("The deployment %s was not found (404): check its name"),
                         quoted(model).c_str());
    } else if (isAzure(c.kind)) {
        sentence = textf(_("Nothing was found at this address (404): check the endpoint, the API "
                           "version and the deployment %s"),
                         quoted(model).c_str());
    } else {
        sentence = textf(_("The service does not know the model %s, or the endpoint is wrong "
                           "(404): check both"),
                         quoted(model).c_str());
    }
    return verdict(ConnectionVerdict::NotFound, status, alongWith(sentence, said));
}

ConnectionTestResult unexpected(int status, const ServiceSaid& said) {
    std::string sentence;
    if (status == 429) {
        sentence = _("The service accepted the key but is limiting requests just now (429): try "
                     "again in a moment");
    } else if (status >= 500) {
        sentence = textf(_("The service had an internal error %s: try again later"),
                         statusText(status).c_str());
    } else if (status >= 300 && status < 400) {
        sentence = textf(_("The endpoint redirects elsewhere %s: check the endpoint URL"),
                         statusText(status).c_str());
    } else if (status >= 200 && status < 300) {
        sentence = textf(_("The service accepted a request with an empty prompt %s, which the "
                           "Images API refuses: check that the endpoint is an Images API"),
                         statusText(status).c_str());
    } else {
        sentence = textf(_("The service answered %s, which a connection test does not expect"),
                         statusText(status).c_str());
    }
    return verdict(ConnectionVerdict::Unexpected, status, alongWith(sentence, said));
}

ConnectionTestResult classifyStatus(const Connection& c, const Credential& credential,
                                    const std::string& model, const HttpResponse& response) {
    const int status = response.status;
    const ServiceSaid said = serviceSaid(response.body, credential.secret);
    switch (status) {
    case 400: {
        if (said.param == "model") {
            return notFound(c, model, status, said);
        }
        const char* message = credential.secret.empty()
                                  ? _("Connected: the service answered and asked for no key.")
                              : credential.method == AuthMethod::EntraId
                                  ? _("Connected: the service answered and accepted the token.")
                                  : _("Connected: the service answered and accepted the key.");
        return verdict(ConnectionVerdict::Works, status, message);
    }
    case 401:
        return refusedCredential(c, credential);
    case 403: {
        const bool token = credential.method == AuthMethod::EntraId;
        const char* sentence =
            isAzure(c.kind)
                ? (token ? _("The token was accepted but may not use this deployment (403): "
                             "check its permissions")
                         : _("The key was accepted but may not use this deployment (403): check "
                             "its permissions"))
                : (token ? _("The token was accepted but may not use this model (403): check "
                             "its permissions")
                         : _("The key was accepted but may not use this model (403): check its "
                             "permissions"));
        return verdict(ConnectionVerdict::Forbidden, status, alongWith(sentence, said));
    }
    case 404:
        return notFound(c, model, status, said);
    default:
        return unexpected(status, said);
    }
}

ConnectionTestResult classifyFailure(const Error& e) {
    switch (e.kind) {
    case ErrorKind::Cancelled:
        return verdict(ConnectionVerdict::Unexpected, 0, _("The test was cancelled."));
    case ErrorKind::Network:
    case ErrorKind::Timeout:
    case ErrorKind::Configuration:
        return verdict(ConnectionVerdict::Unreachable, 0, e.message);
    default:
        return verdict(ConnectionVerdict::Unexpected, e.httpStatus,
                       textf(_("The service's answer could not be read: %s"), e.message.c_str()));
    }
}

// A request that could not even be built: no endpoint, an endpoint that is not allowed, or no
// deployment on Azure's deployments path.
ConnectionTestResult cannotSend(const Connection& c, const std::string& model, const Error& e) {
    std::string message = asSentence(e.message);
    const bool noDeployment = c.kind == ConnectionKind::Azure && model.empty();
    return verdict(noDeployment ? ConnectionVerdict::NotFound : ConnectionVerdict::Unreachable, 0,
                   std::move(message));
}

// Hands `result` to `done` from the main loop, unless the client has gone by then; a cancel in
// the meantime is reported as the cancel.
void deliverLater(HttpClient& http, GCancellable* cancellable,
                  std::function<void(ConnectionTestResult)> done, ConnectionTestResult result) {
    struct Later {
        GRef<GCancellable> closing;
        GRef<GCancellable> cancellable;
        std::function<void(ConnectionTestResult)> done;
        ConnectionTestResult result;
    };
    auto* later =
        new Later{addRef(http.closing()), addRef(cancellable), std::move(done), std::move(result)};
    g_idle_add_full(
        G_PRIORITY_DEFAULT,
        [](gpointer p) -> gboolean {
            auto* l = static_cast<Later*>(p);
            if (g_cancellable_is_cancelled(l->closing.get()) != FALSE) {
                return G_SOURCE_REMOVE;
            }
            if (l->cancellable && g_cancellable_is_cancelled(l->cancellable.get()) != FALSE) {
                l->result = classifyFailure(makeError(ErrorKind::Cancelled, "cancelled"));
            }
            try {
                l->done(std::move(l->result));
            } catch (const std::exception& e) {
                g_critical("the connection test's callback failed: %s", e.what());
            }
            return G_SOURCE_REMOVE;
        },
        later, [](gpointer p) { delete static_cast<Later*>(p); });
}

} // namespace

Result<HttpRequest> connectionTestRequest(const Connection& connection,
                                          const Credential& credential,
                                          const std::string& modelOrDeployment) {
    auto url = operationUrl(connection, Operation::Generate, modelOrDeployment);
    if (!url) {
        return url.error();
    }
    if (auto ca = checkCaFile(connection); !ca) {
        return ca.error();
    }
    HttpRequest request;
    request.url = *url;
    request.caFile = connection.caFile;
    if (!credential.secret.empty()) {
        request.headers.push_back(authHeader(credential));
    }
    request.headers.emplace_back("Accept", "application/json");
    request.contentType = "application/json";
    // A refusal is small; a server that drew an image anyway has no business sending a big one.
    request.maxBodyBytes = size_t{1} << 20;
    auto builder = adoptRef(json_builder_new());
    json_builder_begin_object(builder.get());
    if (bodyNamesModel(connection.kind) && !modelOrDeployment.empty()) {
        json_builder_set_member_name(builder.get(), "model");
        json_builder_add_string_value(builder.get(), modelOrDeployment.c_str());
    }
    json_builder_set_member_name(builder.get(), "prompt");
    json_builder_add_string_value(builder.get(), "");
    json_builder_end_object(builder.get());
    request.body = json::builderText(builder.get());
    return request;
}

ConnectionTestResult classifyConnectionAnswer(const Connection& connection,
                                              const Credential& credential,
                                              const std::string& modelOrDeployment,
                                              const Result<HttpResponse>& answer) {
    ConnectionTestResult result =
        answer ? classifyStatus(connection, credential, modelOrDeployment, *answer)
               : classifyFailure(answer.error());
    // Shown in the dialog: no key, and no control character of a header or a proxy's page.
    result.message = asSentence(readableText(withoutSecret(result.message, credential.secret)));
    return result;
}

void testConnection(HttpClient& http, const Connection& connection, const Credential& credential,
                    const std::string& modelOrDeployment, GCancellable* cancellable,
                    std::function<void(ConnectionTestResult)> done) {
    auto request = connectionTestRequest(connection, credential, modelOrDeployment);
    if (!request) {
        ConnectionTestResult result = cannotSend(connection, modelOrDeployment, request.error());
        result.message = withoutSecret(std::move(result.message), credential.secret);
        deliverLater(http, cancellable, std::move(done), std::move(result));
        return;
    }
    http.send(*request, cancellable,
              [connection, credential, modelOrDeployment,
               done = std::move(done)](const Result<HttpResponse>& answer) {
                  done(classifyConnectionAnswer(connection, credential, modelOrDeployment, answer));
              });
}

} // namespace imagegen
