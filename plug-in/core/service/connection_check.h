// "Test connection": proves that a connection routes to the service and that the service takes
// its credentials, without paying for an image.
#pragma once

#include "core/service/connection.h"
#include "core/service/http_client.h"
#include "core/service/request_encoding.h"

#include <gio/gio.h>

#include <functional>
#include <string>

namespace imagegen {

enum class ConnectionVerdict { Works, BadCredential, Forbidden, NotFound, Unreachable, Unexpected };

struct ConnectionTestResult {
    ConnectionVerdict verdict = ConnectionVerdict::Unexpected;
    int httpStatus = 0; // 0 when no answer came
    // Plain words for a person: what happened and what to check. Never the key, nor what the
    // service said about a refused key (OpenAI's 401 quotes part of it).
    std::string message;
};

// The request the test sends: an images/generations POST with an empty prompt, which the service
// must refuse, but only after it has checked the credentials (401) and found the deployment or
// model (404). The model is named where the connection kind puts it: in the URL on Azure's
// deployments path, in the body everywhere else. With an empty secret no auth header is sent
// (a local server may need none).
Result<HttpRequest> connectionTestRequest(const Connection& connection,
                                          const Credential& credential,
                                          const std::string& modelOrDeployment);

// What an answer to that request means: 400 → Works (but a 400 that refuses the `model` field →
// NotFound), 401 → BadCredential, 403 → Forbidden, 404 → NotFound, no answer (network, TLS,
// timeout) → Unreachable, anything else (a cancel, 429, 5xx, a 2xx) → Unexpected. The secret is
// only used to remove it from anything the service said.
ConnectionTestResult classifyConnectionAnswer(const Connection& connection,
                                              const Credential& credential,
                                              const std::string& modelOrDeployment,
                                              const Result<HttpResponse>& answer);

// Sends connectionTestRequest() and classifies the answer. `done` runs once from the main loop,
// never inside the call (also when the request cannot be built: no endpoint, no deployment);
// destroying the HttpClient drops it (HttpClient's contract).
void testConnection(HttpClient& http, const Connection& connection, const Credential& credential,
                    const std::string& modelOrDeployment, GCancellable* cancellable,
                    std::function<void(ConnectionTestResult)> done);

} // namespace imagegen
