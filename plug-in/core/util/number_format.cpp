#include "core/util/number_format.h"

#include <climits>
#include <clocale>
#include <locale.h> // newlocale, uselocale (POSIX)

namespace imagegen {

std::string groupDigits(int64_t value, std::string_view separator, std::string_view grouping) {
    // The magnitude as unsigned, so that INT64_MIN has one too.
    const uint64_t magnitude =
        value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    const std::string digits = std::to_string(magnitude);
    // Group sizes from the right; each byte of `grouping` is one, the last one repeats.
    size_t left = digits.size();
    size_t rule = 0;
    int size = grouping.empty() ? CHAR_MAX : static_cast<unsigned char>(grouping[0]);
    std::string tail;
    while (!separator.empty() && size > 0 && size < CHAR_MAX && left > static_cast<size_t>(size)) {
        left -= static_cast<size_t>(size);
        tail.insert(0, digits, left, static_cast<size_t>(size));
        tail.insert(0, separator);
        if (rule + 1 < grouping.size()) {
            size = static_cast<unsigned char>(grouping[++rule]);
        }
    }
    return (value < 0 ? "-" : "") + digits.substr(0, left) + tail;
}

std::string withThousands(int64_t value) {
    // The plug-in keeps the process's LC_NUMERIC at "C" (JSON and the PDB's numbers must not
    // get a decimal comma), so the user's numeric conventions are read from a locale object of
    // their own, made from the environment as setlocale(LC_NUMERIC, "") would.
    locale_t user = newlocale(LC_NUMERIC_MASK, "", nullptr);
    if (user == nullptr) {
        return groupDigits(value, "", "");
    }
    const locale_t before = uselocale(user);
    const lconv* conventions = std::localeconv(); // of this thread's locale, just set
    const std::string separator = conventions->thousands_sep;
    const std::string grouping = conventions->grouping;
    uselocale(before);
    freelocale(user);
    return groupDigits(value, separator, grouping);
}

} // namespace imagegen
