#include "core/service/service_text.h"

#include <glib.h>

#include <algorithm>
#include <cctype>

namespace imagegen {

namespace {

constexpr std::string_view kRedacted = "[redacted]";

// The characters of an API key, a token or an ID: letters, digits, "-" and "_".
bool isKeyChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

// The characters of a bearer token (RFC 6750's b64token).
bool isTokenChar(char c) {
    return isKeyChar(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

// What follows "Bearer " is a token, not a word of a sentence ("bearer or basic
// authentication"): 8 characters or more, not all of them letters.
bool tokenLike(std::string_view word) {
    return word.size() >= 8 && !std::all_of(word.begin(), word.end(), [](char c) {
               return std::isalpha(static_cast<unsigned char>(c)) != 0;
           });
}

bool startsWithNoCase(std::string_view text, size_t at, std::string_view word) {
    if (text.size() - at < word.size()) {
        return false;
    }
    for (size_t i = 0; i < word.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i]) {
            return false;
        }
    }
    return true;
}

bool allHex(std::string_view word) {
    return std::all_of(word.begin(), word.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// A long run that mixes capitals, small letters and digits reads as a random key, not a word.
bool looksRandom(std::string_view word) {
    if (word.size() < 40) {
        return false;
    }
    bool upper = false;
    bool lower = false;
    bool digit = false;
    for (const char c : word) {
        const auto u = static_cast<unsigned char>(c);
        upper = upper || std::isupper(u) != 0;
        lower = lower || std::islower(u) != 0;
        digit = digit || std::isdigit(u) != 0;
    }
    return upper && lower && digit;
}

bool keyShaped(std::string_view word) {
    return (word.starts_with("sk-") && word.size() >= 3 + 20) ||
           (word.size() == 32 && allHex(word)) || looksRandom(word);
}

// Where a JSON Web Token that starts at `at` (with "eyJ") ends: three parts of key characters
// with a dot between; `at` itself when there is none.
size_t jwtEnd(std::string_view text, size_t at) {
    size_t end = at;
    for (int part = 0; part < 3; ++part) {
        if (part > 0) {
            if (end >= text.size() || text[end] != '.') {
                return at;
            }
            ++end;
        }
        const size_t start = end;
        while (end < text.size() && isKeyChar(text[end])) {
            ++end;
        }
        if (end == start && part < 2) {
            return at;
        }
    }
    return end;
}

void replaceAll(std::string& text, const std::string& secret) {
    if (secret.empty()) {
        return;
    }
    for (size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kRedacted.size())) {
        text.replace(at, secret.size(), kRedacted);
    }
}

// Appends the code point `c` as UTF-8.
void appendChar(std::string& out, gunichar c) {
    char bytes[6];
    out.append(bytes, static_cast<size_t>(g_unichar_to_utf8(c, bytes)));
}

bool isDirectionControl(gunichar c) {
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E ||
           c == 0x200F || c == 0x061C;
}

} // namespace

std::string redactSecrets(std::string text, const std::string& secret) {
    replaceAll(text, secret);
    const std::string& in = text;
    std::string out;
    out.reserve(in.size());
    size_t i = 0;
    while (i < in.size()) {
        // "Bearer <token>": the word stays, the token goes, whatever its shape.
        if (startsWithNoCase(in, i, "bearer") && (i == 0 || !isKeyChar(in[i - 1]))) {
            size_t j = i + 6;
            while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) {
                ++j;
            }
            size_t end = j;
            while (end < in.size() && isTokenChar(in[end])) {
                ++end;
            }
            if (j > i + 6 && tokenLike(std::string_view(in).substr(j, end - j))) {
                out.append(in, i, j - i);
                out += kRedacted;
                i = end;
                continue;
            }
        }
        if (!isKeyChar(in[i])) {
            out += in[i++];
            continue;
        }
        // A word of key characters, whole.
        size_t end = i;
        while (end < in.size() && isKeyChar(in[end])) {
            ++end;
        }
        const std::string_view word = std::string_view(in).substr(i, end - i);
        if (word.starts_with("eyJ")) {
            if (const size_t jwt = jwtEnd(in, i); jwt > end) {
                out += kRedacted;
                i = jwt;
                continue;
            }
        }
        if (keyShaped(word)) {
            out += kRedacted;
        } else {
            out += word;
        }
        i = end;
    }
    return out;
}

std::string readableText(std::string_view text, size_t maxChars) {
    std::string out;
    out.reserve(std::min(text.size(), maxChars == std::string::npos ? text.size() : maxChars * 4));
    size_t count = 0;
    const char* p = text.data();
    const char* const end = p + text.size();
    while (p < end) {
        if (count == maxChars) {
            out += "…";
            break;
        }
        ++count;
        // GLib reads a NUL byte as an unfinished character: it is U+0000, a control.
        gunichar c = 0;
        size_t length = 1;
        if (*p != '\0') {
            c = g_utf8_get_char_validated(p, end - p);
            if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
                c = 0xFFFD; // a broken byte: one replacement character, and on to the next byte
            } else {
                length = static_cast<size_t>(g_utf8_next_char(p) - p);
            }
        }
        if (c == '\t' || c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029) {
            out += ' ';
        } else if (c < 0x20) {
            appendChar(out, 0x2400 + c); // ␀ … ␟: ESC shows as ␛
        } else if (c == 0x7F) {
            appendChar(out, 0x2421); // ␡
        } else if ((c >= 0x80 && c <= 0x9F) || isDirectionControl(c) || c == 0xFFFD) {
            appendChar(out, 0xFFFD);
        } else {
            out.append(p, length);
        }
        p += length;
    }
    return out;
}

std::string serviceText(std::string_view text, size_t maxChars, const std::string& secret) {
    // Redacted first, so that a key cut in half by the length limit is still recognised.
    return readableText(redactSecrets(std::string(text), secret), maxChars);
}

} // namespace imagegen
