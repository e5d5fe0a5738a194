// Unit tests for services/common/validation: UTF-8, texts, names, tokens, language tags, ids.
#include "services/common/validation.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/status/status.h"

namespace backline {
namespace {

// ---------------------------------------------------------------------------------------------
// IsValidUtf8

TEST(IsValidUtf8Test, AcceptsAsciiAndEmpty) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii, 0-9 ~!"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
  EXPECT_TRUE(IsValidUtf8("\x7F"));
}

TEST(IsValidUtf8Test, AcceptsDanishChineseAndLithuanian) {
  size_t bad = 12345;
  EXPECT_TRUE(IsValidUtf8("Rødgrød med fløde på Ærø og Åbenrå", &bad));
  EXPECT_EQ(bad, 12345u) << "bad_offset must not be touched on success";
  EXPECT_TRUE(IsValidUtf8("客户想退款，请帮忙看看账单。"));
  EXPECT_TRUE(IsValidUtf8("繁體中文"));
  EXPECT_TRUE(IsValidUtf8("Ačiū, ąčęėįšųūž ĄČĘĖĮŠŲŪŽ"));
  EXPECT_TRUE(IsValidUtf8("emoji \xF0\x9F\x98\x80 ok"));  // U+1F600, four bytes
}

TEST(IsValidUtf8Test, AcceptsEveryBoundaryCodePoint) {
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));          // U+0080, smallest two-byte
  EXPECT_TRUE(IsValidUtf8("\xDF\xBF"));          // U+07FF, largest two-byte
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));      // U+0800, smallest three-byte
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));      // U+E000, just above the surrogates
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));  // U+10000, smallest four-byte
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
}

struct BadUtf8Case {
  const char* name;
  std::string bytes;
  size_t offset;
};

class IsValidUtf8RejectsTest : public ::testing::TestWithParam<BadUtf8Case> {};

TEST_P(IsValidUtf8RejectsTest, RejectsAndReportsOffset) {
  const BadUtf8Case& c = GetParam();
  size_t bad = 9999;
  EXPECT_FALSE(IsValidUtf8(c.bytes, &bad));
  EXPECT_EQ(bad, c.offset);
  // The offset pointer is optional.
  EXPECT_FALSE(IsValidUtf8(c.bytes));
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, IsValidUtf8RejectsTest,
    ::testing::Values(
        // Overlong encodings.
        BadUtf8Case{"overlong_slash_2", "\xC0\xAF", 0}, BadUtf8Case{"overlong_c1", "\xC1\xBF", 0},
        BadUtf8Case{"overlong_slash_3", "\xE0\x80\xAF", 0},
        BadUtf8Case{"overlong_7ff_3", "\xE0\x9F\xBF", 0},
        BadUtf8Case{"overlong_slash_4", "\xF0\x80\x80\xAF", 0},
        BadUtf8Case{"overlong_ffff_4", "\xF0\x8F\xBF\xBF", 0},
        // UTF-16 surrogates.
        BadUtf8Case{"surrogate_high", "\xED\xA0\x80", 0},
        BadUtf8Case{"surrogate_low", "\xED\xBF\xBF", 0},
        BadUtf8Case{"surrogate_after_text", "ab\xED\xB0\x80", 2},
        // Beyond U+10FFFF.
        BadUtf8Case{"above_max", "\xF4\x90\x80\x80", 0},
        BadUtf8Case{"f5_lead", "\xF5\x80\x80\x80", 0}, BadUtf8Case{"ff_byte", "abc\xFF", 3},
        BadUtf8Case{"fe_byte", "\xFE", 0},
        // Truncated sequences.
        BadUtf8Case{"truncated_2_of_3", "ab\xE4\xBD", 2},
        BadUtf8Case{"truncated_1_of_2", "x\xC3", 1},
        BadUtf8Case{"truncated_3_of_4", "\xF0\x9F\x98", 0},
        // Bad continuation bytes.
        BadUtf8Case{"ascii_as_continuation", "\xE4\x41\x42", 0},
        BadUtf8Case{"lead_as_continuation", "\xC3\xC3\xA6", 0},
        BadUtf8Case{"lone_continuation", "abc\x80", 3},
        BadUtf8Case{"bad_last_continuation", "\xF0\x9F\x98\x41", 0},
        // The offset is that of the first bad sequence, counted in bytes.
        BadUtf8Case{"after_multibyte",
                    "r\xC3\xB8"
                    "d\xC0\xAF",
                    4},
        BadUtf8Case{"first_of_two", "\xE6\x97\xA5\xFF\xFF", 3}),
    [](const ::testing::TestParamInfo<BadUtf8Case>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// CheckText

TEST(CheckTextTest, AcceptsTextWithinBounds) {
  EXPECT_TRUE(CheckText("question", "Kunden vil have refusion", 1, 4096).ok());
  EXPECT_TRUE(CheckText("tried", "", 0, 4096).ok());
  EXPECT_TRUE(CheckText("q", "abc", 3, 3).ok());
}

TEST(CheckTextTest, EmptyWhenAtLeastOneByteIsRequired) {
  absl::Status st = CheckText("question", "", 1, 4096);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "question: must not be empty");
}

TEST(CheckTextTest, ShorterThanMinimum) {
  absl::Status st = CheckText("code", "ab", 3, 10);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "code: shorter than 3 bytes");
}

TEST(CheckTextTest, LongerThanMaximumCountsBytesNotCharacters) {
  // Two characters, four bytes.
  absl::Status st = CheckText("name", "øø", 1, 3);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "name: 4 bytes is over the limit of 3");
  EXPECT_TRUE(CheckText("name", "øø", 1, 4).ok());

  st = CheckText("question", std::string(4097, 'x'), 1, 4096);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "question: 4097 bytes is over the limit of 4096");
}

TEST(CheckTextTest, InvalidUtf8NamesFieldAndOffset) {
  absl::Status st = CheckText("question", "abc\xC0\xAF", 1, 4096);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "question: invalid UTF-8 at byte 3");
}

TEST(CheckTextTest, InvalidUtf8IsReportedBeforeLength) {
  absl::Status st = CheckText("f", "toolong\xFF", 1, 2);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "f: invalid UTF-8 at byte 7");
}

// ---------------------------------------------------------------------------------------------
// IsValidName / CheckName

TEST(IsValidNameTest, AcceptsIdentifiers) {
  for (const char* s :
       {"anna", "a", "0", "anna.jensen", "copenhagen-billing", "team_7", "9lives", "a.b-c_d"}) {
    EXPECT_TRUE(IsValidName(s)) << s;
  }
  EXPECT_TRUE(IsValidName(std::string(64, 'a')));
}

TEST(IsValidNameTest, RejectsOthers) {
  for (const char* s : {"", "Anna", "anna Jensen", ".anna", "-anna", "_anna", "anna/x", "a:b",
                        "søren", "anna\n", "a+b", "ANNA"}) {
    EXPECT_FALSE(IsValidName(s)) << s;
  }
  EXPECT_FALSE(IsValidName(std::string(65, 'a')));
}

TEST(CheckNameTest, MessagesNameTheFieldAndEchoTheValue) {
  EXPECT_TRUE(CheckName("id", "anna").ok());

  absl::Status st = CheckName("id", "");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "id: required");

  st = CheckName("team", "Copenhagen");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "team: \"Copenhagen\" is not a valid id ([a-z0-9][a-z0-9._-]{0,63})");
}

TEST(CheckNameTest, EchoIsShortAndPrintable) {
  absl::Status st = CheckName("id", "a\x01\nb");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "id: \"a??b\" is not a valid id ([a-z0-9][a-z0-9._-]{0,63})");

  st = CheckName("id", std::string(100, 'X'));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "id: \"" + std::string(40, 'X') + "\" is not a valid id ([a-z0-9][a-z0-9._-]{0,63})");
}

// ---------------------------------------------------------------------------------------------
// IsValidToken / CheckToken

TEST(IsValidTokenTest, AcceptsKeys) {
  for (const char* s : {"a", "Req-1", "sess:7f3a.B_c", "2024-05-01T10:00:00", "X"}) {
    EXPECT_TRUE(IsValidToken(s)) << s;
  }
  EXPECT_TRUE(IsValidToken(std::string(64, 'Z')));
}

TEST(IsValidTokenTest, RejectsOthers) {
  for (const char* s : {"", "has space", "a/b", "a@b", "ø", "a\tb", "a;b", "a|b"}) {
    EXPECT_FALSE(IsValidToken(s)) << s;
  }
  EXPECT_FALSE(IsValidToken(std::string(65, 'Z')));
}

TEST(CheckTokenTest, Messages) {
  EXPECT_TRUE(CheckToken("request_id", "abc-1").ok());
  absl::Status st = CheckToken("request_id", "bad id!");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "request_id: \"bad id!\" is not a valid key ([A-Za-z0-9._:-]{1,64})");
  st = CheckToken("session", "");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "session: required");
}

// ---------------------------------------------------------------------------------------------
// CanonicalLanguage

struct LangCase {
  const char* in;
  const char* out;
};

class CanonicalLanguageOkTest : public ::testing::TestWithParam<LangCase> {};

TEST_P(CanonicalLanguageOkTest, Canonicalizes) {
  std::string out = "unchanged";
  absl::Status st = CanonicalLanguage("language", GetParam().in, &out);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(out, GetParam().out);
}

INSTANTIATE_TEST_SUITE_P(
    Tags, CanonicalLanguageOkTest,
    ::testing::Values(LangCase{"da", "da"}, LangCase{"DA", "da"}, LangCase{"Da", "da"},
                      LangCase{"lt", "lt"}, LangCase{"fil", "fil"}, LangCase{"zh-hant", "zh-Hant"},
                      LangCase{"ZH-HANT", "zh-Hant"}, LangCase{"zh-Hant-TW", "zh-Hant-TW"},
                      LangCase{"zh-hant-tw", "zh-Hant-TW"}, LangCase{"pt-br", "pt-BR"},
                      LangCase{"EN-gb", "en-GB"}, LangCase{"es-419", "es-419"},
                      LangCase{"sr-latn-rs", "sr-Latn-RS"}, LangCase{"sl-ROZAJ", "sl-rozaj"},
                      LangCase{"en-abcdefgh-abcdefgh-abcdefgh", "en-abcdefgh-abcdefgh-abcdefgh"}),
    [](const ::testing::TestParamInfo<LangCase>& info) { return std::to_string(info.index); });

class CanonicalLanguageBadTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CanonicalLanguageBadTest, RejectsAndLeavesOutputAlone) {
  std::string out = "unchanged";
  absl::Status st = CanonicalLanguage("language", GetParam(), &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << GetParam();
  EXPECT_EQ(out, "unchanged");
}

INSTANTIATE_TEST_SUITE_P(
    Tags, CanonicalLanguageBadTest,
    ::testing::Values("", "d", "dansk", "dansk-", "da-", "-da", "da--DK", "1a", "d1", "da_DK",
                      "da DK", "da-D", "en-abc", "en-1abc", "en-abcdefghi", "da-DK!", "zh-H@nt",
                      "ø", "en-abcdefgh-abcdefgh-abcdefgh-abcdefgh",  // 38 bytes, over 35
                      std::string(36, 'a')),
    [](const ::testing::TestParamInfo<std::string>& info) { return std::to_string(info.index); });

TEST(CanonicalLanguageTest, MessagesNameFieldAndTag) {
  std::string out;
  absl::Status st = CanonicalLanguage("languages[2]", "dansk-", &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "languages[2]: \"dansk-\" is not a BCP-47 language tag such as da, zh-Hant or pt-BR");

  st = CanonicalLanguage("language", "", &out);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "language: required");
}

TEST(CanonicalLanguageTest, LengthLimitIs35Bytes) {
  std::string out;
  // "en" + 3 * "-abcdefgh" + "-abcdef" = 2 + 27 + 7 = 36 bytes.
  EXPECT_EQ(CanonicalLanguage("l", "en-abcdefgh-abcdefgh-abcdefgh-abcdef", &out).code(),
            absl::StatusCode::kInvalidArgument);
  // 35 bytes.
  EXPECT_TRUE(CanonicalLanguage("l", "en-abcdefgh-abcdefgh-abcdefgh-abcde", &out).ok());
  EXPECT_EQ(out, "en-abcdefgh-abcdefgh-abcdefgh-abcde");
}

// BCP-47 order: the script comes before the region, and there is at most one of each.
TEST(CanonicalLanguageTest, RejectsSubtagsOutOfOrder) {
  std::string out;
  EXPECT_EQ(CanonicalLanguage("language", "zh-TW-Hant", &out).code(),
            absl::StatusCode::kInvalidArgument)
      << "accepted as " << out;
  EXPECT_EQ(CanonicalLanguage("language", "da-DK-SE", &out).code(),
            absl::StatusCode::kInvalidArgument)
      << "accepted as " << out;
}

// ---------------------------------------------------------------------------------------------
// IsValidServerId / NewServerId

TEST(IsValidServerIdTest, AcceptsPrefixDashTenLowerAlnum) {
  EXPECT_TRUE(IsValidServerId("esc", "esc-7k2m9q4xwd"));
  EXPECT_TRUE(IsValidServerId("esc", "esc-0000000000"));
  EXPECT_TRUE(IsValidServerId("thr", "thr-abcdefghij"));
}

TEST(IsValidServerIdTest, RejectsOthers) {
  EXPECT_FALSE(IsValidServerId("esc", ""));
  EXPECT_FALSE(IsValidServerId("esc", "esc-"));
  EXPECT_FALSE(IsValidServerId("esc", "thr-7k2m9q4xwd"));
  EXPECT_FALSE(IsValidServerId("esc", "esc-7k2m9q4xw"));    // 9 characters
  EXPECT_FALSE(IsValidServerId("esc", "esc-7k2m9q4xwdd"));  // 11 characters
  EXPECT_FALSE(IsValidServerId("esc", "esc_7k2m9q4xwd"));
  EXPECT_FALSE(IsValidServerId("esc", "esc-7K2M9Q4XWD"));
  EXPECT_FALSE(IsValidServerId("esc", "esc-7k2m9q4xw-"));
  EXPECT_FALSE(IsValidServerId("esc", "esc-7k2m9q4xw."));
  EXPECT_FALSE(IsValidServerId("esc", "escx7k2m9q4xwd"));
  EXPECT_FALSE(IsValidServerId("es", "esc-7k2m9q4xwd"));
}

TEST(NewServerIdTest, FormatAndUniqueness) {
  constexpr int kCount = 20000;
  std::set<std::string> ids;
  std::set<char> chars;
  for (int i = 0; i < kCount; ++i) {
    std::string id = NewServerId("esc");
    ASSERT_TRUE(IsValidServerId("esc", id)) << id;
    ASSERT_EQ(id.size(), 14u);
    ASSERT_EQ(id.substr(0, 4), "esc-");
    for (char c : id.substr(4)) chars.insert(c);
    ids.insert(std::move(id));
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kCount)) << "duplicate ids";
  // Crockford-style alphabet: all 32 symbols show up, the ambiguous ones never.
  EXPECT_EQ(chars.size(), 32u);
  for (char c : {'i', 'l', 'o', 'u'}) EXPECT_EQ(chars.count(c), 0u) << c;
}

TEST(NewServerIdTest, UsesThePrefix) {
  EXPECT_TRUE(IsValidServerId("thr", NewServerId("thr")));
  EXPECT_NE(NewServerId("thr"), NewServerId("thr"));
}

}  // namespace
}  // namespace backline
