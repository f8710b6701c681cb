#include "core/util/number_format.h"

#include <climits>
#include <clocale>
#include <cmath>
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

std::string groupDecimal(double value, int decimals, std::string_view point,
                         std::string_view separator, std::string_view grouping) {
    if (!std::isfinite(value) || decimals < 0 || decimals > 9) {
        return {};
    }
    int64_t scale = 1;
    for (int i = 0; i < decimals; ++i) {
        scale *= 10;
    }
    // The value in units of its last place must fit an int64_t (about 9.2e18).
    constexpr double kLargestScaled = 9e18;
    if (std::fabs(value) * static_cast<double>(scale) >= kLargestScaled) {
        return {};
    }
    // Rounded once, in whole units of the last place, so that 0.995 to two places carries to 1.00
    // rather than printing 0.100.
    const int64_t scaled = std::llround(std::fabs(value) * static_cast<double>(scale));
    const bool negative = value < 0 && scaled != 0;
    std::string out = groupDigits(scaled / scale, separator, grouping);
    if (decimals > 0) {
        std::string places = std::to_string(scaled % scale);
        places.insert(0, static_cast<size_t>(decimals) - places.size(), '0');
        out.append(point).append(places);
    }
    return (negative ? "-" : "") + out;
}

// The environment's numeric conventions, read without touching the process's locale.
struct NumericConventions {
    std::string point = ".";
    std::string separator;
    std::string grouping;
};

static NumericConventions userConventions() {
    NumericConventions c;
    // The plug-in keeps the process's LC_NUMERIC at "C" (JSON and the PDB's numbers must not
    // get a decimal comma), so the user's numeric conventions are read from a locale object of
    // their own, made from the environment as setlocale(LC_NUMERIC, "") would.
    locale_t user = newlocale(LC_NUMERIC_MASK, "", nullptr);
    if (user == nullptr) {
        return c;
    }
    const locale_t before = uselocale(user);
    const lconv* conventions = std::localeconv(); // of this thread's locale, just set
    c.point = conventions->decimal_point;
    c.separator = conventions->thousands_sep;
    c.grouping = conventions->grouping;
    uselocale(before);
    freelocale(user);
    return c;
}

std::string withThousands(int64_t value) {
    const NumericConventions c = userConventions();
    return groupDigits(value, c.separator, c.grouping);
}

std::string withDecimals(double value, int decimals) {
    const NumericConventions c = userConventions();
    return groupDecimal(value, decimals, c.point, c.separator, c.grouping);
}

} // namespace imagegen
