// The files the plug-in reads (saved connections, prompt history, model table, presets) cannot
// stall a call or fill memory: a FIFO, a link to /dev/zero, a folder and an oversize file are
// refused with a message naming the file; a link to a regular file is followed, as users make
// them. The saved connections are the user's alone (0600), as the history is.
#include "core/service/connection.h"
#include "core/service/models.h"
#include "core/service/request_encoding.h"
#include "core/user/presets.h"
#include "core/user/prompt_history.h"
#include "core/util/glib_ptr.h"
#include "core/util/local_file.h"
#include "temp_dir.h"
#include "test_util.h"

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>

using namespace imagegen;
using namespace imagegen::test;

namespace {

// The shapes a file that is not a small regular file can take, made at `path`.
enum class Shape { Fifo, DevZeroLink, Folder, Oversize };

bool make(Shape shape, const std::string& path) {
    switch (shape) {
    case Shape::Fifo:
        return mkfifo(path.c_str(), 0600) == 0;
    case Shape::DevZeroLink:
        return symlink("/dev/zero", path.c_str()) == 0;
    case Shape::Folder:
        return g_mkdir(path.c_str(), 0700) == 0;
    case Shape::Oversize: {
        const std::string text(kMaxLocalFileBytes + 1, '#');
        return g_file_set_contents(path.c_str(), text.c_str(), static_cast<gssize>(text.size()),
                                   nullptr) != FALSE;
    }
    }
    return false;
}

struct ShapeCase {
    const char* name;
    Shape shape;
    const char* says; // what the reason says
};

const ShapeCase kShapes[] = {
    {"fifo", Shape::Fifo, "not a regular file"},
    {"link-to-dev-zero", Shape::DevZeroLink, "not a regular file"},
    {"folder", Shape::Folder, "not a regular file"},
    {"oversize", Shape::Oversize, "more than 1.0 MB"},
};

void testShapeRefused(gconstpointer data) {
    const auto& c = *static_cast<const ShapeCase*>(data);
    TempDir dir;
    const std::string path = dir.file("file");
    g_assert_true(make(c.shape, path));
    const Error e = assertFails(readSmallRegularFile(path), ErrorKind::Configuration);
    assertContains(e.message, c.says);
}

void testRegularAndLinkedFilesRead() {
    TempDir dir;
    const std::string path = dir.file("connections.ini");
    g_assert_true(g_file_set_contents(path.c_str(), "[general]\n", -1, nullptr));
    auto read = readSmallRegularFile(path);
    if (assertOk(read) && (*read).has_value()) {
        assertEq(**read, "[general]\n");
    }
    // A link to a regular file, as a user keeps a dotfile elsewhere: followed.
    g_assert_cmpint(symlink(path.c_str(), dir.file("link.ini").c_str()), ==, 0);
    auto linked = readSmallRegularFile(dir.file("link.ini"));
    if (assertOk(linked) && (*linked).has_value()) {
        assertEq(**linked, "[general]\n");
    }
    // Exactly at the bound: read.
    const std::string full(kMaxLocalFileBytes, 'x');
    g_assert_true(g_file_set_contents(path.c_str(), full.c_str(), -1, nullptr));
    auto atBound = readSmallRegularFile(path);
    if (assertOk(atBound) && (*atBound).has_value()) {
        g_assert_cmpuint((*atBound)->size(), ==, kMaxLocalFileBytes);
    }
    // No file: nothing, not an error.
    auto missing = readSmallRegularFile(dir.file("none.ini"));
    if (assertOk(missing)) {
        g_assert_false((*missing).has_value());
    }
}

// Each reader of a local file, given one that is not a small regular file: a message naming the
// file (or, for the history, an empty history and the message), at once.
struct Reader {
    const char* name;
    std::function<std::optional<Error>(const std::string&)> read;
};

const Reader kReaders[] = {
    {"connections",
     [](const std::string& path) -> std::optional<Error> {
         auto store = ConnectionStore::load(path);
         return store ? std::nullopt : std::optional<Error>(store.error());
     }},
    {"prompt-history",
     [](const std::string& path) {
         std::optional<Error> refused;
         const PromptHistory h = PromptHistory::load(path, &refused);
         g_assert_true(h.entries().empty());
         return refused;
     }},
    {"model-table",
     [](const std::string& path) -> std::optional<Error> {
         auto catalog = ModelCatalog::fromFile(path);
         return catalog ? std::nullopt : std::optional<Error>(catalog.error());
     }},
    {"presets",
     [](const std::string& path) -> std::optional<Error> {
         auto presets = loadPresets(path);
         return presets ? std::nullopt : std::optional<Error>(presets.error());
     }},
    // The TLS library reads the CA file a connection names: it is checked before (its bound,
    // 8 MB, is not reached by the oversize shape).
    {"ca-file",
     [](const std::string& path) -> std::optional<Error> {
         Connection c;
         c.name = "local";
         c.kind = ConnectionKind::Compatible;
         c.endpoint = "http://127.0.0.1:8080/v1";
         c.caFile = path;
         ImageRequest r;
         r.model = "gpt-image-1";
         r.prompt = "p";
         auto request = buildImagesRequest(c, {AuthMethod::BearerKey, "k"}, r);
         return request ? std::nullopt : std::optional<Error>(request.error());
     }},
};

struct ReaderCase {
    const Reader* reader;
    const ShapeCase* shape;
};

void testReaderRefuses(gconstpointer data) {
    const auto& c = *static_cast<const ReaderCase*>(data);
    TempDir dir;
    const std::string path = dir.file("file");
    g_assert_true(make(c.shape->shape, path));
    const std::optional<Error> refused = c.reader->read(path);
    if (!refused) {
        fail(IMAGEGEN_TEST_HERE, std::string(c.reader->name) + " read " + c.shape->name);
        return;
    }
    g_assert_true(refused->kind == ErrorKind::Configuration);
    assertContains(refused->message, path);
    assertContains(refused->message, c.shape->says);
}

void testConnectionsSavedForTheUserAlone() {
    TempDir dir;
    const std::string path = dir.file("imagegen/connections.ini");
    ConnectionStore store;
    Connection c;
    c.name = "local";
    c.kind = ConnectionKind::Compatible;
    c.endpoint = "http://127.0.0.1:8080/v1";
    store.put(c);
    const mode_t old = umask(022);
    const Status saved = store.save(path);
    umask(old);
    if (!assertOk(saved)) {
        return;
    }
    GStatBuf st;
    g_assert_cmpint(g_stat(path.c_str(), &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    auto loaded = ConnectionStore::load(path);
    if (assertOk(loaded)) {
        g_assert_nonnull(loaded->find("local"));
    }
}

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/local-file/regular-and-linked-files-read", testRegularAndLinkedFilesRead);
    for (const auto& shape : kShapes) {
        g_test_add_data_func((std::string("/local-file/refused/") + shape.name).c_str(), &shape,
                             testShapeRefused);
    }
    static std::vector<ReaderCase> readerCases;
    readerCases.reserve(std::size(kReaders) * std::size(kShapes));
    for (const auto& reader : kReaders) {
        for (const auto& shape : kShapes) {
            if (shape.shape == Shape::Oversize && std::string(reader.name) == "ca-file") {
                continue;
            }
            readerCases.push_back({&reader, &shape});
            g_test_add_data_func(
                (std::string("/local-file/readers/") + reader.name + "/" + shape.name).c_str(),
                &readerCases.back(), testReaderRefuses);
        }
    }
    g_test_add_func("/local-file/connections-saved-0600", testConnectionsSavedForTheUserAlone);
    return g_test_run();
}
