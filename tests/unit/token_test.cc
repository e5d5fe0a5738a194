// Unit tests for bearer tokens (services/common/token) and roles (services/common/principal).
#include "services/common/token.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/principal.h"

namespace backline {
namespace {

using nlohmann::json;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test-secret";
constexpr char kOtherSecret[] = "fedcba9876543210fedcba9876543210-other-secret";

std::string B64(absl::string_view s) { return absl::WebSafeBase64Escape(s); }

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

// A JWT built by hand: base64url(header) "." base64url(payload) "." base64url(HS256 signature).
std::string SignedToken(const json& header, const json& payload, absl::string_view secret) {
  const std::string signing_input = absl::StrCat(B64(header.dump()), ".", B64(payload.dump()));
  return absl::StrCat(signing_input, ".", B64(HmacSha256(secret, signing_input)));
}

int64_t InOneHour() { return absl::ToUnixSeconds(absl::Now() + absl::Hours(1)); }

json GoodHeader() { return {{"alg", "HS256"}, {"typ", "JWT"}}; }

json GoodPayload() {
  return {{"sub", "anna"},     {"role", "senior"},   {"iss", "backline"},
          {"aud", "backline"}, {"exp", InOneHour()}, {"iat", InOneHour() - 3600}};
}

class TokenTest : public ::testing::Test {
 protected:
  FakeClock clock_;  // starts at the real time, since Verify checks `exp` against it
  TokenCodec codec_{kSecret};
};

TEST_F(TokenTest, IssueThenVerifyRoundTripsSubjectAndRole) {
  for (v1::Role role : {v1::ROLE_AGENT, v1::ROLE_SENIOR, v1::ROLE_TEAM_LEADER, v1::ROLE_SUPERVISOR,
                        v1::ROLE_BOT, v1::ROLE_ADMIN}) {
    absl::StatusOr<std::string> token =
        codec_.Issue({"anna.jensen", role}, absl::Hours(12), clock_.Now());
    ASSERT_TRUE(token.ok()) << token.status();
    absl::StatusOr<Principal> who = codec_.Verify(*token);
    ASSERT_TRUE(who.ok()) << who.status();
    EXPECT_EQ(who->id, "anna.jensen");
    EXPECT_EQ(who->role, role);
  }
}

TEST_F(TokenTest, IssuedTokenCarriesIssuerAudienceAndTimes) {
  const absl::Time now = clock_.Now();
  absl::StatusOr<std::string> token = codec_.Issue({"bo", v1::ROLE_AGENT}, absl::Hours(2), now);
  ASSERT_TRUE(token.ok()) << token.status();
  std::vector<std::string> parts = absl::StrSplit(*token, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string header_text, payload_text;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[0], &header_text));
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload_text));
  const json header = json::parse(header_text);
  const json payload = json::parse(payload_text);
  EXPECT_EQ(header.at("alg"), "HS256");
  EXPECT_EQ(payload.at("sub"), "bo");
  EXPECT_EQ(payload.at("role"), "agent");
  EXPECT_EQ(payload.at("iss"), "backline");
  EXPECT_EQ(payload.at("aud"), "backline");
  EXPECT_EQ(payload.at("iat").get<int64_t>(), absl::ToUnixSeconds(now));
  EXPECT_EQ(payload.at("exp").get<int64_t>(), absl::ToUnixSeconds(now + absl::Hours(2)));
  // The signature is HS256 over the first two parts with the secret.
  EXPECT_EQ(parts[2], B64(HmacSha256(kSecret, absl::StrCat(parts[0], ".", parts[1]))));
}

TEST_F(TokenTest, IssueRefusesBadSubjectAndMissingRole) {
  absl::StatusOr<std::string> t =
      codec_.Issue({"Anna", v1::ROLE_AGENT}, absl::Hours(1), clock_.Now());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(), "subject: \"Anna\" is not a valid person id");

  t = codec_.Issue({"", v1::ROLE_AGENT}, absl::Hours(1), clock_.Now());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);

  t = codec_.Issue({"anna", v1::ROLE_UNSPECIFIED}, absl::Hours(1), clock_.Now());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(), "role: required");
}

TEST_F(TokenTest, HandBuiltTokenWithTheRightClaimsVerifies) {
  // Proves the hand-built tokens below fail for the defect they carry, not for their shape.
  absl::StatusOr<Principal> who = codec_.Verify(SignedToken(GoodHeader(), GoodPayload(), kSecret));
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->id, "anna");
  EXPECT_EQ(who->role, v1::ROLE_SENIOR);

  json payload = GoodPayload();
  payload["role"] = "ROLE_TEAM_LEADER";
  who = codec_.Verify(SignedToken(GoodHeader(), payload, kSecret));
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->role, v1::ROLE_TEAM_LEADER);
}

TEST_F(TokenTest, EmptyTokenIsUnauthenticated) {
  absl::StatusOr<Principal> who = codec_.Verify("");
  EXPECT_EQ(who.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(who.status().message(), "missing bearer token");
}

TEST_F(TokenTest, GarbageIsUnauthenticated) {
  for (const std::string& garbage :
       {std::string("garbage"), std::string("a.b"), std::string("a.b.c"), std::string(".."),
        std::string("..."), std::string("Bearer xyz"), std::string("not.a.token"),
        absl::StrCat(B64("{not json"), ".", B64("{}"), ".", B64("sig")),
        absl::StrCat(B64(GoodHeader().dump()), ".", B64("{not json"), ".", B64("sig")),
        absl::StrCat(B64(GoodHeader().dump()), ".", B64(GoodPayload().dump()), "."),
        std::string("\xff\xfe\x00\x01", 4)}) {
    absl::StatusOr<Principal> who = codec_.Verify(garbage);
    EXPECT_EQ(who.status().code(), absl::StatusCode::kUnauthenticated) << garbage;
  }
}

TEST_F(TokenTest, OverlongTokenIsUnauthenticated) {
  json payload = GoodPayload();
  payload["pad"] = std::string(5000, 'x');
  absl::StatusOr<Principal> who = codec_.Verify(SignedToken(GoodHeader(), payload, kSecret));
  EXPECT_EQ(who.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(who.status().message(), "token too long");
}

TEST_F(TokenTest, TokenSignedWithAnotherSecretIsUnauthenticated) {
  TokenCodec other(kOtherSecret);
  absl::StatusOr<std::string> token =
      other.Issue({"anna", v1::ROLE_ADMIN}, absl::Hours(1), clock_.Now());
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(codec_.Verify(*token).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(codec_.Verify(SignedToken(GoodHeader(), GoodPayload(), kOtherSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, TamperedPayloadIsUnauthenticated) {
  absl::StatusOr<std::string> token =
      codec_.Issue({"anna", v1::ROLE_AGENT}, absl::Hours(1), clock_.Now());
  ASSERT_TRUE(token.ok());
  std::vector<std::string> parts = absl::StrSplit(*token, '.');
  ASSERT_EQ(parts.size(), 3u);
  std::string payload_text;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(parts[1], &payload_text));
  json payload = json::parse(payload_text);
  payload["role"] = "admin";
  const std::string forged = absl::StrCat(parts[0], ".", B64(payload.dump()), ".", parts[2]);
  EXPECT_EQ(codec_.Verify(forged).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, ExpiredTokenIsUnauthenticated) {
  clock_.Advance(-absl::Hours(3));  // issued three hours ago, valid for one
  absl::StatusOr<std::string> token =
      codec_.Issue({"anna", v1::ROLE_SENIOR}, absl::Hours(1), clock_.Now());
  ASSERT_TRUE(token.ok());
  absl::StatusOr<Principal> who = codec_.Verify(*token);
  EXPECT_EQ(who.status().code(), absl::StatusCode::kUnauthenticated);

  json payload = GoodPayload();
  payload["exp"] = absl::ToUnixSeconds(absl::Now() - absl::Minutes(5));
  EXPECT_EQ(codec_.Verify(SignedToken(GoodHeader(), payload, kSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, ATokenVerifiedBeforeStillExpiresOnTime) {
  // The second and later calls of a token are answered from memory: that answer must end at
  // the token's `exp` like the first one's would.
  absl::StatusOr<std::string> token =
      codec_.Issue({"anna", v1::ROLE_SENIOR}, absl::Seconds(1), absl::Now());
  ASSERT_TRUE(token.ok());
  absl::StatusOr<Principal> who = codec_.Verify(*token);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(codec_.Verify(*token)->id, "anna");
  // `exp` has whole seconds: at most two from now it has passed.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(codec_.Verify(*token).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(codec_.Verify(*token).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, ATokenIsCheckedInFullOnlyTheFirstTime) {
  // Every call verifies its token: the signature check and JSON parsing run once per token, the
  // later calls are answered from memory. A refused token is never remembered.
  const std::string anna = *codec_.Issue({"anna", v1::ROLE_SENIOR}, absl::Hours(1), absl::Now());
  const std::string mei = *codec_.Issue({"mei", v1::ROLE_AGENT}, absl::Hours(1), absl::Now());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(codec_.Verify(anna)->id, "anna");
    EXPECT_EQ(codec_.Verify(mei)->id, "mei");
  }
  EXPECT_EQ(codec_.full_checks(), 2);
  const std::string forged = SignedToken(GoodHeader(), GoodPayload(), kOtherSecret);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(codec_.Verify(forged).status().code(), absl::StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(codec_.full_checks(), 5);
}

TEST_F(TokenTest, ManyThreadsVerifyingTokensAgreeWithOneAnother) {
  // Racing first and later calls of the same tokens give every caller its own token's person.
  std::vector<std::string> tokens;
  for (int i = 0; i < 50; ++i) {
    tokens.push_back(*codec_.Issue({absl::StrCat("p", i), v1::ROLE_AGENT}, absl::Hours(1),
                                   absl::Now()));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 500; ++k) {
        const int i = (k * 7 + t) % 50;
        auto p = codec_.Verify(tokens[i]);
        if (!p.ok() || p->id != absl::StrCat("p", i)) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(TokenTest, ExpiryAtTheEpochIsUnauthenticated) {
  json payload = GoodPayload();
  payload["exp"] = 0;
  EXPECT_EQ(codec_.Verify(SignedToken(GoodHeader(), payload, kSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

// cpp-jwt reads `exp` as unsigned, so a negative `exp` would wrap to a far future: Verify must
// refuse it itself.
TEST_F(TokenTest, NegativeExpiryIsUnauthenticated) {
  json payload = GoodPayload();
  payload["exp"] = -1;
  absl::StatusOr<Principal> who = codec_.Verify(SignedToken(GoodHeader(), payload, kSecret));
  EXPECT_EQ(who.status().code(), absl::StatusCode::kUnauthenticated) << who.status();
}

TEST_F(TokenTest, AlgNoneIsUnauthenticated) {
  const json header = {{"alg", "none"}, {"typ", "JWT"}};
  // Unsigned: empty third part.
  const std::string unsigned_token =
      absl::StrCat(B64(header.dump()), ".", B64(GoodPayload().dump()), ".");
  EXPECT_EQ(codec_.Verify(unsigned_token).status().code(), absl::StatusCode::kUnauthenticated);
  // "none" with a signature that would be right for HS256.
  EXPECT_EQ(codec_.Verify(SignedToken(header, GoodPayload(), kSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Upper-case spelling.
  const json upper = {{"alg", "NONE"}, {"typ", "JWT"}};
  EXPECT_EQ(codec_.Verify(absl::StrCat(B64(upper.dump()), ".", B64(GoodPayload().dump()), "."))
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, OtherAlgorithmIsUnauthenticated) {
  const json header = {{"alg", "HS512"}, {"typ", "JWT"}};
  EXPECT_EQ(codec_.Verify(SignedToken(header, GoodPayload(), kSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, WrongOrMissingIssuerIsUnauthenticated) {
  json payload = GoodPayload();
  payload["iss"] = "someone-else";
  EXPECT_EQ(codec_.Verify(SignedToken(GoodHeader(), payload, kSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
  payload.erase("iss");
  EXPECT_EQ(codec_.Verify(SignedToken(GoodHeader(), payload, kSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, WrongOrMissingAudienceIsUnauthenticated) {
  json payload = GoodPayload();
  payload["aud"] = "another-service";
  EXPECT_EQ(codec_.Verify(SignedToken(GoodHeader(), payload, kSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
  payload.erase("aud");
  EXPECT_EQ(codec_.Verify(SignedToken(GoodHeader(), payload, kSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, TokenWithoutExpiryIsUnauthenticated) {
  json payload = GoodPayload();
  payload.erase("exp");
  absl::StatusOr<Principal> who = codec_.Verify(SignedToken(GoodHeader(), payload, kSecret));
  EXPECT_EQ(who.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(who.status().message(), "token has no expiry");
}

TEST_F(TokenTest, NonNumericExpiryIsUnauthenticated) {
  json payload = GoodPayload();
  payload["exp"] = "tomorrow";
  EXPECT_EQ(codec_.Verify(SignedToken(GoodHeader(), payload, kSecret)).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenTest, MissingOrMalformedSubjectOrRoleIsUnauthenticated) {
  struct Case {
    const char* what;
    json payload;
  };
  std::vector<Case> cases;
  json p = GoodPayload();
  p.erase("sub");
  cases.push_back({"no sub", p});
  p = GoodPayload();
  p.erase("role");
  cases.push_back({"no role", p});
  p = GoodPayload();
  p["sub"] = "Anna Jensen";
  cases.push_back({"bad sub", p});
  p = GoodPayload();
  p["sub"] = 42;
  cases.push_back({"numeric sub", p});
  p = GoodPayload();
  p["role"] = "pilot";
  cases.push_back({"unknown role", p});
  p = GoodPayload();
  p["role"] = "unspecified";
  cases.push_back({"unspecified role", p});
  for (const Case& c : cases) {
    EXPECT_EQ(codec_.Verify(SignedToken(GoodHeader(), c.payload, kSecret)).status().code(),
              absl::StatusCode::kUnauthenticated)
        << c.what;
  }
}

// ---------------------------------------------------------------------------------------------
// Roles

TEST(RoleTest, RoleNames) {
  EXPECT_EQ(RoleName(v1::ROLE_AGENT), "agent");
  EXPECT_EQ(RoleName(v1::ROLE_SENIOR), "senior");
  EXPECT_EQ(RoleName(v1::ROLE_TEAM_LEADER), "team_leader");
  EXPECT_EQ(RoleName(v1::ROLE_SUPERVISOR), "supervisor");
  EXPECT_EQ(RoleName(v1::ROLE_BOT), "bot");
  EXPECT_EQ(RoleName(v1::ROLE_ADMIN), "admin");
  EXPECT_EQ(RoleName(v1::ROLE_UNSPECIFIED), "unspecified");
  EXPECT_EQ(RoleName(static_cast<v1::Role>(42)), "unspecified");
}

TEST(RoleTest, ParseRoleRoundTripsEveryRole) {
  for (v1::Role r : {v1::ROLE_AGENT, v1::ROLE_SENIOR, v1::ROLE_TEAM_LEADER, v1::ROLE_SUPERVISOR,
                     v1::ROLE_BOT, v1::ROLE_ADMIN}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r) << RoleName(r);
    EXPECT_EQ(ParseRole(v1::Role_Name(r)), r) << v1::Role_Name(r);  // ROLE_SENIOR
  }
}

TEST(RoleTest, ParseRoleSpellings) {
  EXPECT_EQ(ParseRole("SENIOR"), v1::ROLE_SENIOR);
  EXPECT_EQ(ParseRole("Senior"), v1::ROLE_SENIOR);
  EXPECT_EQ(ParseRole("role_senior"), v1::ROLE_SENIOR);
  EXPECT_EQ(ParseRole("Team_Leader"), v1::ROLE_TEAM_LEADER);
  EXPECT_EQ(ParseRole("team-leader"), v1::ROLE_TEAM_LEADER);
  EXPECT_EQ(ParseRole("teamleader"), v1::ROLE_TEAM_LEADER);
  EXPECT_EQ(ParseRole("ROLE_TEAM-LEADER"), v1::ROLE_TEAM_LEADER);
}

TEST(RoleTest, ParseRoleUnknownIsUnspecified) {
  for (const char* s : {"", "pilot", "unspecified", "ROLE_UNSPECIFIED", "role_", " senior",
                        "senior ", "seniors", "role_role_senior", "team leader"}) {
    EXPECT_EQ(ParseRole(s), v1::ROLE_UNSPECIFIED) << "\"" << s << "\"";
  }
}

TEST(RoleTest, HelperRoles) {
  EXPECT_TRUE(IsHelperRole(v1::ROLE_SENIOR));
  EXPECT_TRUE(IsHelperRole(v1::ROLE_TEAM_LEADER));
  EXPECT_TRUE(IsHelperRole(v1::ROLE_SUPERVISOR));
  EXPECT_FALSE(IsHelperRole(v1::ROLE_AGENT));
  EXPECT_FALSE(IsHelperRole(v1::ROLE_BOT));
  EXPECT_FALSE(IsHelperRole(v1::ROLE_ADMIN));
  EXPECT_FALSE(IsHelperRole(v1::ROLE_UNSPECIFIED));
}

// ---------------------------------------------------------------------------------------------
// LoadTokenSecret

class LoadTokenSecretTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& contents) {
    std::string path = absl::StrCat(::testing::TempDir(), "/backline_token_test_", name);
    std::ofstream(path, std::ios::binary) << contents;
    written_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& p : written_) std::remove(p.c_str());
  }
  std::vector<std::string> written_;
};

TEST_F(LoadTokenSecretTest, ReadsFirstLineTrimmed) {
  const std::string secret(32, 's');
  absl::StatusOr<std::string> got =
      LoadTokenSecret(Write("ok", absl::StrCat("  \t", secret, "  \r\nsecond line\n")));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, secret);

  got = LoadTokenSecret(Write("no_newline", "0123456789abcdef0123456789abcdef0123"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "0123456789abcdef0123456789abcdef0123");
}

TEST_F(LoadTokenSecretTest, ShorterThan32BytesIsInvalidArgument) {
  const std::string path = Write("short", std::string(31, 's') + "\n");
  absl::StatusOr<std::string> got = LoadTokenSecret(path);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(),
            absl::StrCat("token secret in ", path, " is shorter than 32 bytes"));
}

TEST_F(LoadTokenSecretTest, LengthIsCountedAfterTrimming) {
  // 40 bytes on the line, but only 30 after trimming.
  EXPECT_EQ(
      LoadTokenSecret(Write("padded", "     " + std::string(30, 's') + "     \n")).status().code(),
      absl::StatusCode::kInvalidArgument);
  // A long second line does not help.
  EXPECT_EQ(
      LoadTokenSecret(Write("second", "short\n" + std::string(64, 's') + "\n")).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadTokenSecret(Write("empty", "")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LoadTokenSecretTest, MissingFileIsNotFound) {
  const std::string path = ::testing::TempDir() + "/backline_token_test_does_not_exist";
  absl::StatusOr<std::string> got = LoadTokenSecret(path);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), absl::StrCat("cannot read token secret file ", path));
}

TEST_F(LoadTokenSecretTest, LoadedSecretSignsTokens) {
  absl::StatusOr<std::string> secret = LoadTokenSecret(Write("use", std::string(kSecret) + "\n"));
  ASSERT_TRUE(secret.ok());
  TokenCodec from_file(*secret);
  TokenCodec direct(kSecret);
  FakeClock clock;
  absl::StatusOr<std::string> token =
      from_file.Issue({"mei", v1::ROLE_SUPERVISOR}, absl::Minutes(5), clock.Now());
  ASSERT_TRUE(token.ok());
  absl::StatusOr<Principal> who = direct.Verify(*token);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->id, "mei");
  EXPECT_EQ(who->role, v1::ROLE_SUPERVISOR);
}

}  // namespace
}  // namespace backline
