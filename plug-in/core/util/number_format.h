// Numbers for people: grouped, and with the decimal point, as the user's language writes them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace imagegen {

// `value` with `separator` between its groups of digits, grouped by `grouping` as lconv's
// grouping field says (each byte a group's size from the right, the last one repeated; CHAR_MAX
// or an empty rule: no more grouping). The sign goes before the digits: -1,234.
std::string groupDigits(int64_t value, std::string_view separator, std::string_view grouping);

// `value` grouped as the LC_NUMERIC of the environment (LC_ALL, LC_NUMERIC, LANG) says, even when
// the process's own LC_NUMERIC is "C" (the plug-in's is, for JSON): 1,234,567 in English,
// 1.234.567 in German, 1234567 in the C locale.
std::string withThousands(int64_t value);

// `value` rounded to `decimals` places (0 to 9), with `point` before the places and the whole part
// grouped as groupDigits does: 1,234.57 or 1.234,57. Rounds half away from zero. Empty for a
// value that is not finite, or too large to count in units of its last place in an int64_t.
std::string groupDecimal(double value, int decimals, std::string_view point,
                         std::string_view separator, std::string_view grouping);

// `value` with `decimals` places, written as the LC_NUMERIC of the environment says (see
// withThousands): 0.17 in English, 0,17 in German.
std::string withDecimals(double value, int decimals);

} // namespace imagegen
