// TLS against an HTTPS SoupServer on loopback: verification is never off, and a connection's CA
// file is trusted for the certificates it signs. A program of its own: under LeakSanitizer it runs
// without leak detection (tests/unit/meson.build says why), and only it.
#include "core/service/http_client.h"
#include "http_helpers.h"
#include "test_server.h"
#include "test_util.h"

#include <gio/gio.h>

#include <string>

using namespace imagegen;
using namespace imagegen::test;

// TLS files made by tests/unit/data/tls/make-certificates.sh: a test CA and a certificate for
// 127.0.0.1 that it signs.
static std::string tlsFile(const char* name) {
    return std::string(g_getenv("G_TEST_SRCDIR")) + "/unit/data/tls/" + name;
}

static GRef<GTlsCertificate> serverCertificate() {
    GErrorPtr error;
    auto cert = adoptRef(g_tls_certificate_new_from_files(
        tlsFile("server.pem").c_str(), tlsFile("server-key.pem").c_str(), outPtr(error)));
    if (!cert) {
        fail(IMAGEGEN_TEST_HERE,
             std::string("cannot read the test certificate: ") + error->message);
    }
    return cert;
}

// Verification is always on: a certificate the system does not trust is refused, and accepted
// only when the connection names the CA that signed it.
static void testUntrustedCertificateIsRefused() {
    const auto cert = serverCertificate();
    TestServer server(cert.get());
    server.answerAlways(ok());
    HttpClient client(quickOptions());
    const Error e = assertFails(sendAndWait(client, post(server)), ErrorKind::Network);
    assertContains(e.message, "is not trusted");
    assertContains(e.message, "CA file");
    g_assert_cmpuint(server.received().size(), ==, 0);
    g_assert_cmpint(client.attemptsStarted(), ==, 1); // not retried

    HttpRequest wrongCa = post(server);
    wrongCa.caFile = tlsFile("other-ca.pem"); // a CA, but not the one that signed it
    assertFails(sendAndWait(client, wrongCa), ErrorKind::Network);
    g_assert_cmpuint(server.received().size(), ==, 0);
}

static void testCertificateSignedByTheNamedCaIsAccepted() {
    const auto cert = serverCertificate();
    TestServer server(cert.get());
    server.answerAlways(ok());
    HttpClient client(quickOptions());
    HttpRequest request = post(server);
    request.caFile = tlsFile("ca.pem");
    auto r = sendAndWait(client, request);
    if (assertOk(r)) {
        g_assert_cmpint(r->status, ==, 200);
    }
    g_assert_cmpuint(server.received().size(), ==, 1);
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/tls/untrusted-refused", testUntrustedCertificateIsRefused);
    g_test_add_func("/tls/named-ca-accepted", testCertificateSignedByTheNamedCaIsAccepted);
    return g_test_run();
}
