#include "core/user/prompt_history.h"

#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"
#include "core/util/local_file.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <cerrno>

namespace imagegen {

namespace {

// Valid UTF-8 without the whitespace around it.
std::string tidy(std::string_view text) {
    const GCharPtr valid(g_utf8_make_valid(text.data(), static_cast<gssize>(text.size())));
    const char* start = valid.get();
    while (*start != '\0' && g_unichar_isspace(g_utf8_get_char(start)) != FALSE) {
        start = g_utf8_next_char(start);
    }
    const char* end = start;
    for (const char* p = start; *p != '\0'; p = g_utf8_next_char(p)) {
        if (g_unichar_isspace(g_utf8_get_char(p)) == FALSE) {
            end = g_utf8_next_char(p);
        }
    }
    return {start, static_cast<size_t>(end - start)};
}

// The form in which text is compared: case folded, then normalised, so that "É" (one code point
// or E plus an accent) and "é" compare equal.
std::string folded(std::string_view text) {
    const GCharPtr fold(g_utf8_casefold(text.data(), static_cast<gssize>(text.size())));
    const GCharPtr normal(g_utf8_normalize(fold.get(), -1, G_NORMALIZE_ALL_COMPOSE));
    return normal ? std::string(normal.get()) : std::string(fold.get());
}

std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::string word;
    for (const char* p = text.c_str(); *p != '\0'; p = g_utf8_next_char(p)) {
        if (g_unichar_isspace(g_utf8_get_char(p)) != FALSE) {
            if (!word.empty()) {
                out.push_back(std::move(word));
                word.clear();
            }
        } else {
            const char* next = g_utf8_next_char(p);
            word.append(p, static_cast<size_t>(next - p));
        }
    }
    if (!word.empty()) {
        out.push_back(std::move(word));
    }
    return out;
}

Error cannotSave(const std::string& path, const std::string& reason) {
    return makeError(ErrorKind::Configuration, textf(_("cannot save the prompt history to %s: %s"),
                                                     path.c_str(), reason.c_str()));
}

} // namespace

PromptHistory PromptHistory::load(const std::string& path, std::optional<Error>* refused) {
    PromptHistory history;
    auto contents = readSmallRegularFile(path);
    if (!contents) {
        if (refused != nullptr) {
            *refused = makeError(ErrorKind::Configuration,
                                 textf(_("The prompt history in %s was not read: %s."),
                                       path.c_str(), contents.error().message.c_str()));
        }
        return history;
    }
    if (!*contents) {
        return history;
    }
    auto document = json::parseObject(**contents);
    if (!document) {
        return history;
    }
    const std::vector<std::string> saved = json::stringArray(document->root(), "prompts");
    // Oldest first through add(), so the file's order is kept and its duplicates, blanks and
    // excess are dropped as add() would have.
    std::for_each(saved.rbegin(), saved.rend(), [&](const std::string& p) { history.add(p); });
    return history;
}

Status PromptHistory::save(const std::string& path) const {
    const GCharPtr folder(g_path_get_dirname(path.c_str()));
    if (g_mkdir_with_parents(folder.get(), 0700) != 0) {
        return cannotSave(path, g_strerror(errno));
    }
    auto builder = adoptRef(json_builder_new());
    json_builder_begin_object(builder.get());
    json_builder_set_member_name(builder.get(), "prompts");
    json_builder_begin_array(builder.get());
    for (const auto& prompt : entries_) {
        json_builder_add_string_value(builder.get(), prompt.c_str());
    }
    json_builder_end_array(builder.get());
    json_builder_end_object(builder.get());
    const std::string text = json::builderText(builder.get());
    GErrorPtr error;
    // As g_file_set_contents writes (a new file renamed over the old), but readable by the user
    // alone: prompts can be private.
    const auto flags = static_cast<GFileSetContentsFlags>(G_FILE_SET_CONTENTS_CONSISTENT |
                                                          G_FILE_SET_CONTENTS_DURABLE |
                                                          G_FILE_SET_CONTENTS_ONLY_EXISTING);
    if (!g_file_set_contents_full(path.c_str(), text.c_str(), static_cast<gssize>(text.size()),
                                  flags, 0600, outPtr(error))) {
        return cannotSave(path, error->message);
    }
    return Ok{};
}

void PromptHistory::add(const std::string& prompt) {
    std::string entry = tidy(prompt);
    if (entry.empty()) {
        return;
    }
    std::erase(entries_, entry);
    entries_.insert(entries_.begin(), std::move(entry));
    if (entries_.size() > kMaxEntries) {
        entries_.resize(kMaxEntries);
    }
}

std::vector<std::string> PromptHistory::search(std::string_view query) const {
    const std::vector<std::string> wanted = words(folded(query));
    std::vector<std::string> found;
    for (const auto& entry : entries_) {
        const std::string text = folded(entry);
        const bool all = std::all_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
            return text.find(w) != std::string::npos;
        });
        if (all) {
            found.push_back(entry);
        }
    }
    return found;
}

} // namespace imagegen
