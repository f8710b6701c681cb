#include "core/user/result_history.h"

#include "core/pixels/codec.h"
#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"
#include "core/util/local_file.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <set>
#include <utility>

namespace imagegen {

namespace {

constexpr const char* kFormat = "imagegen-results";
constexpr int64_t kVersion = 1;
constexpr const char* kIndex = "index.json";
constexpr size_t kMaxIdLength = 64;
// The index holds no pixels: a few kilobytes a result (the parasite and settings are text).
constexpr size_t kMaxIndexBytes = size_t{1} << 20;
// A folder of this store is named by this many hex digits of the key's SHA-256.
constexpr size_t kFolderNameLength = 32;

// One result as the index has it: everything but the pixels, and the bytes its files take.
struct Entry {
    KeptResult meta; // layer.pixels and layer.mask empty
    bool hasMask = false;
    uint64_t bytes = 0;
};

constexpr std::array<std::pair<Procedure, const char*>, 4> kProcedures{{
    {Procedure::Edit, "edit"},
    {Procedure::Generate, "generate"},
    {Procedure::NewImage, "new-image"},
    {Procedure::Expand, "expand"},
}};

const char* procedureName(Procedure p) {
    for (const auto& [procedure, name] : kProcedures) {
        if (procedure == p) {
            return name;
        }
    }
    return "edit";
}

std::optional<Procedure> procedureNamed(const std::string& text) {
    for (const auto& [procedure, name] : kProcedures) {
        if (text == name) {
            return procedure;
        }
    }
    return std::nullopt;
}

// The ID names files in the folder: nothing in it may reach outside (no '/', no '.').
bool validId(const std::string& id) {
    return !id.empty() && id.size() <= kMaxIdLength &&
           std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
           });
}

std::string pixelsFile(const std::string& id) {
    return id + ".png";
}

std::string maskFile(const std::string& id) {
    return id + ".mask.png";
}

Error cannotKeep(const std::string& path, const std::string& reason) {
    return makeError(ErrorKind::Configuration, textf(_("The results could not be kept in %s: %s."),
                                                     path.c_str(), reason.c_str()));
}

// Written as g_file_set_contents writes (a new file renamed over the old, so a crash leaves the
// old one or the new, never half of one), readable by the user alone: results and prompts can
// be private.
Status writeFile(const std::string& path, const std::string& data) {
    GErrorPtr error;
    const auto flags = static_cast<GFileSetContentsFlags>(G_FILE_SET_CONTENTS_CONSISTENT |
                                                          G_FILE_SET_CONTENTS_DURABLE);
    if (!g_file_set_contents_full(path.c_str(), data.data(), static_cast<gssize>(data.size()),
                                  flags, 0600, outPtr(error))) {
        return cannotKeep(path, error->message);
    }
    return Ok{};
}

uint64_t fileSize(const std::string& path) {
    GStatBuf st;
    if (g_lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    return static_cast<uint64_t>(st.st_size);
}

// ------------------------------------------------------------------ JSON

void addInts(JsonBuilder* b, const char* name, std::initializer_list<int64_t> values) {
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (const int64_t v : values) {
        json_builder_add_int_value(b, v);
    }
    json_builder_end_array(b);
}

void addString(JsonBuilder* b, const char* name, const std::string& value) {
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value.c_str());
}

void addInt(JsonBuilder* b, const char* name, int64_t value) {
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

void addDouble(JsonBuilder* b, const char* name, double value) {
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, value);
}

void addBool(JsonBuilder* b, const char* name, bool value) {
    json_builder_set_member_name(b, name);
    json_builder_add_boolean_value(b, value ? TRUE : FALSE);
}

// `count` whole numbers, or nothing when the member is anything else.
std::optional<std::vector<int>> ints(JsonObject* o, const char* name, size_t count) {
    JsonArray* a = json::array(o, name);
    if (a == nullptr || json_array_get_length(a) != count) {
        return std::nullopt;
    }
    std::vector<int> out;
    for (guint i = 0; i < count; ++i) {
        JsonNode* n = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
            return std::nullopt;
        }
        const gint64 v = json_node_get_int(n);
        if (v < -(int64_t{1} << 30) || v > (int64_t{1} << 30)) {
            return std::nullopt;
        }
        out.push_back(static_cast<int>(v));
    }
    return out;
}

void addSettings(JsonBuilder* b, const RunParameters& p) {
    json_builder_set_member_name(b, "settings");
    json_builder_begin_object(b);
    addString(b, "prompt", p.prompt);
    addString(b, "model", p.model);
    addInt(b, "n", p.n);
    addString(b, "size", p.size);
    addString(b, "quality", p.quality);
    addDouble(b, "context", p.context);
    addDouble(b, "feather", p.feather);
    addString(b, "style", p.style);
    addInts(b, "margins", {p.left, p.top, p.right, p.bottom});
    // A connection's name only: its key lives in the keyring or the environment.
    addString(b, "connection", p.connection);
    addString(b, "options", optionsToJson(p.options));
    json_builder_end_object(b);
}

RunParameters readSettings(JsonObject* s) {
    RunParameters p;
    p.prompt = json::string(s, "prompt").value_or("");
    p.model = json::string(s, "model").value_or("");
    p.n = static_cast<int>(std::clamp<int64_t>(json::integer(s, "n").value_or(-1), -1, 10));
    p.size = json::string(s, "size").value_or("");
    p.quality = json::string(s, "quality").value_or("");
    p.context = json::number(s, "context").value_or(-1);
    p.feather = json::number(s, "feather").value_or(-1);
    p.style = json::string(s, "style").value_or("");
    if (const auto m = ints(s, "margins", 4)) {
        p.left = (*m)[0];
        p.top = (*m)[1];
        p.right = (*m)[2];
        p.bottom = (*m)[3];
    }
    p.connection = json::string(s, "connection").value_or("");
    if (const std::string options = json::string(s, "options").value_or(""); !options.empty()) {
        if (auto parsed = parseOptions(options)) {
            p.options = std::move(*parsed);
        }
    }
    return p;
}

void addEntry(JsonBuilder* b, const Entry& e) {
    const KeptResult& r = e.meta;
    json_builder_begin_object(b);
    addString(b, "id", r.id);
    addString(b, "run", r.run);
    addInt(b, "created", r.created);
    addString(b, "procedure", procedureName(r.procedure));
    addString(b, "name", r.layer.name);
    const Rect& o = r.layer.bounds;
    addInts(b, "bounds", {o.x, o.y, o.width, o.height});
    addBool(b, "mask", e.hasMask);
    addString(b, "parasite", r.layer.parasite);
    addSettings(b, r.settings);
    json_builder_set_member_name(b, "usage");
    json_builder_begin_object(b);
    addBool(b, "present", r.usage.present);
    addInt(b, "total_tokens", r.usage.totalTokens);
    addInt(b, "input_tokens", r.usage.inputTokens);
    addInt(b, "output_tokens", r.usage.outputTokens);
    addInt(b, "text_tokens", r.usage.textTokens);
    addInt(b, "image_tokens", r.usage.imageTokens);
    json_builder_end_object(b);
    if (r.procedure == Procedure::Expand) {
        addInts(b, "canvas", {r.canvas.width, r.canvas.height});
        addInts(b, "original", {r.original.x, r.original.y, r.original.width, r.original.height});
    }
    addBool(b, "inserted", r.inserted);
    addInt(b, "bytes", static_cast<int64_t>(e.bytes));
    json_builder_end_object(b);
}

std::optional<Entry> readEntry(JsonObject* o) {
    Entry e;
    KeptResult& r = e.meta;
    r.id = json::string(o, "id").value_or("");
    const auto procedure = procedureNamed(json::string(o, "procedure").value_or(""));
    const auto bounds = ints(o, "bounds", 4);
    if (!validId(r.id) || !procedure || !bounds) {
        return std::nullopt;
    }
    r.procedure = *procedure;
    r.layer.bounds = {(*bounds)[0], (*bounds)[1], (*bounds)[2], (*bounds)[3]};
    if (r.layer.bounds.empty()) {
        return std::nullopt;
    }
    r.run = json::string(o, "run").value_or(r.id);
    r.created = json::integer(o, "created").value_or(0);
    r.layer.name = json::string(o, "name").value_or("");
    r.layer.parasite = json::string(o, "parasite").value_or("");
    e.hasMask = json::boolean(o, "mask").value_or(false);
    if (JsonObject* s = json::object(o, "settings")) {
        r.settings = readSettings(s);
    }
    if (JsonObject* u = json::object(o, "usage")) {
        r.usage.present = json::boolean(u, "present").value_or(false);
        r.usage.totalTokens = json::integer(u, "total_tokens").value_or(0);
        r.usage.inputTokens = json::integer(u, "input_tokens").value_or(0);
        r.usage.outputTokens = json::integer(u, "output_tokens").value_or(0);
        r.usage.textTokens = json::integer(u, "text_tokens").value_or(0);
        r.usage.imageTokens = json::integer(u, "image_tokens").value_or(0);
    }
    if (r.procedure == Procedure::Expand) {
        const auto canvas = ints(o, "canvas", 2);
        const auto original = ints(o, "original", 4);
        if (!canvas || !original) {
            return std::nullopt; // an expand's result cannot go in without its canvas
        }
        r.canvas = {(*canvas)[0], (*canvas)[1]};
        r.original = {(*original)[0], (*original)[1], (*original)[2], (*original)[3]};
    }
    r.inserted = json::boolean(o, "inserted").value_or(false);
    e.bytes = static_cast<uint64_t>(std::max<int64_t>(0, json::integer(o, "bytes").value_or(0)));
    return e;
}

// The entries of `folder`'s index, when it is this store's index for `image`; else none.
std::vector<Entry> readIndex(const std::string& folder, const std::string& image) {
    std::vector<Entry> entries;
    auto contents = readSmallRegularFile(folder + "/" + kIndex, kMaxIndexBytes);
    if (!contents || !*contents) {
        return entries;
    }
    auto document = json::parseObject(**contents);
    if (!document) {
        return entries;
    }
    JsonObject* root = document->root();
    // Another program's file, a later format, or another image whose key hashed alike.
    if (json::string(root, "format").value_or("") != kFormat ||
        json::integer(root, "version").value_or(0) != kVersion ||
        json::string(root, "image").value_or("") != image) {
        return entries;
    }
    JsonArray* results = json::array(root, "results");
    const guint count = results != nullptr ? json_array_get_length(results) : 0;
    std::set<std::string> seen;
    for (guint i = 0; i < count; ++i) {
        JsonNode* node = json_array_get_element(results, i);
        if (!JSON_NODE_HOLDS_OBJECT(node)) {
            continue;
        }
        auto entry = readEntry(json_node_get_object(node));
        if (entry && seen.insert(entry->meta.id).second) {
            entries.push_back(std::move(*entry));
        }
    }
    return entries;
}

Status writeIndex(const std::string& folder, const std::string& image,
                  const std::vector<Entry>& entries) {
    auto builder = adoptRef(json_builder_new());
    JsonBuilder* b = builder.get();
    json_builder_begin_object(b);
    addString(b, "format", kFormat);
    addInt(b, "version", kVersion);
    addString(b, "image", image);
    json_builder_set_member_name(b, "results");
    json_builder_begin_array(b);
    for (const auto& e : entries) {
        addEntry(b, e);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return writeFile(folder + "/" + kIndex, json::builderText(b));
}

// The mask as a grey PNG: the codec writes RGBA, and the mask is the red channel.
RgbaImage maskImage(const std::vector<uint8_t>& mask, Rect bounds) {
    RgbaImage image(bounds.width, bounds.height);
    for (size_t i = 0; i < mask.size() && i * 4 + 3 < image.pixels.size(); ++i) {
        image.pixels[i * 4] = image.pixels[i * 4 + 1] = image.pixels[i * 4 + 2] = mask[i];
        image.pixels[i * 4 + 3] = 255;
    }
    return image;
}

// A PNG of exactly `bounds`' size, or nothing.
std::optional<RgbaImage> readPng(const std::string& path, Rect bounds, uint64_t maxBytes) {
    auto bytes = readSmallRegularFile(path, static_cast<size_t>(maxBytes));
    if (!bytes || !*bytes) {
        return std::nullopt;
    }
    auto info = probeImage(**bytes);
    if (!info || info->format != ImageFormat::Png || info->width != bounds.width ||
        info->height != bounds.height) {
        return std::nullopt;
    }
    auto image = decodeImage(**bytes, static_cast<int64_t>(bounds.width) * bounds.height);
    if (!image || image->width != bounds.width || image->height != bounds.height) {
        return std::nullopt;
    }
    return std::move(*image);
}

bool isStoreFolderName(const char* name) {
    const std::string n = name;
    return n.size() == kFolderNameLength && std::all_of(n.begin(), n.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// Removes the files of `folder` this store wrote (a result's PNGs, the index) except those
// `keep` names; anything else in it is not the store's and stays.
void removeFiles(const std::string& folder, const std::set<std::string>& keep, bool index) {
    GDir* dir = g_dir_open(folder.c_str(), 0, nullptr);
    if (dir == nullptr) {
        return;
    }
    std::vector<std::string> doomed;
    while (const char* name = g_dir_read_name(dir)) {
        const std::string n = name;
        const bool png =
            n.size() > 4 && n.ends_with(".png") && validId(n.substr(0, n.find('.'))) &&
            (n == pixelsFile(n.substr(0, n.find('.'))) || n == maskFile(n.substr(0, n.find('.'))));
        if ((png && keep.count(n) == 0) || (index && n == kIndex)) {
            doomed.push_back(n);
        }
    }
    g_dir_close(dir);
    for (const auto& n : doomed) {
        const GCharPtr path(g_build_filename(folder.c_str(), n.c_str(), nullptr));
        g_unlink(path.get());
    }
}

// Bytes of the regular files directly in `folder`.
uint64_t folderBytes(const std::string& folder) {
    uint64_t total = 0;
    GDir* dir = g_dir_open(folder.c_str(), 0, nullptr);
    if (dir == nullptr) {
        return 0;
    }
    while (const char* name = g_dir_read_name(dir)) {
        total += fileSize(folder + "/" + name);
    }
    g_dir_close(dir);
    return total;
}

} // namespace

std::string ResultHistory::folderOf(const std::string& image) const {
    const GCharPtr sum(g_compute_checksum_for_string(G_CHECKSUM_SHA256, image.c_str(), -1));
    return folder_ + "/" + std::string(sum.get()).substr(0, kFolderNameLength);
}

std::string ResultHistory::newRunId() {
    const GCharPtr id(g_strdup_printf("%" G_GINT64_MODIFIER "x-%08x", g_get_real_time(),
                                      static_cast<unsigned>(g_random_int())));
    return id.get();
}

std::vector<KeptResult> ResultHistory::load(const std::string& image) const {
    const std::string folder = folderOf(image);
    std::vector<KeptResult> out;
    for (auto& entry : readIndex(folder, image)) {
        KeptResult r = std::move(entry.meta);
        auto pixels =
            readPng(folder + "/" + pixelsFile(r.id), r.layer.bounds, limits_.bytesPerImage);
        if (!pixels) {
            continue; // its pixels are gone or damaged: nothing to insert
        }
        r.layer.pixels = std::move(*pixels);
        if (entry.hasMask) {
            auto mask =
                readPng(folder + "/" + maskFile(r.id), r.layer.bounds, limits_.bytesPerImage);
            if (!mask) {
                continue; // without its mask it would cover more than it was made for
            }
            r.layer.mask.resize(static_cast<size_t>(mask->width) * mask->height);
            for (size_t i = 0; i < r.layer.mask.size(); ++i) {
                r.layer.mask[i] = mask->pixels[i * 4];
            }
        }
        out.push_back(std::move(r));
    }
    return out;
}

Status ResultHistory::add(const std::string& image, const std::vector<KeptResult>& results) const {
    const std::string folder = folderOf(image);
    if (g_mkdir_with_parents(folder.c_str(), 0700) != 0) {
        return cannotKeep(folder, g_strerror(errno));
    }
    std::vector<Entry> entries = readIndex(folder, image);
    std::set<std::string> ids;
    for (const auto& e : entries) {
        ids.insert(e.meta.id);
    }
    for (const auto& r : results) {
        if (!validId(r.id) || ids.count(r.id) != 0 || r.layer.bounds.empty()) {
            continue;
        }
        // Pixels first, the index that names them last: a crash between leaves unnamed files,
        // which the next add removes.
        auto png = encodePng(r.layer.pixels);
        if (!png) {
            return cannotKeep(folder, png.error().message);
        }
        Entry e;
        e.bytes = png->size();
        if (auto written = writeFile(folder + "/" + pixelsFile(r.id), *png); !written) {
            return written.error();
        }
        if (!r.layer.mask.empty()) {
            auto mask = encodePng(maskImage(r.layer.mask, r.layer.bounds));
            if (!mask) {
                return cannotKeep(folder, mask.error().message);
            }
            if (auto written = writeFile(folder + "/" + maskFile(r.id), *mask); !written) {
                return written.error();
            }
            e.bytes += mask->size();
            e.hasMask = true;
        }
        e.meta = r;
        e.meta.layer.pixels = {};
        e.meta.layer.mask.clear();
        ids.insert(r.id);
        entries.push_back(std::move(e));
    }
    // This image's oldest go first, beyond the count or the bytes.
    uint64_t bytes = 0;
    for (const auto& e : entries) {
        bytes += e.bytes;
    }
    size_t drop = 0;
    while (drop < entries.size() &&
           (entries.size() - drop > limits_.perImage || bytes > limits_.bytesPerImage)) {
        bytes -= entries[drop].bytes;
        ++drop;
    }
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(drop));
    if (auto written = writeIndex(folder, image, entries); !written) {
        return written.error();
    }
    std::set<std::string> keep;
    for (const auto& e : entries) {
        keep.insert(pixelsFile(e.meta.id));
        if (e.hasMask) {
            keep.insert(maskFile(e.meta.id));
        }
    }
    removeFiles(folder, keep, false);

    // Then other images' folders, the least recently written first, until all fit.
    struct Other {
        std::string path;
        gint64 written = 0;
        uint64_t bytes = 0;
    };
    std::vector<Other> others;
    uint64_t total = 0;
    GDir* dir = g_dir_open(folder_.c_str(), 0, nullptr);
    if (dir != nullptr) {
        while (const char* name = g_dir_read_name(dir)) {
            if (!isStoreFolderName(name)) {
                continue;
            }
            Other o{folder_ + "/" + name, 0, 0};
            o.bytes = folderBytes(o.path);
            total += o.bytes;
            GStatBuf st;
            if (g_stat((o.path + "/" + kIndex).c_str(), &st) == 0) {
                o.written = static_cast<gint64>(st.st_mtime);
            }
            if (o.path != folder) {
                others.push_back(std::move(o));
            }
        }
        g_dir_close(dir);
    }
    std::sort(others.begin(), others.end(),
              [](const Other& a, const Other& b) { return a.written < b.written; });
    for (const auto& o : others) {
        if (total <= limits_.totalBytes) {
            break;
        }
        removeFiles(o.path, {}, true);
        g_rmdir(o.path.c_str()); // fails, and stays, when it holds files not the store's
        total -= std::min(total, o.bytes);
    }
    return Ok{};
}

Status ResultHistory::markInserted(const std::string& image,
                                   const std::vector<std::string>& ids) const {
    const std::string folder = folderOf(image);
    std::vector<Entry> entries = readIndex(folder, image);
    bool changed = false;
    for (auto& e : entries) {
        if (!e.meta.inserted && std::find(ids.begin(), ids.end(), e.meta.id) != ids.end()) {
            e.meta.inserted = true;
            changed = true;
        }
    }
    return changed ? writeIndex(folder, image, entries) : Status(Ok{});
}

} // namespace imagegen
