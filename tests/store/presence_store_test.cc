// Roster and presence stores on a real Redis: applying a roster is idempotent and atomic, and
// the offerable index always agrees with the presence hashes, even with many writers racing.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/presence/redis_presence_store.h"
#include "services/presence/redis_roster_store.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

class PresenceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { SharedRedis().Flush(); }

  google::protobuf::RepeatedPtrField<v1::Person> Roster(int seniors) {
    google::protobuf::RepeatedPtrField<v1::Person> people;
    for (int i = 0; i < seniors; ++i) {
      *people.Add() = MakePerson(absl::StrCat("s", i), v1::ROLE_SENIOR, {{"billing", 1 + i % 5}},
                                 {i % 2 ? "da" : "zh-Hant-TW"}, 2);
    }
    return people;
  }

  store::RedisClient redis_{SharedRedis().client_options()};
  store::Keys keys_;
  FakeClock clock_;
  presence::RedisRosterStore roster_{&redis_, &keys_, {}, &clock_};
  presence::RedisPresenceStore presence_{&redis_, &keys_, {}, &clock_, {}};
};

TEST_F(PresenceStoreTest, ApplyIsIdempotentAndReportsTheDifference) {
  auto first = roster_.Apply(Roster(10), false);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->added_size(), 10);
  const std::string digest = SharedRedis().Digest();
  auto again = roster_.Apply(Roster(10), false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->unchanged(), 10);
  EXPECT_EQ(SharedRedis().Digest(), digest) << "applying the same roster changed Redis";

  auto smaller = Roster(8);
  smaller.Mutable(0)->mutable_skills(0)->set_proficiency(5);
  auto dry = roster_.Apply(smaller, true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->updated_size(), 1);
  EXPECT_EQ(dry->removed_size(), 2);
  EXPECT_EQ(SharedRedis().Digest(), digest) << "a dry run changed Redis";
  ASSERT_TRUE(roster_.Apply(smaller, false).ok());
  EXPECT_EQ(roster_.Get("s9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(redis_.Command({"ZSCORE", keys_.SkillIndex("billing"), "s0"})->str, "5");
  EXPECT_TRUE(redis_.Command({"ZSCORE", keys_.SkillIndex("billing"), "s9"})->is_nil());
  // Language prefixes are indexed: zh-Hant-TW speakers are found under zh and zh-Hant.
  EXPECT_EQ(redis_.Command({"SISMEMBER", keys_.LanguageIndex("zh-Hant"), "s0"})->integer, 1);
  EXPECT_EQ(redis_.Command({"SISMEMBER", keys_.LanguageIndex("zh"), "s0"})->integer, 1);
}

TEST_F(PresenceStoreTest, InvalidRosterChangesNothing) {
  ASSERT_TRUE(roster_.Apply(Roster(3), false).ok());
  const std::string digest = SharedRedis().Digest();
  auto bad = Roster(5);
  bad.Mutable(4)->mutable_skills(0)->set_proficiency(6);
  auto r = roster_.Apply(bad, false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("people[4]"), std::string::npos) << r.status();
  EXPECT_EQ(SharedRedis().Digest(), digest);
}

// Ranking: every requirement met (each skill at its own minimum, the language), best weakest
// proficiency first, then longest idle; the requester and the excluded are never returned.
TEST_F(PresenceStoreTest, CandidatesAreRankedByWeakestSkillThenIdleTime) {
  google::protobuf::RepeatedPtrField<v1::Person> people;
  *people.Add() = MakePerson("a", v1::ROLE_SENIOR, {{"billing", 5}, {"refunds", 2}}, {"da"});
  *people.Add() = MakePerson("b", v1::ROLE_SENIOR, {{"billing", 3}, {"refunds", 3}}, {"da"});
  *people.Add() = MakePerson("c", v1::ROLE_SENIOR, {{"billing", 4}, {"refunds", 4}}, {"da-DK"});
  *people.Add() = MakePerson("d", v1::ROLE_SENIOR, {{"billing", 4}, {"refunds", 4}}, {"da"});
  *people.Add() = MakePerson("e", v1::ROLE_SENIOR, {{"billing", 5}, {"refunds", 5}}, {"nl"});
  *people.Add() = MakePerson("f", v1::ROLE_SENIOR, {{"billing", 5}}, {"da"});
  *people.Add() = MakePerson("g", v1::ROLE_SENIOR, {{"billing", 5}, {"refunds", 5}}, {"da"});
  ASSERT_TRUE(roster_.Apply(people, false).ok());
  // Become available in this order (so d has been idle longer than c); g stays on break.
  for (const char* id : {"a", "b", "d", "c", "e", "f"}) {
    ASSERT_TRUE(presence_.SetStatus(id, v1::PRESENCE_STATUS_AVAILABLE, "", true).ok());
    clock_.Advance(absl::Seconds(1));
  }
  ASSERT_TRUE(presence_.SetStatus("g", v1::PRESENCE_STATUS_BREAK, "", true).ok());
  auto ids = [](const std::vector<presence::Candidate>& cs) {
    std::vector<std::string> out;
    for (const auto& c : cs) out.push_back(c.id);
    return out;
  };
  presence::HelperRequirements req;
  req.skills = {{"billing", 3}, {"refunds", 3}};
  req.language = "da";
  auto ranked = presence_.SelectCandidates(req, 10);
  ASSERT_TRUE(ranked.ok()) << ranked.status();
  // a: refunds 2 < 3; e: no Danish; f: no refunds; g: on break. c speaks da-DK, found under da.
  EXPECT_EQ(ids(*ranked), (std::vector<std::string>{"d", "c", "b"}));
  EXPECT_EQ((*ranked)[0].proficiency, 4);
  EXPECT_EQ((*ranked)[2].proficiency, 3);

  req.exclude_person = "d";
  EXPECT_EQ(ids(*presence_.SelectCandidates(req, 10)), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(ids(*presence_.SelectCandidates(req, 1)), (std::vector<std::string>{"c"}));

  presence::HelperRequirements one;
  one.skills = {{"billing", 4}};
  ranked = presence_.SelectCandidates(one, 10);
  // Weakest = billing itself: the fives (by idle: a, e, f), then the fours (d, c).
  EXPECT_EQ(ids(*ranked), (std::vector<std::string>{"a", "e", "f", "d", "c"}));
  ASSERT_TRUE(redis_.Command({"SADD", "declined-test", "a", "f"}).ok());
  one.excluded_set_key = "declined-test";
  EXPECT_EQ(ids(*presence_.SelectCandidates(one, 10)), (std::vector<std::string>{"e", "d", "c"}));
  // The scratch key never outlives a call.
  EXPECT_EQ(redis_.Command({"EXISTS", keys_.Scratch()})->integer, 0);

  // Several selections in one round trip rank exactly as one at a time, in the order asked,
  // with a bad one failing alone.
  presence::HelperRequirements none;
  auto many = presence_.SelectCandidatesMany({req, one, none, req}, 10);
  ASSERT_TRUE(many.ok()) << many.status();
  ASSERT_EQ(many->size(), 4u);
  for (size_t i : {0u, 1u, 3u}) ASSERT_TRUE((*many)[i].ok()) << i << ": " << (*many)[i].status();
  EXPECT_EQ(ids(*(*many)[0]), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(ids(*(*many)[1]), (std::vector<std::string>{"e", "d", "c"}));
  EXPECT_EQ((*many)[2].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ids(*(*many)[3]), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(redis_.Command({"EXISTS", keys_.Scratch()})->integer, 0);
}

// A ring's roles: one role set, or several (anyone with one of them), in every ranking; people
// with none of them are never returned, however well they rank.
TEST_F(PresenceStoreTest, CandidatesHaveOneOfTheRingsRoles) {
  google::protobuf::RepeatedPtrField<v1::Person> people;
  *people.Add() = MakePerson("agent", v1::ROLE_AGENT, {{"billing", 5}}, {"da"});
  *people.Add() = MakePerson("senior", v1::ROLE_SENIOR, {{"billing", 3}}, {"da"});
  *people.Add() = MakePerson("leader", v1::ROLE_TEAM_LEADER, {{"billing", 4}}, {"da"});
  *people.Add() = MakePerson("super", v1::ROLE_SUPERVISOR, {{"billing", 2}}, {"da"});
  ASSERT_TRUE(roster_.Apply(people, false).ok());
  for (const char* id : {"agent", "super", "leader", "senior"}) {
    ASSERT_TRUE(presence_.SetStatus(id, v1::PRESENCE_STATUS_AVAILABLE, "", true).ok());
    clock_.Advance(absl::Seconds(1));
  }
  auto ids = [](const absl::StatusOr<std::vector<presence::Candidate>>& cs) {
    std::vector<std::string> out;
    if (!cs.ok()) return std::vector<std::string>{cs.status().ToString()};
    for (const auto& c : *cs) out.push_back(c.id);
    return out;
  };
  presence::HelperRequirements req;
  req.skills = {{"billing", 1}};
  // An agent is never offered work, whatever their skills.
  EXPECT_EQ(ids(presence_.SelectCandidates(req, 10)),
            (std::vector<std::string>{"leader", "senior", "super"}));
  req.role_keys = {keys_.RoleIndex("senior")};
  EXPECT_EQ(ids(presence_.SelectCandidates(req, 10)), (std::vector<std::string>{"senior"}));
  req.role_keys = {keys_.RoleIndex("senior"), keys_.RoleIndex("supervisor")};
  EXPECT_EQ(ids(presence_.SelectCandidates(req, 10)), (std::vector<std::string>{"senior", "super"}));
  EXPECT_EQ(ids(presence_.SelectCandidates(req, 1)), (std::vector<std::string>{"senior"}));
  req.ranking = presence::HelperRequirements::Ranking::kLongestIdle;
  EXPECT_EQ(ids(presence_.SelectCandidates(req, 10)), (std::vector<std::string>{"super", "senior"}));
  req.role_keys = {keys_.RoleIndex("agent"), keys_.RoleIndex("team_leader"),
                   keys_.RoleIndex("supervisor")};
  EXPECT_EQ(ids(presence_.SelectCandidates(req, 10)), (std::vector<std::string>{"super", "leader"}));
  req.ranking = presence::HelperRequirements::Ranking::kLeastLoaded;
  EXPECT_EQ(ids(presence_.SelectCandidates(req, 1)), (std::vector<std::string>{"super"}));
  EXPECT_EQ(redis_.Command({"EXISTS", keys_.Scratch()})->integer, 0);
}

TEST_F(PresenceStoreTest, StatusUnknownPersonIsNotFound) {
  EXPECT_EQ(presence_.SetStatus("ghost", v1::PRESENCE_STATUS_AVAILABLE, "", true).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(presence_.Get("ghost").status().code(), absl::StatusCode::kNotFound);
}

// Racing status changes, heartbeats, liveness expiry and roster changes from many threads;
// afterwards the
// offerable index holds exactly the people whose hash says they are offerable.
TEST_F(PresenceStoreTest, OfferableIndexNeverDisagreesWithTheHashes) {
  ASSERT_TRUE(roster_.Apply(Roster(30), false).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      const v1::PresenceStatus statuses[] = {v1::PRESENCE_STATUS_AVAILABLE,
                                             v1::PRESENCE_STATUS_BREAK, v1::PRESENCE_STATUS_ON_CALL,
                                             v1::PRESENCE_STATUS_OFFLINE};
      for (int i = 0; i < 300; ++i) {
        const std::string id = absl::StrCat("s", rng() % 30);
        if (rng() % 4 == 0) {
          ASSERT_TRUE(presence_.Heartbeat(id, absl::StrCat("desk", t)).ok());
        } else {
          ASSERT_TRUE(presence_.SetStatus(id, statuses[rng() % 4], "", rng() % 2 == 0).ok());
        }
      }
    });
  }
  // Liveness expiry racing the rest: time moves on and people's liveness is checked.
  threads.emplace_back([&] {
    std::mt19937 rng(99);
    for (int i = 0; i < 300; ++i) {
      clock_.Advance(absl::Milliseconds(100));
      ASSERT_TRUE(presence_.CheckLiveness(absl::StrCat("s", rng() % 30)).ok());
    }
  });
  threads.emplace_back([&] {
    for (int i = 0; i < 10; ++i) {
      auto r = Roster(30);
      r.Mutable(i)->set_capacity(i % 3);
      r.Mutable(i)->mutable_skills(0)->set_proficiency(5 - i % 5);
      ASSERT_TRUE(roster_.Apply(r, false).ok());
    }
  });
  for (auto& t : threads) t.join();
  auto members = [&](const std::string& key) {
    std::set<std::string> out;
    auto r = redis_.Command({"ZRANGE", key, "0", "-1"});
    EXPECT_TRUE(r.ok());
    if (r.ok()) {
      for (const auto& e : r->elements) out.insert(e.str);
    }
    return out;
  };
  const std::set<std::string> offerable = members(keys_.Offerable());
  const std::set<std::string> on_call = members(keys_.OnCallIndex());
  for (int i = 0; i < 30; ++i) {
    const std::string id = absl::StrCat("s", i);
    auto f = redis_.Command({"HMGET", keys_.Presence(id), "status", "alive", "load", "capacity"});
    ASSERT_TRUE(f.ok());
    const bool room =
        f->elements[1].str == "1" && f->elements[2].AsInteger() < f->elements[3].AsInteger();
    EXPECT_EQ(offerable.count(id) == 1, f->elements[0].str == "1" && room) << id;
    EXPECT_EQ(on_call.count(id) == 1, f->elements[0].str == "2" && room) << id;
    auto load = redis_.Command({"ZSCORE", keys_.LoadIndex(), id});
    ASSERT_TRUE(load.ok());
    EXPECT_EQ(load->AsInteger(-1), f->elements[2].AsInteger()) << id;
    // The free indexes list exactly the offerable, under their skill's level, by idle time.
    auto person = roster_.Get(id);
    ASSERT_TRUE(person.ok());
    const int level = person->skills(0).proficiency();
    for (int l = 1; l <= 5; ++l) {
      auto score = redis_.Command({"ZSCORE", keys_.FreeIndex("billing", l), id});
      ASSERT_TRUE(score.ok());
      if (l == level && offerable.count(id)) {
        EXPECT_EQ(score->str, redis_.Command({"ZSCORE", keys_.Offerable(), id})->str) << id;
      } else {
        EXPECT_TRUE(score->is_nil()) << id << " is listed free at billing level " << l;
      }
    }
  }
}

// The free indexes are the one-skill ranking that intersecting the indexes gives: for random
// rosters, presence and requirements both ways agree, person for person — also before the
// indexes were ever built (an upgrade), until a roster change builds them.
TEST_F(PresenceStoreTest, FreeIndexesRankAsTheIntersectionDoes) {
  std::mt19937 rng(7);
  const char* skills[] = {"billing", "refunds", "hardware"};
  const char* langs[] = {"da", "nl", "lt"};
  const v1::Role roles[] = {v1::ROLE_SENIOR, v1::ROLE_TEAM_LEADER, v1::ROLE_SUPERVISOR};
  google::protobuf::RepeatedPtrField<v1::Person> people;
  for (int i = 0; i < 60; ++i) {
    std::map<std::string, int> have;
    for (const char* skill : skills) {
      if (rng() % 3 != 0) have[skill] = 1 + static_cast<int>(rng() % 5);
    }
    v1::Person p = MakePerson(absl::StrCat("p", i), roles[rng() % 3], have,
                              {langs[rng() % 3]}, 1 + static_cast<int>(rng() % 3));
    p.set_team(absl::StrCat("team", rng() % 3));
    *people.Add() = std::move(p);
  }
  ASSERT_TRUE(roster_.Apply(people, false).ok());
  for (int i = 0; i < 60; ++i) {
    const v1::PresenceStatus status =
        rng() % 4 == 0 ? v1::PRESENCE_STATUS_BREAK : v1::PRESENCE_STATUS_AVAILABLE;
    ASSERT_TRUE(presence_.SetStatus(absl::StrCat("p", i), status, "", true).ok());
    clock_.Advance(absl::Milliseconds(rng() % 3));  // some idle since the same moment
  }
  ASSERT_TRUE(redis_.Command({"SADD", "declined-test", "p3", "p7", "p11", "p19"}).ok());
  auto query = [&](int n) {
    presence::HelperRequirements req;
    req.skills = {{skills[n % 3], 1 + (n / 3) % 5}};
    if (n % 2) req.language = langs[n % 3];
    if (n % 5 == 0) req.excluded_set_key = "declined-test";
    if (n % 7 == 0) req.scope_key = keys_.TeamIndex(absl::StrCat("team", n % 3));
    if (n % 4 == 1) req.role_keys = {keys_.RoleIndex("senior")};
    if (n % 4 == 2) req.role_keys = {keys_.RoleIndex("senior"), keys_.RoleIndex("supervisor")};
    req.exclude_person = absl::StrCat("p", n % 60);
    return req;
  };
  auto rank = [&](const presence::HelperRequirements& req, int limit) {
    auto r = presence_.SelectCandidates(req, limit);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> out;
    for (const auto& c : r.value_or(std::vector<presence::Candidate>{})) {
      out.push_back(absl::StrCat(c.id, "/", c.proficiency, "/", c.idle_since_ms, "/", c.load));
    }
    return out;
  };
  auto rank_all = [&]() {
    std::vector<std::vector<std::string>> out;
    for (int n = 0; n < 90; ++n) {
      for (int limit : {1, 3, 50}) out.push_back(rank(query(n), limit));
    }
    return out;
  };
  ASSERT_EQ(redis_.Command({"EXISTS", keys_.FreeIndexReady()})->integer, 1);
  const auto from_free = rank_all();
  size_t found = 0;
  for (const auto& r : from_free) found += r.size();
  EXPECT_GT(found, 500u) << "the queries found too few people to compare anything";

  // Without the ready mark the same calls intersect the indexes.
  ASSERT_TRUE(redis_.Command({"DEL", keys_.FreeIndexReady()}).ok());
  EXPECT_EQ(rank_all(), from_free);

  // Data from before the free indexes: no skills in the presence hashes, no free indexes. The
  // intersection still ranks; the next roster change (even one that changes nothing) builds them.
  auto free_keys = redis_.Command({"KEYS", "*idx:free:*"});
  ASSERT_TRUE(free_keys.ok());
  for (const auto& k : free_keys->elements) ASSERT_TRUE(redis_.Command({"DEL", k.str}).ok());
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(redis_.Command({"HDEL", keys_.Presence(absl::StrCat("p", i)), "skills",
                                "free_in"}).ok());
  }
  EXPECT_EQ(rank_all(), from_free);
  auto again = roster_.Apply(people, false);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->unchanged(), 60);
  ASSERT_EQ(redis_.Command({"EXISTS", keys_.FreeIndexReady()})->integer, 1);
  EXPECT_EQ(rank_all(), from_free);
}

}  // namespace
}  // namespace backline::testing
