// Whole numbers for people: grouped as the user's language groups them.
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

} // namespace imagegen
