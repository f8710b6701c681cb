// Whole numbers as the user's language writes them: the grouping rule of LC_NUMERIC (not a comma
// every three digits whatever the language), and the sign in front of the digits.
#include "core/util/glib_ptr.h"
#include "core/util/number_format.h"
#include "test_util.h"

#include <climits>
#include <clocale>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>

using namespace imagegen;
using namespace imagegen::test;

// The grouping rule itself, as localeconv() gives it, whatever locales the machine has.
static void testGroupingRules() {
    const std::string threes = "\3";
    assertEq(groupDigits(0, ",", threes), "0");
    assertEq(groupDigits(123, ",", threes), "123");
    assertEq(groupDigits(-123, ",", threes), "-123");
    assertEq(groupDigits(1234, ",", threes), "1,234");
    assertEq(groupDigits(-1234, ",", threes), "-1,234");
    assertEq(groupDigits(-123456, ",", threes), "-123,456");
    assertEq(groupDigits(1234567, ".", threes), "1.234.567");
    // A separator of more than one byte (U+202F NARROW NO-BREAK SPACE, French).
    assertEq(groupDigits(1234567, "\u202f", threes), "1\u202f234\u202f567");
    // Three, then twos (Indian English, hi_IN).
    assertEq(groupDigits(123456789, ",", "\3\2"), "12,34,56,789");
    // CHAR_MAX ends the grouping.
    assertEq(groupDigits(123456789, ",", std::string{'\3', static_cast<char>(CHAR_MAX)}),
             "123456,789");
    // No rule, or no separator: the digits alone (the C locale).
    assertEq(groupDigits(1234567, ",", ""), "1234567");
    assertEq(groupDigits(1234567, "", threes), "1234567");
    assertEq(groupDigits(INT64_MIN, ",", threes), "-9,223,372,036,854,775,808");
    assertEq(groupDigits(INT64_MAX, ",", threes), "9,223,372,036,854,775,807");
}

// Decimals: rounded once to the places asked, with the given point, the whole part grouped.
static void testDecimalRules() {
    const std::string threes = "\3";
    assertEq(groupDecimal(0.1664, 2, ".", ",", threes), "0.17");
    assertEq(groupDecimal(0.1664, 2, ",", ".", threes), "0,17");
    assertEq(groupDecimal(0.002176, 4, ".", ",", threes), "0.0022");
    assertEq(groupDecimal(0.04, 2, ".", ",", threes), "0.04");
    assertEq(groupDecimal(0.996, 2, ".", ",", threes), "1.00"); // carries into the whole part
    assertEq(groupDecimal(1234.5, 2, ".", ",", threes), "1,234.50");
    assertEq(groupDecimal(1234567.891, 2, ",", "\u202f", threes), "1\u202f234\u202f567,89");
    assertEq(groupDecimal(-2.5, 1, ".", ",", threes), "-2.5");
    assertEq(groupDecimal(-0.001, 2, ".", ",", threes), "0.00"); // no "-0.00"
    assertEq(groupDecimal(3.7, 0, ".", ",", threes), "4");
    assertEq(groupDecimal(std::nan(""), 2, ".", ",", threes), "");
    assertEq(groupDecimal(1e300, 2, ".", ",", threes), "");
    assertEq(groupDecimal(1.0, 12, ".", ",", threes), "");
}

// withThousands follows the environment's LC_NUMERIC, also when the process's own is "C" (the
// plug-in sets LC_NUMERIC to "C" for JSON).
static void testCLocale() {
    g_setenv("LC_ALL", "C", TRUE);
    assertEq(withThousands(-123), "-123");
    assertEq(withThousands(1234567), "1234567");
    assertEq(withThousands(-1234567), "-1234567");
    assertEq(withThousands(0), "0");
    assertEq(withDecimals(1234.567, 2), "1234.57");
    g_setenv("LC_ALL", "C.UTF-8", TRUE);
    assertEq(withThousands(-123), "-123");
    assertEq(withThousands(1234567), "1234567");
    g_unsetenv("LC_ALL");
}

// German, whose separator is a full stop: the system's de_DE.UTF-8 where it is installed, else
// one compiled for this test by localedef (from the locales package's sources) under LOCPATH.
static bool germanAvailable(const std::string& scratch) {
    if (locale_t probe = newlocale(LC_NUMERIC_MASK, "de_DE.UTF-8", nullptr)) {
        freelocale(probe);
        return true;
    }
    const std::string target = scratch + "/de_DE.UTF-8";
    const char* argv[] = {"localedef", "-i", "de_DE", "-f", "UTF-8", target.c_str(), nullptr};
    int status = 0;
    if (!g_spawn_sync(nullptr, const_cast<char**>(argv), nullptr, G_SPAWN_SEARCH_PATH, nullptr,
                      nullptr, nullptr, nullptr, &status, nullptr) ||
        !g_spawn_check_wait_status(status, nullptr)) {
        return false;
    }
    g_setenv("LOCPATH", scratch.c_str(), TRUE);
    locale_t probe = newlocale(LC_NUMERIC_MASK, "de_DE.UTF-8", nullptr);
    if (probe != nullptr) {
        freelocale(probe);
    }
    return probe != nullptr;
}

static void testGerman() {
    const GCharPtr scratch(g_dir_make_tmp("imagegen-locale-XXXXXX", nullptr));
    g_assert_nonnull(scratch.get());
    if (!germanAvailable(scratch.get())) {
        g_test_skip("no de_DE.UTF-8 locale, and localedef could not make one");
    } else {
        g_setenv("LC_ALL", "de_DE.UTF-8", TRUE);
        assertEq(withThousands(-1234567), "-1.234.567");
        assertEq(withThousands(1234), "1.234");
        assertEq(withThousands(-123), "-123");
        assertEq(withDecimals(0.1664, 2), "0,17");
        assertEq(withDecimals(1234.5, 2), "1.234,50");
        g_unsetenv("LC_ALL");
    }
    g_unsetenv("LOCPATH");
    std::filesystem::remove_all(scratch.get());
}

int main(int argc, char** argv) {
    init(&argc, &argv);
    std::setlocale(LC_ALL, "");
    std::setlocale(LC_NUMERIC, "C"); // as the plug-in does
    g_test_add_func("/number-format/grouping-rules", testGroupingRules);
    g_test_add_func("/number-format/decimal-rules", testDecimalRules);
    g_test_add_func("/number-format/c-locale", testCLocale);
    g_test_add_func("/number-format/german", testGerman);
    return g_test_run();
}
