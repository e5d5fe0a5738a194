// Unit tests for the store's pure parsing: event cursors and announcements, Redis addresses and
// replies. Nothing here connects to Redis.
#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "backline/v1/common.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/store/event_log.h"
#include "services/store/redis_client.h"

namespace backline::store {
namespace {

// ---------------------------------------------------------------------------------------------
// IsValidCursor

TEST(IsValidCursorTest, AcceptsStreamIdsAndZero) {
  for (const char* c : {"0", "0-0", "1-0", "1700000000000-0", "1700000000000-42",
                        "18446744073709551615-18446744073709551615"}) {
    EXPECT_TRUE(IsValidCursor(c)) << c;
  }
}

TEST(IsValidCursorTest, RejectsOthers) {
  for (const char* c : {"",
                        "00",
                        "1",
                        "-",
                        "-0",
                        "1-",
                        "-1-0",
                        "1--1",
                        "1-0-0",
                        "a-1",
                        "1-a",
                        "+1-0",
                        "1-+0",
                        "1.5-0",
                        "0x10-0",
                        "1-0x1",
                        "18446744073709551616-0",
                        "1-18446744073709551616",
                        "$",
                        ">",
                        "*"}) {
    EXPECT_FALSE(IsValidCursor(c)) << "\"" << c << "\"";
  }
  // Longer than 41 bytes (zero-padded numbers that would otherwise parse).
  EXPECT_FALSE(IsValidCursor(std::string(21, '0') + "-" + std::string(20, '0')));
}

// Cursors are exactly `<ms>-<seq>` digits: the whitespace SimpleAtoi would skip is refused.
TEST(IsValidCursorTest, RejectsWhitespace) {
  for (const char* c : {" 1-0", "1 -0", "1- 0", "1-0 ", "1-0\n", "\t1-0"}) {
    EXPECT_FALSE(IsValidCursor(c)) << "\"" << c << "\"";
  }
}

// ---------------------------------------------------------------------------------------------
// CompareCursors

TEST(CompareCursorsTest, OrdersNumericallyByTimeThenSequence) {
  EXPECT_EQ(CompareCursors("1-0", "1-0"), 0);
  EXPECT_EQ(CompareCursors("0", "0-0"), 0);
  EXPECT_EQ(CompareCursors("0-0", "0"), 0);
  EXPECT_LT(CompareCursors("0", "1-0"), 0);
  EXPECT_LT(CompareCursors("9-0", "10-0"), 0) << "numeric, not lexicographic";
  EXPECT_GT(CompareCursors("10-0", "9-0"), 0);
  EXPECT_LT(CompareCursors("5-1", "5-2"), 0);
  EXPECT_GT(CompareCursors("5-10", "5-9"), 0);
  EXPECT_LT(CompareCursors("1700000000000-99", "1700000000001-0"), 0);
  EXPECT_GT(CompareCursors("18446744073709551615-0", "18446744073709551614-99"), 0);
  EXPECT_EQ(CompareCursors("18446744073709551615-18446744073709551615",
                           "18446744073709551615-18446744073709551615"),
            0);
}

TEST(CompareCursorsTest, IsAntisymmetric) {
  const char* cursors[] = {"0", "0-1", "1-0", "1-1", "2-0", "10-0", "1700000000000-3"};
  for (const char* a : cursors) {
    for (const char* b : cursors) {
      EXPECT_EQ(CompareCursors(a, b), -CompareCursors(b, a)) << a << " vs " << b;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ParseEventAnnouncement

TEST(ParseEventAnnouncementTest, SplitsUserCursorPrevPayload) {
  std::string user;
  StoredEvent ev;
  ASSERT_TRUE(
      ParseEventAnnouncement("anna\n1700000000000-1\n1700000000000-0\npayload", &user, &ev));
  EXPECT_EQ(user, "anna");
  EXPECT_EQ(ev.cursor, "1700000000000-1");
  EXPECT_EQ(ev.prev, "1700000000000-0");
  EXPECT_EQ(ev.payload, "payload");
}

TEST(ParseEventAnnouncementTest, NamesTheSessionOfOriginWhenAnnouncedWithOne) {
  std::string user, origin = "before";
  StoredEvent ev;
  ASSERT_TRUE(ParseEventAnnouncement("anna desk-1\n2-0\n1-0\nx y\n", &user, &ev, &origin));
  EXPECT_EQ(user, "anna");
  EXPECT_EQ(origin, "desk-1");
  EXPECT_EQ(ev.cursor, "2-0");
  EXPECT_EQ(ev.payload, "x y\n");

  ASSERT_TRUE(ParseEventAnnouncement("anna\n3-0\n2-0\np q", &user, &ev, &origin));
  EXPECT_EQ(user, "anna");
  EXPECT_EQ(origin, "");
  // Without a place for it, the origin is dropped and the user still comes out alone.
  ASSERT_TRUE(ParseEventAnnouncement("bo tray:7\n4-0\n3-0\n", &user, &ev));
  EXPECT_EQ(user, "bo");
}

TEST(ParseEventAnnouncementTest, PayloadKeepsNewlinesAndBinaryBytes) {
  const std::string payload("line1\nline2\n\n\x00\x01\xff\xfe\n\r\n", 20);
  ASSERT_EQ(payload.size(), 20u);
  const std::string message = absl::StrCat("bo\n5-0\n4-7\n", payload);
  std::string user;
  StoredEvent ev;
  ASSERT_TRUE(ParseEventAnnouncement(message, &user, &ev));
  EXPECT_EQ(user, "bo");
  EXPECT_EQ(ev.cursor, "5-0");
  EXPECT_EQ(ev.prev, "4-7");
  EXPECT_EQ(ev.payload, payload);
  EXPECT_EQ(ev.payload.size(), 20u);
}

TEST(ParseEventAnnouncementTest, SerializedEventRoundTrips) {
  v1::Event event;
  event.mutable_notice()->set_code("missed_offers");
  event.mutable_notice()->set_text("You missed\n3 offers \xE2\x80\x94 set on BREAK");
  event.mutable_time()->set_seconds(10);  // encodes as the byte 0x0A, a newline
  std::string payload;
  ASSERT_TRUE(event.SerializeToString(&payload));
  ASSERT_NE(payload.find('\n'), std::string::npos) << "the payload should contain newlines";

  std::string user;
  StoredEvent ev;
  ASSERT_TRUE(ParseEventAnnouncement(absl::StrCat("mei\n9-0\n8-0\n", payload), &user, &ev));
  v1::Event parsed;
  ASSERT_TRUE(parsed.ParseFromString(ev.payload));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed, event));
}

TEST(ParseEventAnnouncementTest, EmptyPayloadAndFields) {
  std::string user;
  StoredEvent ev;
  ASSERT_TRUE(ParseEventAnnouncement("anna\n1-0\n0-0\n", &user, &ev));
  EXPECT_EQ(user, "anna");
  EXPECT_EQ(ev.cursor, "1-0");
  EXPECT_EQ(ev.prev, "0-0");
  EXPECT_EQ(ev.payload, "");

  ASSERT_TRUE(ParseEventAnnouncement("\n\n\n", &user, &ev));
  EXPECT_EQ(user, "");
  EXPECT_EQ(ev.cursor, "");
  EXPECT_EQ(ev.prev, "");
  EXPECT_EQ(ev.payload, "");
}

TEST(ParseEventAnnouncementTest, RejectsFewerThanThreeNewlines) {
  for (const char* m : {"", "anna", "anna\n1-0", "anna\n1-0\n0-0", "\n\n"}) {
    std::string user = "before";
    StoredEvent ev;
    EXPECT_FALSE(ParseEventAnnouncement(m, &user, &ev)) << m;
  }
}

// ---------------------------------------------------------------------------------------------
// ParseRedisAddress

TEST(ParseRedisAddressTest, HostOnlyUsesDefaults) {
  absl::StatusOr<RedisOptions> o = ParseRedisAddress("cache.internal");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->host, "cache.internal");
  EXPECT_EQ(o->port, 6379);
  EXPECT_EQ(o->db, 0);
  EXPECT_EQ(o->password, "");
}

TEST(ParseRedisAddressTest, HostAndPort) {
  absl::StatusOr<RedisOptions> o = ParseRedisAddress("10.0.0.5:6380");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->host, "10.0.0.5");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->db, 0);
  EXPECT_EQ(o->password, "");

  o = ParseRedisAddress("localhost:65535");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 65535);
  o = ParseRedisAddress("localhost:1");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 1);
}

TEST(ParseRedisAddressTest, UrlWithPasswordAndDatabase) {
  absl::StatusOr<RedisOptions> o = ParseRedisAddress("redis://:s3cret@cache.internal:6380/2");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->host, "cache.internal");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->db, 2);
  EXPECT_EQ(o->password, "s3cret");
}

TEST(ParseRedisAddressTest, UrlVariants) {
  absl::StatusOr<RedisOptions> o = ParseRedisAddress("redis://cache:7000");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->host, "cache");
  EXPECT_EQ(o->port, 7000);
  EXPECT_EQ(o->db, 0);
  EXPECT_EQ(o->password, "");

  o = ParseRedisAddress("redis://cache/5");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->host, "cache");
  EXPECT_EQ(o->port, 6379);
  EXPECT_EQ(o->db, 5);

  o = ParseRedisAddress("redis://cache:6379/");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->db, 0);

  // A user name before the colon is ignored; the password may contain '@', ':' and '/'.
  o = ParseRedisAddress("redis://default:p@ss:w/rd@cache:6390/1");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->password, "p@ss:w/rd");
  EXPECT_EQ(o->host, "cache");
  EXPECT_EQ(o->port, 6390);
  EXPECT_EQ(o->db, 1);

  // Without a colon the whole credential is the password.
  o = ParseRedisAddress("redis://hunter2@cache");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->password, "hunter2");
  EXPECT_EQ(o->host, "cache");
}

TEST(ParseRedisAddressTest, BadPort) {
  for (const char* a : {"cache:", "cache:abc", "cache:0", "cache:-1", "cache:65536", "cache:6379x",
                        "redis://cache:http/1", "cache:6379/2"}) {
    absl::StatusOr<RedisOptions> o = ParseRedisAddress(a);
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << a;
    EXPECT_EQ(o.status().message(), absl::StrCat("redis address: bad port in ", a));
  }
}

TEST(ParseRedisAddressTest, BadDatabase) {
  for (const char* a : {"redis://cache:6379/x", "redis://cache:6379/-1", "redis://cache/1.5"}) {
    absl::StatusOr<RedisOptions> o = ParseRedisAddress(a);
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << a;
    EXPECT_EQ(o.status().message(), absl::StrCat("redis address: bad database in ", a));
  }
}

TEST(ParseRedisAddressTest, MissingHost) {
  for (const char* a :
       {"", ":6379", "redis://", "redis://:6379", "redis://:pw@:6380/2", "redis:///3"}) {
    absl::StatusOr<RedisOptions> o = ParseRedisAddress(a);
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << a;
    EXPECT_EQ(o.status().message(), absl::StrCat("redis address: no host in ", a));
  }
}

// ---------------------------------------------------------------------------------------------
// RedisReply

RedisReply Reply(RedisReply::Type type, std::string str = "", long long integer = 0) {
  RedisReply r;
  r.type = type;
  r.str = std::move(str);
  r.integer = integer;
  return r;
}

TEST(RedisReplyTest, AsString) {
  EXPECT_EQ(Reply(RedisReply::Type::kString, "abc").AsString(), "abc");
  EXPECT_EQ(Reply(RedisReply::Type::kString, std::string("a\0b", 3)).AsString(),
            std::string("a\0b", 3));
  EXPECT_EQ(Reply(RedisReply::Type::kStatus, "OK").AsString(), "OK");
  EXPECT_EQ(Reply(RedisReply::Type::kInteger, "", 42).AsString(), "42");
  EXPECT_EQ(Reply(RedisReply::Type::kInteger, "", -7).AsString(), "-7");
  EXPECT_EQ(Reply(RedisReply::Type::kNil).AsString(), "");
  EXPECT_EQ(Reply(RedisReply::Type::kError, "ERR wrong type").AsString(), "");
  RedisReply array = Reply(RedisReply::Type::kArray);
  array.elements.push_back(Reply(RedisReply::Type::kString, "x"));
  EXPECT_EQ(array.AsString(), "");
}

TEST(RedisReplyTest, AsInteger) {
  EXPECT_EQ(Reply(RedisReply::Type::kInteger, "", 42).AsInteger(), 42);
  EXPECT_EQ(Reply(RedisReply::Type::kInteger, "", -9).AsInteger(-1), -9);
  EXPECT_EQ(Reply(RedisReply::Type::kString, "123").AsInteger(), 123);
  EXPECT_EQ(Reply(RedisReply::Type::kString, "-5").AsInteger(), -5);
  EXPECT_EQ(Reply(RedisReply::Type::kString, "9223372036854775807").AsInteger(),
            9223372036854775807LL);
  EXPECT_EQ(Reply(RedisReply::Type::kStatus, "7").AsInteger(), 7);
  EXPECT_EQ(Reply(RedisReply::Type::kString, "abc").AsInteger(-1), -1);
  EXPECT_EQ(Reply(RedisReply::Type::kString, "").AsInteger(-1), -1);
  EXPECT_EQ(Reply(RedisReply::Type::kString, "1.5").AsInteger(-1), -1);
  EXPECT_EQ(Reply(RedisReply::Type::kString, "9223372036854775808").AsInteger(-1), -1);
  EXPECT_EQ(Reply(RedisReply::Type::kNil).AsInteger(), 0);
  EXPECT_EQ(Reply(RedisReply::Type::kNil).AsInteger(-1), -1);
  EXPECT_EQ(Reply(RedisReply::Type::kError, "123").AsInteger(-1), -1);
  EXPECT_EQ(Reply(RedisReply::Type::kArray).AsInteger(-1), -1);
}

TEST(RedisReplyTest, Predicates) {
  EXPECT_TRUE(RedisReply().is_nil());
  EXPECT_FALSE(RedisReply().is_array());
  EXPECT_TRUE(Reply(RedisReply::Type::kArray).is_array());
  EXPECT_FALSE(Reply(RedisReply::Type::kArray).is_nil());
  EXPECT_FALSE(Reply(RedisReply::Type::kString, "").is_nil());
}

}  // namespace
}  // namespace backline::store
