// Pure helpers of the operator routes: UTC times, CSV fields.

#include "api/export/ledger_csv.hpp"
#include "api/wire/time_text.hpp"

#include <gtest/gtest.h>

namespace chatgate::api {
namespace {

TEST(TimeText, ParsesUtcTimesAndDaysAndRefusesTheRest) {
    EXPECT_EQ(parse_utc_time("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_utc_time("2027-01-01"), 1798761600);
    EXPECT_EQ(format_utc_time(1798761600), "2027-01-01T00:00:00Z");
    for (auto bad : {"", "2027-1-01", "2027-02-30", "2027-01-01T24:00:00Z", "2027-01-01T00:00:00",
                     "2027-01-01 00:00:00Z", "２０２７-01-01", "2027-01-01T00:00:00+01:00"}) {
        EXPECT_FALSE(parse_utc_time(bad)) << bad;
    }
    EXPECT_TRUE(is_day("2024-02-29"));
    EXPECT_FALSE(is_day("2023-02-29"));
    EXPECT_FALSE(is_day("2024-02-29T00:00:00Z"));
}

TEST(CsvField, QuotesSeparatorsAndDisarmsFormulas) {
    EXPECT_EQ(csv_field("plain"), "plain");
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("line\nbreak"), "\"line\nbreak\"");
    EXPECT_EQ(csv_field("=SUM(A1)"), "'=SUM(A1)");
    EXPECT_EQ(csv_field("+1,2"), "\"'+1,2\"");
    EXPECT_EQ(csv_field(""), "");
}

}  // namespace
}  // namespace chatgate::api
