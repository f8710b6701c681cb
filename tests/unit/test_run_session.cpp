// The dialog's runs through RunSession, with an image editor in memory (FakeHost) and a service on
// a loopback SoupServer: a Generate keeps its results without touching the image, what is
// inserted later is what a Script-Fu call inserts, results go in grouped by the run that made
// them, and a cancelled, failed or dropped run keeps nothing and reports once (or not at all).
#include "core/pixels/codec.h"
#include "core/run/run.h"
#include "core/run/run_session.h"
#include "core/user/result_history.h"
#include "fake_host.h"
#include "run_fixtures.h"
#include "temp_dir.h"
#include "test_server.h"
#include "test_util.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace imagegen;
using namespace imagegen::test;

namespace {

// What a session reported.
struct Record {
    int done = 0;
    std::optional<Result<RunSession::Generated>> ended;
    std::vector<double> progress;
    std::vector<Size> partials;

    RunSession::Callbacks callbacks() {
        RunSession::Callbacks c;
        c.onPartial = [this](const RgbaImage& image) {
            partials.push_back({image.width, image.height});
        };
        c.onProgress = [this](double fraction) {
            progress.push_back(fraction);
        };
        c.onDone = [this](Result<RunSession::Generated> r) {
            ++done;
            ended = std::move(r);
        };
        return c;
    }
};

// Runs the main context until `what` holds; false (the test failed) after 30 s of nothing.
bool waitFor(const std::function<bool()>& what) {
    const gint64 until = g_get_monotonic_time() + (30 * G_USEC_PER_SEC);
    while (!what() && g_get_monotonic_time() < until) {
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(500);
    }
    if (!what()) {
        fail(IMAGEGEN_TEST_HERE, "the run did not end");
        return false;
    }
    return true;
}

// A Generate to its end; its results, or the error it ended with.
Result<RunSession::Generated> generate(RunSession& session, Record& record, const RunParameters& p,
                                       Host& host) {
    const int before = record.done;
    if (auto started = session.start(p, host); !started) {
        return started.error();
    }
    g_assert_true(session.running());
    g_assert_cmpint(record.done, ==, before); // never inside start()
    if (!waitFor([&] { return record.done > before; })) {
        return makeError(ErrorKind::Timeout, "no end");
    }
    g_assert_false(session.running());
    return *record.ended;
}

RunSession::HostFactory hostOf(FakeHost& host) {
    // The session owns what the factory makes: a forwarder to the one image of the test.
    struct Forward final : Host {
        explicit Forward(FakeHost& h) : h(h) {}
        Result<ImageGeometry> inspect() override { return h.inspect(); }
        RgbaImage readRegion(Rect r, PixelSource s) override { return h.readRegion(r, s); }
        std::vector<uint8_t> readSelection(Rect r) override { return h.readSelection(r); }
        Result<RgbaImage> readLayer(int id) override { return h.readLayer(id); }
        RgbaImage thumbnail(int side, PixelSource s) override { return h.thumbnail(side, s); }
        Result<std::vector<int>> insertLayers(const std::vector<NewLayer>& l, const std::string& g,
                                              const CancelCheck& c) override {
            return h.insertLayers(l, g, c);
        }
        Result<std::vector<int>> insertLayersExpanding(Margins m, const std::vector<NewLayer>& l,
                                                       const std::string& g,
                                                       const CancelCheck& c) override {
            return h.insertLayersExpanding(m, l, g, c);
        }
        Result<int> createImage(Size s, const std::vector<NewLayer>& l, const std::string& g,
                                const CancelCheck& c) override {
            return h.createImage(s, l, g, c);
        }
        void progressStart(const std::string& t) override { h.progressStart(t); }
        void progressPulse() override { h.progressPulse(); }
        void progressSet(double f) override { h.progressSet(f); }
        void progressEnd() override { h.progressEnd(); }
        FakeHost& h;
    };
    return [&host] {
        return std::make_unique<Forward>(host);
    };
}

RunParameters parameters(const char* prompt = "a red balloon") {
    RunParameters p;
    p.prompt = prompt;
    p.model = "gpt-image-1";
    return p;
}

RunParameters expandParameters(Margins m, int n = -1) {
    RunParameters p = parameters("the sea");
    p.left = m.left;
    p.top = m.top;
    p.right = m.right;
    p.bottom = m.bottom;
    p.n = n;
    return p;
}

// A Generate keeps its results and touches nothing; the image changes only at insert.
void testResultsKeptUntilInserted() {
    TestServer server;
    answerGradients(server, 2);
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Edit, s.setup, record.callbacks());
    RunParameters p = parameters();
    p.n = 2;
    auto generated = generate(session, record, p, host);
    if (!assertOk(generated)) {
        return;
    }
    g_assert_cmpuint(generated->first, ==, 0);
    g_assert_cmpuint(generated->count, ==, 2);
    g_assert_cmpint(generated->usage.totalTokens, ==, 30);
    g_assert_true(record.progress == std::vector<double>{1.0});
    g_assert_cmpuint(session.resultCount(), ==, 2);
    assertEq(session.promptOf(1), "a red balloon");
    g_assert_null(session.expandOf(0));
    g_assert_cmpuint(host.undoSteps().size(), ==, 0);
    g_assert_cmpint(host.progressStarts(), ==, 0);
    g_assert_false(session.insertedAny());

    // The second alone, then both: two undo steps, the first layer of each visible.
    auto one = session.insert({1}, hostOf(host));
    g_assert_false(one.error.has_value());
    g_assert_cmpuint(one.layers, ==, 1);
    g_assert_cmpuint(one.steps, ==, 1);
    auto both = session.insert({0, 1}, hostOf(host));
    g_assert_cmpuint(both.layers, ==, 2);
    g_assert_cmpuint(both.steps, ==, 1);
    if (!assertSize(host.undoSteps(), 2) || !assertSize(host.undoSteps()[1], 2)) {
        return;
    }
    g_assert_true(host.undoSteps()[0][0].pixels.pixels == session.layer(1).pixels.pixels);
    g_assert_true(host.undoSteps()[0][0].visible);
    g_assert_true(host.undoSteps()[1][0].visible);
    g_assert_false(host.undoSteps()[1][1].visible);
    g_assert_true(session.insertedAny());
    g_assert_cmpuint(session.inserted().layers.size(), ==, 3);
    g_assert_cmpint(session.inserted().image, ==, -1);
    g_assert_cmpuint(server.received().size(), ==, 1);
}

// Each Generate's results follow the last; each knows its run.
void testGenerationsFollowOneAnother() {
    TestServer server;
    answerGradients(server, 2);
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Generate, s.setup, record.callbacks());
    RunParameters p = parameters("first");
    p.n = 2;
    if (!assertOk(generate(session, record, p, host))) {
        return;
    }
    p.prompt = "second";
    auto second = generate(session, record, p, host);
    if (!assertOk(second)) {
        return;
    }
    g_assert_cmpuint(second->first, ==, 2);
    g_assert_cmpuint(session.resultCount(), ==, 4);
    g_assert_cmpuint(session.generationOf(1), ==, 0);
    g_assert_cmpuint(session.generationOf(2), ==, 1);
    assertEq(session.promptOf(3), "second");
    // Generate results carry their own place: results of two runs go in as one undo step.
    auto report = session.insert({1, 2}, hostOf(host));
    g_assert_cmpuint(report.steps, ==, 1);
    g_assert_cmpuint(host.undoSteps().size(), ==, 1);
}

// The same parameters, once from Script-Fu and once through the session, into two images alike.
struct SameInsert {
    const char* name;
    Procedure procedure;
    int n = 1;
    std::optional<Rect> selection = std::nullopt;
    double feather = -1;
    Margins margins = {};
    Size canvas = {300, 200};
};

const SameInsert kSameInserts[] = {
    {.name = "edit/selection-feathered",
     .procedure = Procedure::Edit,
     .selection = Rect{100, 60, 80, 40},
     .feather = 6},
    {.name = "edit/no-selection-two", .procedure = Procedure::Edit, .n = 2},
    {.name = "generate/selection-three",
     .procedure = Procedure::Generate,
     .n = 3,
     .selection = Rect{30, 20, 90, 150}},
    {.name = "new-image", .procedure = Procedure::NewImage},
    {.name = "expand/wide-border",
     .procedure = Procedure::Expand,
     .margins = {0, 0, 2000, 0},
     .canvas = {200, 100}},
};

// The images of a case, alike: noise, and the case's selection.
void prepareImages(const SameInsert& c, std::initializer_list<FakeHost*> hosts) {
    for (FakeHost* host : hosts) {
        host->fillWithNoise();
        if (c.selection) {
            host->select(*c.selection);
        }
    }
}

RunParameters parametersOf(const SameInsert& c) {
    RunParameters p = c.procedure == Procedure::Expand ? expandParameters(c.margins)
                                                       : parameters("a \"quoted\" kite");
    p.n = c.n;
    p.feather = c.feather;
    return p;
}

void testInsertsAsScriptFu(gconstpointer data) {
    const auto* c = static_cast<const SameInsert*>(data);
    TestServer server;
    answerGradients(server, c->n);
    Setup s(server);
    FakeHost script(c->canvas.width, c->canvas.height);
    FakeHost dialog(c->canvas.width, c->canvas.height);
    prepareImages(*c, {&script, &dialog});
    const RunParameters p = parametersOf(*c);
    if (!assertOk(runProcedure(c->procedure, p, s.setup, script, nullptr))) {
        return;
    }
    const size_t scriptRequests = server.received().size();
    Record record;
    RunSession session(c->procedure, s.setup, record.callbacks());
    auto generated = generate(session, record, p, dialog);
    if (!assertOk(generated)) {
        return;
    }
    g_assert_cmpuint(server.received().size(), ==, 2 * scriptRequests);
    std::vector<size_t> all(session.resultCount());
    for (size_t i = 0; i < all.size(); ++i) {
        all[i] = i;
    }
    auto report = session.insert(all, hostOf(dialog));
    g_assert_false(report.error.has_value());
    assertSameInsert(dialog, script);
    g_assert_true(session.insertedAny());
    g_assert_cmpint(session.inserted().image >= 0 ? 1 : 0, ==,
                    c->procedure == Procedure::NewImage ? 1 : 0);
}

// An expand's tiles report their progress, and each result knows the canvas it was made for.
void testExpandProgressAndCanvas() {
    TestServer server;
    answerGradients(server, 1);
    Setup s(server);
    FakeHost host(200, 100);
    Record record;
    RunSession session(Procedure::Expand, s.setup, record.callbacks());
    if (!assertOk(session.start(expandParameters({0, 0, 2000, 0}), host))) {
        return;
    }
    const auto tiles = session.tiles();
    g_assert_true(tiles.has_value() && tiles->first == 0 && tiles->second == 3);
    assertEq(session.model(), "gpt-image-1");
    g_assert_cmpint(session.partialsExpected(), ==, 0);
    if (!waitFor([&] { return record.done > 0; }) || !assertOk(*record.ended)) {
        return;
    }
    g_assert_true(record.progress == (std::vector<double>{0.0, 1.0 / 3, 2.0 / 3, 1.0}));
    g_assert_false(session.tiles().has_value());
    assertEq(session.model(), "");
    const ExpandPlan* plan = session.expandOf(0);
    if (plan != nullptr) {
        g_assert_true(plan->canvas == (Size{2200, 100}));
        g_assert_true(plan->original == (Rect{0, 0, 200, 100}));
    } else {
        fail(IMAGEGEN_TEST_HERE, "an expand's result has no plan");
    }
    g_assert_cmpuint(host.undoSteps().size(), ==, 0);
    g_assert_cmpint(host.canvas().width, ==, 200);
}

// The results of one expand go in one at a time: the canvas grows once, and the second goes
// into the canvas the first grew.
void testExpandSecondInsertGoesIntoTheGrownCanvas() {
    TestServer server;
    answerGradients(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Expand, s.setup, record.callbacks());
    if (!assertOk(generate(session, record, expandParameters({0, 0, 120, 0}, 2), host))) {
        return;
    }
    for (const size_t result : {size_t{0}, size_t{1}}) {
        auto report = session.insert({result}, hostOf(host));
        if (report.error) {
            fail(IMAGEGEN_TEST_HERE, "refused: " + report.error->message);
        }
    }
    g_assert_cmpint(host.canvas().width, ==, 420);
    g_assert_cmpuint(host.expansions().size(), ==, 1);
    g_assert_cmpuint(host.undoSteps().size(), ==, 2);
}

// Results of two expands chosen together go in by run, one undo step each; the second run's
// canvas is no longer the image's (the first grew it), so its step is refused after the first
// went in, and the report says so.
void testExpandInsertGroupedByRun() {
    TestServer server;
    answerGradients(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Expand, s.setup, record.callbacks());
    for (const Margins m : {Margins{100, 0, 0, 0}, Margins{0, 0, 100, 0}}) {
        if (!assertOk(generate(session, record, expandParameters(m, 2), host))) {
            return;
        }
    }
    g_assert_cmpuint(session.resultCount(), ==, 4);
    auto report = session.insert({0, 1, 2}, hostOf(host));
    g_assert_cmpuint(report.layers, ==, 2);
    g_assert_cmpuint(report.steps, ==, 1);
    if (report.error) {
        g_assert_true(report.error->kind == ErrorKind::InvalidRequest);
    } else {
        fail(IMAGEGEN_TEST_HERE, "the second run's results went into a canvas not theirs");
    }
    if (assertSize(host.undoSteps(), 1)) {
        g_assert_cmpuint(host.undoSteps()[0].size(), ==, 2);
    }
    g_assert_cmpint(host.canvas().width, ==, 400);
    g_assert_cmpuint(session.inserted().layers.size(), ==, 2);
}

// "Insert all" inserts what is not in the image yet; a result already inserted goes in again
// only when chosen by itself.
void testInsertAllSkipsInserted() {
    TestServer server;
    answerGradients(server, 2);
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Edit, s.setup, record.callbacks());
    RunParameters p = parameters();
    p.n = 2;
    if (!assertOk(generate(session, record, p, host))) {
        return;
    }
    g_assert_true(session.notInserted() == (std::vector<size_t>{0, 1}));
    auto first = session.insert({0}, hostOf(host));
    g_assert_true(first.results == std::vector<size_t>{0});
    g_assert_true(session.isInserted(0));
    g_assert_false(session.isInserted(1));
    g_assert_true(session.notInserted() == std::vector<size_t>{1});
    auto all = session.insert(session.notInserted(), hostOf(host));
    g_assert_cmpuint(all.layers, ==, 1);
    g_assert_true(all.results == std::vector<size_t>{1});
    if (assertSize(host.undoSteps(), 2) && assertSize(host.undoSteps()[1], 1)) {
        g_assert_true(host.undoSteps()[1][0].pixels.pixels == session.layer(1).pixels.pixels);
    }
    g_assert_true(session.notInserted().empty());
    // Chosen by itself, an inserted result goes in again.
    auto again = session.insert({0}, hostOf(host));
    g_assert_cmpuint(again.layers, ==, 1);
    g_assert_cmpuint(host.undoSteps().size(), ==, 3);
}

// Every file under `folder`, whole.
std::string allFiles(const std::string& folder) {
    std::string out;
    GDir* dir = g_dir_open(folder.c_str(), 0, nullptr);
    if (dir == nullptr) {
        return out;
    }
    while (const char* name = g_dir_read_name(dir)) {
        const std::string path = folder + "/" + name;
        if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR)) {
            out += allFiles(path);
            continue;
        }
        GCharPtr text;
        gsize length = 0;
        if (g_file_get_contents(path.c_str(), outPtr(text), &length, nullptr)) {
            out.append(text.get(), length);
        }
    }
    g_dir_close(dir);
    return out;
}

// Results kept on disk and restored in a new session (a reopened dialog) go in exactly as the
// fresh ones would have: the same layers, places, masks, names and parasites, the same undo
// steps and canvas. No file of the store holds the key the run was sent with.
void testKeptResultsInsertAsFresh(gconstpointer data) {
    const auto* c = static_cast<const SameInsert*>(data);
    TestServer server;
    answerGradients(server, c->n);
    Setup s(server);
    FakeHost fresh(c->canvas.width, c->canvas.height);
    FakeHost restored(c->canvas.width, c->canvas.height);
    prepareImages(*c, {&fresh, &restored});
    const RunParameters p = parametersOf(*c);
    Record record;
    RunSession first(c->procedure, s.setup, record.callbacks());
    auto generated = generate(first, record, p, fresh);
    if (!assertOk(generated)) {
        return;
    }
    const TempDir dir;
    const ResultHistory history(dir.file("results"));
    std::vector<KeptResult> kept;
    for (size_t i = 0; i < first.resultCount(); ++i) {
        kept.push_back(first.kept(i));
    }
    if (!assertOk(history.add("image:1@100", kept))) {
        return;
    }
    g_assert_true(allFiles(dir.file("results")).find("sk-run-test") == std::string::npos);

    // The dialog reopened: an Edit dialog shows an expand's results too, and inserts them as
    // Expand would.
    Record later;
    RunSession second(c->procedure == Procedure::NewImage ? Procedure::NewImage : Procedure::Edit,
                      s.setup, later.callbacks());
    const auto back = second.restore(history.load("image:1@100"));
    g_assert_cmpuint(back.first, ==, 0);
    g_assert_cmpuint(back.count, ==, first.resultCount());
    g_assert_cmpint(later.done, ==, 0);
    assertEq(second.promptOf(0), first.promptOf(0));
    assertEq(second.idOf(0), first.idOf(0));
    auto reportFresh = first.insert(first.notInserted(), hostOf(fresh));
    auto reportRestored = second.insert(second.notInserted(), hostOf(restored));
    g_assert_false(reportFresh.error.has_value());
    g_assert_false(reportRestored.error.has_value());
    assertSameInsert(restored, fresh);

    // Inserted is kept too: reopened once more, nothing is left for "Insert all".
    std::vector<std::string> ids;
    for (const size_t r : reportRestored.results) {
        ids.push_back(second.idOf(r));
    }
    if (!assertOk(history.markInserted("image:1@100", ids))) {
        return;
    }
    Record third;
    RunSession again(Procedure::Edit, s.setup, third.callbacks());
    again.restore(history.load("image:1@100"));
    g_assert_cmpuint(again.resultCount(), ==, first.resultCount());
    g_assert_true(again.notInserted().empty());
}

// A kept expand result goes in only into a canvas of the size it was made for; else a message
// says why, and the image is untouched.
void testKeptExpandNeedsItsCanvas() {
    TestServer server;
    answerGradients(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession first(Procedure::Expand, s.setup, record.callbacks());
    if (!assertOk(generate(first, record, expandParameters({0, 0, 120, 0}), host))) {
        return;
    }
    Record later;
    RunSession second(Procedure::Expand, s.setup, later.callbacks());
    second.restore({first.kept(0)});
    FakeHost resized(310, 200);
    auto report = second.insert({0}, hostOf(resized));
    if (report.error) {
        assertContains(report.error->message, "size changed");
    } else {
        fail(IMAGEGEN_TEST_HERE, "a kept expand result went into a canvas not its own");
    }
    g_assert_cmpuint(resized.undoSteps().size(), ==, 0);
    g_assert_false(second.isInserted(0));
    g_assert_cmpint(resized.canvas().width, ==, 310);
}

// A refusal that needs no network comes back from start(): nothing starts or is sent.
void testRefusedAtStart() {
    TestServer server;
    answerGradients(server, 1);
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Edit, s.setup, record.callbacks());
    RunParameters p = parameters("");
    assertFails(session.start(p, host), ErrorKind::InvalidRequest);
    g_assert_false(session.running());
    drainMainContext();
    g_assert_cmpint(record.done, ==, 0);
    g_assert_cmpuint(server.received().size(), ==, 0);
    g_assert_cmpint(host.pixelReads(), ==, 0);
}

// One run at a time: a second start while the first is in flight is refused.
void testOneRunAtATime() {
    TestServer server;
    server.holdEvery();
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Edit, s.setup, record.callbacks());
    if (!assertOk(session.start(parameters(), host))) {
        return;
    }
    assertFails(session.start(parameters(), host), ErrorKind::InvalidRequest);
    server.waitForRequest();
    g_assert_true(session.running());
    g_assert_cmpuint(server.received().size(), ==, 1);
}

// A service error ends the run once, with nothing kept; the next run's results start at 0.
void testFailedRunKeepsNothing() {
    TestServer server;
    server.answer(
        {[](SoupServerMessage* msg, const ReceivedRequest&) {
             TestServer::respond(msg, 400, "application/json",
                                 R"({"error":{"message":"bad","type":"invalid_request_error"}})");
         },
         [](SoupServerMessage* msg, const ReceivedRequest&) {
             TestServer::respond(msg, 200, "application/json", gradientsAnswer({1024, 1024}, 1));
         }});
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Edit, s.setup, record.callbacks());
    const Error e =
        assertFails(generate(session, record, parameters(), host), ErrorKind::BadRequest);
    assertContains(e.message, "bad");
    g_assert_cmpuint(session.resultCount(), ==, 0);
    auto next = generate(session, record, parameters(), host);
    if (assertOk(next)) {
        g_assert_cmpuint(next->first, ==, 0);
    }
    drainMainContext();
    g_assert_cmpint(record.done, ==, 2);
}

// Cancel ends the run as Cancelled, once, from the main loop; the image is untouched.
void testCancel(gconstpointer data) {
    const bool expand = *static_cast<const bool*>(data);
    TestServer server;
    server.holdEvery();
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(expand ? Procedure::Expand : Procedure::Edit, s.setup, record.callbacks());
    const RunParameters p = expand ? expandParameters({0, 0, 100, 0}) : parameters();
    if (!assertOk(session.start(p, host))) {
        return;
    }
    server.waitForRequest();
    session.cancel();
    g_assert_cmpint(record.done, ==, 0); // from the main loop, not inside cancel()
    if (!waitFor([&] { return record.done > 0; })) {
        return;
    }
    assertFails(*record.ended, ErrorKind::Cancelled);
    g_assert_false(session.running());
    session.cancel(); // after the end: nothing
    drainMainContext();
    g_assert_cmpint(record.done, ==, 1);
    g_assert_cmpuint(session.resultCount(), ==, 0);
    g_assert_cmpuint(host.undoSteps().size(), ==, 0);
    g_assert_cmpint(host.canvas().width, ==, 300);
}

// A dialog closed mid-run: stop() (or the session's end) drops the run, and nothing of it
// reports afterwards.
void testStopDropsTheRun(gconstpointer data) {
    const bool destroy = *static_cast<const bool*>(data);
    TestServer server;
    server.holdEvery();
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    auto session = std::make_unique<RunSession>(Procedure::Edit, s.setup, record.callbacks());
    if (!assertOk(session->start(parameters(), host))) {
        return;
    }
    server.waitForRequest();
    if (destroy) {
        session.reset();
    } else {
        session->stop();
        g_assert_false(session->running());
    }
    drainMainContext();
    g_assert_cmpint(record.done, ==, 0);
    g_assert_true(record.progress.empty());
}

// A stand-in for the Azure CLI that answers only once the test's main loop has run a callback
// (which creates `go`): a lookup that blocked the main loop would never see it. It says when it
// has started (`started`), and gives up after 5 s, so that a blocking lookup fails the test
// rather than hanging it.
struct WaitingAz {
    TempDir dir;
    std::string script = dir.file("az");
    std::string go = dir.file("go");
    std::string started = dir.file("started");

    WaitingAz() {
        const std::string text =
            "#!/bin/sh\n: > '" + started + "'\ni=0\nwhile [ ! -e '" + go +
            "' ]; do i=$((i+1)); [ $i -gt 50 ] && exit 3; sleep 0.1; done\n"
            "printf '{\"accessToken\":\"entra-from-cli\",\"expires_on\":2000000000}'\n";
        g_assert_true(g_file_set_contents(script.c_str(), text.c_str(), -1, nullptr));
        g_chmod(script.c_str(), 0755);
    }
    void letAnswer() const { g_assert_true(g_file_set_contents(go.c_str(), "", 0, nullptr)); }
    [[nodiscard]] bool hasStarted() const {
        return g_file_test(started.c_str(), G_FILE_TEST_EXISTS);
    }
};

// A saved connection that authenticates with Entra ID through the Azure CLI (the stand-in).
void useEntraConnection(Setup& s, const TestServer& server, const WaitingAz& az) {
    s.saveConnection("entra", server.url("/v1"), AuthMethod::EntraId);
    s.setup.tokens = std::make_shared<EntraTokenSource>(std::vector<std::string>{az.script});
}

// The Entra ID token is fetched off the main loop: the main loop runs (a callback lets the CLI
// answer) before the token arrives, and the request then carries it.
void testEntraTokenOffTheMainLoop() {
    TestServer server;
    std::vector<std::string> events;
    server.answerAlways([&events](SoupServerMessage* msg, const ReceivedRequest& req) {
        events.emplace_back("request");
        TestServer::respond(msg, 200, "application/json", gradientsAnswer(sizeAsked(req), 1));
    });
    Setup s(server, {{"IMAGEGEN_TEST", "1"}}); // no key, no token in the environment
    WaitingAz az;
    useEntraConnection(s, server, az);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Edit, s.setup, record.callbacks());
    struct Tick {
        const WaitingAz& az;
        std::vector<std::string>& events;
        SourceId idle;
    } tick{az, events, {}};
    tick.idle.reset(g_idle_add(
        +[](gpointer data) -> gboolean {
            auto* t = static_cast<Tick*>(data);
            t->idle.forget();
            t->events.emplace_back("main loop ran");
            t->az.letAnswer();
            return G_SOURCE_REMOVE;
        },
        &tick));
    auto ended = generate(session, record, parameters(), host);
    if (!assertOk(ended)) {
        return;
    }
    g_assert_true(events == (std::vector<std::string>{"main loop ran", "request"}));
    if (assertSize(server.received(), 1)) {
        assertEq(server.received()[0].header("authorization"), "Bearer entra-from-cli");
    }
}

// A cancel (the dialog's Cancel or Escape) while the token is awaited ends the run as a cancel,
// with nothing sent; a dialog closed meanwhile hears nothing more of the run.
void testCancelWhileTheTokenIsAwaited(gconstpointer data) {
    const bool close = *static_cast<const bool*>(data);
    TestServer server;
    answerGradients(server, 1);
    Setup s(server, {{"IMAGEGEN_TEST", "1"}});
    WaitingAz az;
    useEntraConnection(s, server, az);
    FakeHost host(300, 200);
    Record record;
    auto session = std::make_unique<RunSession>(Procedure::Edit, s.setup, record.callbacks());
    if (!assertOk(session->start(parameters(), host))) {
        return;
    }
    if (!waitFor([&] { return az.hasStarted(); })) {
        return;
    }
    if (close) {
        session.reset();
        az.letAnswer(); // the worker may finish: nothing of the closed dialog hears it
        drainMainContext();
        g_assert_cmpint(record.done, ==, 0);
    } else {
        session->cancel();
        g_assert_cmpint(record.done, ==, 0); // from the main loop, not inside cancel()
        if (!waitFor([&] { return record.done > 0; })) {
            return;
        }
        assertFails(*record.ended, ErrorKind::Cancelled);
        g_assert_false(session->running());
    }
    drainMainContext();
    g_assert_cmpuint(server.received().size(), ==, 0);
    g_assert_cmpuint(host.undoSteps().size(), ==, 0);
}

// Streamed partial images reach the caller decoded, with the number the run expects.
void testPartialImages() {
    TestServer server;
    server.answerAlways([](SoupServerMessage* msg, const ReceivedRequest&) {
        RgbaImage partialImage(6, 4);
        const auto partialPng = encodePng(partialImage);
        const GCharPtr partial(g_base64_encode(reinterpret_cast<const guchar*>(partialPng->data()),
                                               partialPng->size()));
        const auto finalPng = encodePng(RgbaImage(1024, 1024));
        const GCharPtr final(
            g_base64_encode(reinterpret_cast<const guchar*>(finalPng->data()), finalPng->size()));
        TestServer::respond(
            msg, 200, "text/event-stream",
            std::string("event: image_edit.partial_image\ndata: ") +
                R"({"type":"image_edit.partial_image","b64_json":"bm90IGEgcG5n","partial_image_index":0})" +
                "\n\nevent: image_edit.partial_image\ndata: " +
                R"({"type":"image_edit.partial_image","partial_image_index":1,"b64_json":")" +
                partial.get() + "\"}\n\nevent: image_edit.completed\ndata: " +
                R"({"type":"image_edit.completed","b64_json":")" + final.get() + "\"}\n\n");
    });
    Setup s(server);
    FakeHost host(300, 200);
    Record record;
    RunSession session(Procedure::Edit, s.setup, record.callbacks());
    RunParameters p = parameters();
    p.options = optionsOf(R"({"stream":true,"partial_images":2})");
    if (!assertOk(session.start(p, host))) {
        return;
    }
    g_assert_cmpint(session.partialsExpected(), ==, 2);
    if (!waitFor([&] { return record.done > 0; }) || !assertOk(*record.ended)) {
        return;
    }
    // The broken one is skipped: it was only a preview.
    if (assertSize(record.partials, 1)) {
        g_assert_true(record.partials[0] == (Size{6, 4}));
    }
    g_assert_cmpuint(session.resultCount(), ==, 1);
}

// The data of the tests that take a yes or no.
constexpr bool kNo = false;
constexpr bool kYes = true;

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/run-session/results-kept-until-inserted", testResultsKeptUntilInserted);
    g_test_add_func("/run-session/generations-follow-one-another", testGenerationsFollowOneAnother);
    for (const auto& c : kSameInserts) {
        g_test_add_data_func((std::string("/run-session/inserts-as-script-fu/") + c.name).c_str(),
                             &c, testInsertsAsScriptFu);
    }
    g_test_add_func("/run-session/expand/progress-and-canvas", testExpandProgressAndCanvas);
    g_test_add_func("/run-session/expand/second-insert-into-the-grown-canvas",
                    testExpandSecondInsertGoesIntoTheGrownCanvas);
    g_test_add_func("/run-session/expand/insert-grouped-by-run", testExpandInsertGroupedByRun);
    g_test_add_func("/run-session/refused-at-start", testRefusedAtStart);
    g_test_add_func("/run-session/one-run-at-a-time", testOneRunAtATime);
    g_test_add_func("/run-session/failed-run-keeps-nothing", testFailedRunKeepsNothing);
    g_test_add_data_func("/run-session/cancel/edit", &kNo, testCancel);
    g_test_add_data_func("/run-session/cancel/expand", &kYes, testCancel);
    g_test_add_data_func("/run-session/stop-drops-the-run", &kNo, testStopDropsTheRun);
    g_test_add_data_func("/run-session/end-drops-the-run", &kYes, testStopDropsTheRun);
    g_test_add_func("/run-session/partial-images", testPartialImages);
    g_test_add_func("/run-session/entra-token-off-the-main-loop", testEntraTokenOffTheMainLoop);
    g_test_add_data_func("/run-session/cancel-while-the-token-is-awaited", &kNo,
                         testCancelWhileTheTokenIsAwaited);
    g_test_add_data_func("/run-session/closed-while-the-token-is-awaited", &kYes,
                         testCancelWhileTheTokenIsAwaited);
    g_test_add_func("/run-session/insert-all-skips-inserted", testInsertAllSkipsInserted);
    for (const auto& c : kSameInserts) {
        g_test_add_data_func((std::string("/run-session/kept/inserts-as-fresh/") + c.name).c_str(),
                             &c, testKeptResultsInsertAsFresh);
    }
    g_test_add_func("/run-session/kept/expand-needs-its-canvas", testKeptExpandNeedsItsCanvas);
    return g_test_run();
}
