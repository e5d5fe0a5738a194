// Unit tests for the desktop tray's state (cli/qt_tray/tray_state): offers keyed by escalation
// and never back once closed, messages keyed by (thread, seq), unread counts that merge
// snapshots and events in any order, what it asks the server for, and what it shows — in the
// languages of the seed articles, byte for byte. No Qt, no network, a fixed clock.
#include "cli/qt_tray/tray_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/support/event_builders.h"
#include "tests/support/test_stack.h"

namespace backline::qt_tray {
namespace {

using ::backline::testing::DirectThread;
using ::backline::testing::OfferedEscalation;
using ::backline::testing::OfferMadeEvent;
using ::backline::testing::PostedEvent;
using ::backline::testing::Stamp;
using ::backline::testing::TextMessage;
using ::backline::testing::WaitingChangedEvent;
using ::backline::testing::WaitingEscalation;

const absl::Time kNow = ::backline::testing::kEventTime;

// An escalation `id` from anna, offered to `helper` with offer `offer_id`, lapsing in 15 s.
v1::Escalation Offered(const std::string& id, const std::string& offer_id,
                       const std::string& helper = "soren",
                       const std::string& question = "Kunden vil have en refusion") {
  v1::Escalation e = OfferedEscalation(id, offer_id, helper, question, kNow + absl::Seconds(15));
  e.set_priority(v1::PRIORITY_HIGH);
  e.set_thread_id("thr-" + id);
  return e;
}

v1::Event OfferClosedEvent(const std::string& id, const std::string& offer_id) {
  return ::backline::testing::OfferClosedEvent(id, offer_id, "timeout");
}

FeedStateChange Connection(FeedState state) {
  FeedStateChange c;
  c.state = state;
  if (state == FeedState::kReconnecting) {
    c.error = absl::UnavailableError("Connection refused");
    c.next_attempt = kNow + absl::Seconds(3);
    c.attempt = 2;
  }
  return c;
}

std::vector<TrayRequest::Kind> Kinds(const std::vector<TrayRequest>& requests) {
  std::vector<TrayRequest::Kind> kinds;
  for (const TrayRequest& r : requests) kinds.push_back(r.kind);
  return kinds;
}

int Count(const std::vector<TrayRequest>& requests, TrayRequest::Kind kind) {
  return static_cast<int>(std::count_if(requests.begin(), requests.end(),
                                        [&](const TrayRequest& r) { return r.kind == kind; }));
}

// The generation a reload was asked at (the one request of that kind in `requests`).
uint64_t ReloadGeneration(const std::vector<TrayRequest>& requests) {
  for (const TrayRequest& r : requests) {
    if (r.kind == TrayRequest::kReload) return r.generation;
  }
  ADD_FAILURE() << "no reload asked";
  return 0;
}

std::vector<std::string> Texts(const TrayThread& t) {
  std::vector<std::string> out;
  for (const auto& [seq, m] : t.messages) out.push_back(m.text());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Offers

TEST(TrayStateTest, AnOfferSeenTwiceShowsAndNotifiesOnce) {
  TrayState state("soren");
  const v1::Escalation e = Offered("esc-1", "off-1");
  state.ApplyEvent(OfferMadeEvent(e));
  state.ApplyEvent(OfferMadeEvent(e));
  state.LoadOffers({e}, state.generation());
  ASSERT_EQ(state.Offers().size(), 1u);
  EXPECT_EQ(state.Offers()[0]->offer.offer_id(), "off-1");
  const std::vector<PendingOffer> fresh = state.TakeNewOffers();
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].escalation.question(), "Kunden vil have en refusion");
  EXPECT_TRUE(state.TakeNewOffers().empty());
  state.ApplyEvent(OfferMadeEvent(e));
  EXPECT_TRUE(state.TakeNewOffers().empty());
}

TEST(TrayStateTest, AClosedOfferNeverComesBackFromAStaleSnapshot) {
  TrayState state("soren");
  const v1::Escalation e = Offered("esc-1", "off-1");
  state.ApplyEvent(OfferMadeEvent(e));
  EXPECT_EQ(state.TakeNewOffers().size(), 1u);
  state.ApplyEvent(OfferClosedEvent("esc-1", "off-1"));
  EXPECT_TRUE(state.Offers().empty());
  // The snapshot was taken before the close but answered after it.
  state.LoadOffers({e}, state.generation());
  EXPECT_TRUE(state.Offers().empty());
  EXPECT_TRUE(state.TakeNewOffers().empty());
}

TEST(TrayStateTest, AnOfferClosedBeforeItWasShownIsNotNotified) {
  TrayState state("soren");
  state.ApplyEvent(OfferMadeEvent(Offered("esc-1", "off-1")));
  state.ApplyEvent(OfferClosedEvent("esc-1", "off-1"));
  EXPECT_TRUE(state.TakeNewOffers().empty());
}

TEST(TrayStateTest, ACloseSeenBeforeItsOfferKeepsTheOfferOut) {
  TrayState state("soren");
  state.ApplyEvent(OfferClosedEvent("esc-1", "off-1"));
  state.LoadOffers({Offered("esc-1", "off-1")}, state.generation());
  EXPECT_TRUE(state.Offers().empty());
  EXPECT_TRUE(state.TakeNewOffers().empty());
}

TEST(TrayStateTest, ASnapshotDropsOffersGoneWhileAwayButKeepsOnesNewerThanIt) {
  TrayState state("soren");
  state.ApplyEvent(OfferMadeEvent(Offered("esc-old", "off-old")));
  state.SetConnection(Connection(FeedState::kConnected));
  const uint64_t asked = ReloadGeneration(state.TakeRequests());
  // Learned after the reload was asked: the snapshot may predate it.
  state.ApplyEvent(OfferMadeEvent(Offered("esc-new", "off-new")));
  state.LoadOffers({}, asked);
  ASSERT_EQ(state.Offers().size(), 1u);
  EXPECT_EQ(state.Offers()[0]->escalation.id(), "esc-new");
}

TEST(TrayStateTest, ASnapshotBringsOffersMadeBeforeTheTrayStarted) {
  TrayState state("soren");
  // Offered to two at once; the snapshot lists mei's offer first.
  v1::Escalation e = Offered("esc-1", "off-mei", "mei");
  v1::Offer* mine = e.add_offers();
  *mine = e.offers(0);
  mine->set_offer_id("off-soren");
  mine->set_helper("soren");
  state.LoadOffers({e, Offered("esc-2", "off-2", "mei")}, state.generation());
  ASSERT_EQ(state.Offers().size(), 1u);
  EXPECT_EQ(state.Offers()[0]->offer.offer_id(), "off-soren");
  EXPECT_EQ(state.TakeNewOffers().size(), 1u);
}

TEST(TrayStateTest, AReofferReplacesTheOfferAndNotifiesAgain) {
  TrayState state("soren");
  state.ApplyEvent(OfferMadeEvent(Offered("esc-1", "off-1")));
  EXPECT_EQ(state.TakeNewOffers().size(), 1u);
  state.ApplyEvent(OfferClosedEvent("esc-1", "off-1"));
  state.ApplyEvent(OfferMadeEvent(Offered("esc-1", "off-2")));
  ASSERT_EQ(state.Offers().size(), 1u);
  EXPECT_EQ(state.Offers()[0]->offer.offer_id(), "off-2");
  EXPECT_EQ(state.TakeNewOffers().size(), 1u);
  // A late close of the first offer leaves the second alone.
  state.ApplyEvent(OfferClosedEvent("esc-1", "off-1"));
  EXPECT_EQ(state.Offers().size(), 1u);
}

TEST(TrayStateTest, AnEscalationNoLongerOfferedToMeLeavesTheTray) {
  TrayState state("soren");
  v1::Escalation e = Offered("esc-1", "off-1");
  state.ApplyEvent(OfferMadeEvent(e));
  e.set_state(v1::ESCALATION_STATE_CANCELLED);
  e.set_version(3);
  v1::Event updated;
  *updated.mutable_escalation_updated()->mutable_escalation() = e;
  state.ApplyEvent(updated);
  EXPECT_TRUE(state.Offers().empty());
}

TEST(TrayStateTest, OffersLapseOnlyAfterTheirDeadlineAndAGrace) {
  TrayState state("soren");
  state.ApplyEvent(OfferMadeEvent(Offered("esc-1", "off-1")));
  state.Tick(kNow + absl::Seconds(15) + kLapsedOfferGrace);
  EXPECT_EQ(state.Offers().size(), 1u);
  state.Tick(kNow + absl::Seconds(15) + kLapsedOfferGrace + absl::Seconds(1));
  EXPECT_TRUE(state.Offers().empty());
}

TEST(TrayStateTest, OffersAreShownSoonestDeadlineFirst) {
  TrayState state("soren");
  v1::Escalation later = Offered("esc-a", "off-a");
  *later.mutable_offer()->mutable_deadline() = Stamp(kNow + absl::Seconds(30));
  state.ApplyEvent(OfferMadeEvent(later));
  state.ApplyEvent(OfferMadeEvent(Offered("esc-b", "off-b")));
  ASSERT_EQ(state.Offers().size(), 2u);
  EXPECT_EQ(state.Offers()[0]->escalation.id(), "esc-b");
  EXPECT_EQ(state.Offers()[1]->escalation.id(), "esc-a");
}

TEST(TrayStateTest, AcceptingClosesTheOfferAndOpensItsThread) {
  TrayState state("soren");
  v1::Escalation e = Offered("esc-1", "off-1");
  state.ApplyEvent(OfferMadeEvent(e));
  state.TakeRequests();
  e.set_state(v1::ESCALATION_STATE_ACCEPTED);
  e.set_helper("soren");
  e.set_version(3);
  state.Accepted(e);
  EXPECT_TRUE(state.Offers().empty());
  EXPECT_EQ(state.open_thread(), "thr-esc-1");
  const auto requests = state.TakeRequests();
  EXPECT_EQ(Count(requests, TrayRequest::kLoadThread), 1);
  EXPECT_EQ(Count(requests, TrayRequest::kLoadMessages), 1);
  EXPECT_EQ(Count(requests, TrayRequest::kLoadPresence), 1);
  EXPECT_TRUE(absl::StartsWith(state.notice(), "Accepted: Kunden vil have en refusion"));
  // The accepted offer's stale listing does not bring it back.
  state.LoadOffers({Offered("esc-1", "off-1")}, state.generation());
  EXPECT_TRUE(state.Offers().empty());
}

TEST(TrayStateTest, OnlyTheOpenThreadOfAnAcceptedEscalationCanBeResolved) {
  TrayState state("soren");
  v1::Escalation e = Offered("esc-1", "off-1");
  state.ApplyEvent(OfferMadeEvent(e));
  EXPECT_EQ(state.ResolvableEscalation(), nullptr);  // offered, not accepted
  e.set_state(v1::ESCALATION_STATE_ACCEPTED);
  e.set_helper("soren");
  e.set_version(3);
  state.Accepted(e);
  ASSERT_NE(state.ResolvableEscalation(), nullptr);
  EXPECT_EQ(state.ResolvableEscalation()->id(), "esc-1");
  for (const TrayRequest& r : state.TakeRequests()) state.Done(r, true);
  e.set_state(v1::ESCALATION_STATE_RESOLVED);
  e.set_version(4);
  state.EscalationChanged(e, "Resolved");
  EXPECT_EQ(state.ResolvableEscalation(), nullptr);
  EXPECT_TRUE(absl::StartsWith(state.notice(), "Resolved: Kunden vil have en refusion"));
  EXPECT_EQ(Count(state.TakeRequests(), TrayRequest::kLoadPresence), 1);
}

TEST(TrayStateTest, AnOfferGoneOnAcceptLeavesTheTray) {
  TrayState state("soren");
  state.ApplyEvent(OfferMadeEvent(Offered("esc-1", "off-1")));
  state.Failed("accept esc-1", absl::FailedPreconditionError("the offer lapsed"));
  state.OfferGone("esc-1");
  EXPECT_TRUE(state.Offers().empty());
  EXPECT_EQ(state.notice(), "accept esc-1: the offer lapsed");
}

// ---------------------------------------------------------------------------------------------
// Threads and messages

TEST(TrayStateTest, MessagesAreKeyedByThreadAndSeq) {
  TrayState state("soren");
  const v1::Message m1 = TextMessage("thr-1", 1, "anna", "Hej Søren");
  const v1::Message m2 = TextMessage("thr-1", 2, "anna", "Er du der?");
  state.ApplyEvent(PostedEvent(m1));
  state.ApplyEvent(PostedEvent(m2));
  state.ApplyEvent(PostedEvent(m1));                                            // delivered again
  state.LoadMessages("thr-1", {m1, m2});                                        // and listed
  state.LoadMessages("thr-1", {TextMessage("thr-2", 1, "anna", "elsewhere")});  // not this thread
  const TrayThread* t = state.FindThread("thr-1");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Texts(*t), (std::vector<std::string>{"Hej Søren", "Er du der?"}));
  EXPECT_EQ(t->unread(), 2);
  EXPECT_EQ(state.FindThread("thr-2"), nullptr);
}

TEST(TrayStateTest, UnreadMergesSnapshotsAndEventsInAnyOrder) {
  // Events first, then a snapshot that was taken before the last of them.
  TrayState a("soren");
  a.ApplyEvent(PostedEvent(TextMessage("thr-1", 3, "anna", "tre")));
  a.LoadThreads({DirectThread("thr-1", 2, 1)});
  EXPECT_EQ(a.FindThread("thr-1")->unread(), 2);
  // The snapshot first, then the same event.
  TrayState b("soren");
  b.LoadThreads({DirectThread("thr-1", 2, 1)});
  b.ApplyEvent(
      PostedEvent(TextMessage("thr-1", 2, "anna", "to")));  // already counted by the snapshot
  b.ApplyEvent(PostedEvent(TextMessage("thr-1", 3, "anna", "tre")));
  EXPECT_EQ(b.FindThread("thr-1")->unread(), 2);
  // Reading elsewhere (another desktop) and answering clear it; others reading do not.
  v1::Event marker;
  marker.mutable_read_marker()->set_thread_id("thr-1");
  marker.mutable_read_marker()->set_person("anna");
  marker.mutable_read_marker()->set_seq(3);
  b.ApplyEvent(marker);
  EXPECT_EQ(b.FindThread("thr-1")->unread(), 2);
  marker.mutable_read_marker()->set_person("soren");
  marker.mutable_read_marker()->set_seq(2);
  b.ApplyEvent(marker);
  EXPECT_EQ(b.FindThread("thr-1")->unread(), 1);
  b.ApplyEvent(PostedEvent(TextMessage("thr-1", 4, "soren", "fire")));
  EXPECT_EQ(b.FindThread("thr-1")->unread(), 0);
  // An older snapshot changes nothing.
  b.LoadThreads({DirectThread("thr-1", 2, 1)});
  EXPECT_EQ(b.FindThread("thr-1")->unread(), 0);
  EXPECT_EQ(b.FindThread("thr-1")->thread.last_seq(), 4);
}

TEST(TrayStateTest, AnEditOrDeletionIsNotUndoneByAnOlderListing) {
  TrayState state("soren");
  const v1::Message original = TextMessage("thr-1", 1, "anna", "første udgave");
  v1::Message edited = original;
  edited.set_text("anden udgave");
  *edited.mutable_edit_time() = Stamp(kNow + absl::Minutes(1));
  state.ApplyEvent(PostedEvent(original));
  v1::Event changed;
  *changed.mutable_message_changed()->mutable_message() = edited;
  state.ApplyEvent(changed);
  state.LoadMessages("thr-1", {original});
  EXPECT_EQ(state.FindThread("thr-1")->messages.at(1).text(), "anden udgave");
  v1::Message deleted = edited;
  deleted.clear_text();
  deleted.set_deleted(true);
  *changed.mutable_message_changed()->mutable_message() = deleted;
  state.ApplyEvent(changed);
  state.LoadMessages("thr-1", {edited});
  EXPECT_TRUE(state.FindThread("thr-1")->messages.at(1).deleted());
  EXPECT_TRUE(absl::EndsWith(TrayState::MessageLine(state.FindThread("thr-1")->messages.at(1)),
                             "anna: (deleted)"));
}

TEST(TrayStateTest, AThreadOnlyTheStreamMentionedIsLoadedOnce) {
  TrayState state("soren");
  state.ApplyEvent(PostedEvent(TextMessage("thr-1", 1, "anna", "en")));
  state.ApplyEvent(PostedEvent(TextMessage("thr-1", 2, "anna", "to")));
  auto requests = state.TakeRequests();
  ASSERT_EQ(Count(requests, TrayRequest::kLoadThread), 1);
  // It failed: asked again only when something new calls for it.
  state.Done(requests[0], false);
  EXPECT_TRUE(state.TakeRequests().empty());
  state.ApplyEvent(PostedEvent(TextMessage("thr-1", 3, "anna", "tre")));
  requests = state.TakeRequests();
  ASSERT_EQ(Count(requests, TrayRequest::kLoadThread), 1);
  state.LoadThreads({DirectThread("thr-1", 3, 0)});
  state.Done(requests[0], true);
  state.ApplyEvent(PostedEvent(TextMessage("thr-1", 4, "anna", "fire")));
  EXPECT_EQ(Count(state.TakeRequests(), TrayRequest::kLoadThread), 0);
}

TEST(TrayStateTest, TheThreadShownIsMarkedReadWhileTheWindowIsVisible) {
  TrayState state("soren");
  state.LoadThreads({DirectThread("thr-1", 2, 0)});
  state.SetVisible(false);
  state.OpenThread("thr-1");
  EXPECT_EQ(Kinds(state.TakeRequests()),
            (std::vector<TrayRequest::Kind>{TrayRequest::kLoadMessages}));
  state.SetVisible(true);
  auto requests = state.TakeRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].kind, TrayRequest::kMarkRead);
  EXPECT_EQ(requests[0].thread_id, "thr-1");
  EXPECT_EQ(requests[0].seq, 2);
  // A message while the marker is on its way is marked once the answer is in.
  state.ApplyEvent(PostedEvent(TextMessage("thr-1", 3, "anna", "tre")));
  EXPECT_TRUE(state.TakeRequests().empty());
  state.LoadThreads({DirectThread("thr-1", 2, 2)});
  state.Done(requests[0], true);
  requests = state.TakeRequests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].seq, 3);
}

TEST(TrayStateTest, ThreadsAreTitledByWhatTheyAreAbout) {
  TrayState state("soren");
  v1::Thread esc = DirectThread("thr-esc-1", 1, 1);
  esc.set_kind(v1::THREAD_KIND_ESCALATION);
  esc.set_escalation_id("esc-1");
  v1::Thread team = DirectThread("thr-team", 0, 0);
  team.set_kind(v1::THREAD_KIND_TEAM);
  team.set_team("cph-billing");
  state.LoadThreads({esc, team, DirectThread("thr-direct", 3, 1)});
  EXPECT_EQ(Count(state.TakeRequests(), TrayRequest::kLoadEscalation), 1);
  EXPECT_EQ(state.ThreadTitle(*state.FindThread("thr-esc-1")), "escalation esc-1");
  state.LoadEscalations({Offered("esc-1", "off-1")});
  EXPECT_EQ(state.ThreadTitle(*state.FindThread("thr-esc-1")), "Kunden vil have en refusion");
  EXPECT_EQ(state.ThreadTitle(*state.FindThread("thr-team")), "team cph-billing");
  EXPECT_EQ(state.ThreadLine(*state.FindThread("thr-direct")), "anna (2)");
}

// ---------------------------------------------------------------------------------------------
// Connection, presence, reloads

TEST(TrayStateTest, EveryConnectReloadsAndSendsTheStatusChosenWhileAway) {
  TrayState state("soren");
  state.WantStatus(v1::PRESENCE_STATUS_AVAILABLE);
  EXPECT_TRUE(state.TakeRequests().empty()) << "not connected yet";
  state.SetConnection(Connection(FeedState::kConnecting));
  state.SetConnection(Connection(FeedState::kConnected));
  auto requests = state.TakeRequests();
  EXPECT_EQ(Kinds(requests),
            (std::vector<TrayRequest::Kind>{TrayRequest::kReload, TrayRequest::kSetStatus}));
  EXPECT_EQ(requests[1].status, v1::PRESENCE_STATUS_AVAILABLE);
  EXPECT_EQ(state.reconnects(), 0);

  // The server went away before answering; the choice is sent again on the next connect.
  state.SetConnection(Connection(FeedState::kReconnecting));
  state.SetConnection(Connection(FeedState::kConnected));
  EXPECT_EQ(Count(state.TakeRequests(), TrayRequest::kSetStatus), 1);
  EXPECT_EQ(state.reconnects(), 1);
  v1::Presence p;
  p.set_person("soren");
  p.set_status(v1::PRESENCE_STATUS_AVAILABLE);
  state.SetPresence(p);
  state.SetConnection(Connection(FeedState::kReconnecting));
  state.SetConnection(Connection(FeedState::kConnected));
  EXPECT_EQ(Kinds(state.TakeRequests()), (std::vector<TrayRequest::Kind>{TrayRequest::kReload}));
  EXPECT_EQ(state.reconnects(), 2);
}

// ---------------------------------------------------------------------------------------------
// The looking-for-help list

TEST(TrayStateTest, TheLookingForHelpListIsReadOnConnectAndEvery30sAndKeptByEvents) {
  TrayState state("soren");
  state.Tick(kNow);
  EXPECT_EQ(Count(state.TakeRequests(), TrayRequest::kLoadWaiting), 0) << "not connected";
  state.SetConnection(Connection(FeedState::kConnected));
  state.Tick(kNow);  // connected: the next tick reads it
  auto requests = state.TakeRequests();
  ASSERT_EQ(Count(requests, TrayRequest::kLoadWaiting), 1);
  for (const TrayRequest& r : requests) state.Done(r, true);
  state.LoadWaiting({WaitingEscalation("esc-1", 1, absl::Seconds(70), false, "客户想退款"),
                     WaitingEscalation("esc-2", 2, absl::Seconds(5), true, "Kunden venter")});
  ASSERT_EQ(state.Waiting().size(), 2u);
  EXPECT_EQ(state.WaitingLine(*state.Waiting()[0], kNow),
            "客户想退款\nanna · NORMAL · da · billing ≥ 3 · #1 in the queue · waiting 70 s");
  EXPECT_EQ(state.WaitingLine(*state.Waiting()[1], kNow),
            "Kunden venter\nanna · NORMAL · da · billing ≥ 3 · #2 in the queue · waiting 5 s · "
            "best match");
  state.Tick(kNow + kWaitingRefresh - absl::Seconds(1));
  EXPECT_EQ(Count(state.TakeRequests(), TrayRequest::kLoadWaiting), 0);
  state.Tick(kNow + kWaitingRefresh);
  EXPECT_EQ(Count(state.TakeRequests(), TrayRequest::kLoadWaiting), 1);

  // Events in between: a new one is added once, one no longer waiting leaves, and one offered
  // to the person shows as the offer only.
  const v1::WaitingEscalation third =
      WaitingEscalation("esc-3", 0, absl::Seconds(1), true, "hjælp");
  state.ApplyEvent(WaitingChangedEvent(third, true));
  state.ApplyEvent(WaitingChangedEvent(third, true));
  ASSERT_EQ(state.Waiting().size(), 3u);
  EXPECT_EQ(state.WaitingLine(*state.Waiting()[2], kNow),
            "hjælp\nanna · NORMAL · da · billing ≥ 3 · waiting 1 s · best match");
  state.ApplyEvent(
      WaitingChangedEvent(WaitingEscalation("esc-1", 1, absl::Seconds(70), false, ""), false));
  state.ApplyEvent(OfferMadeEvent(Offered("esc-2", "off-2")));
  ASSERT_EQ(state.Waiting().size(), 1u);
  EXPECT_EQ(state.Waiting()[0]->escalation().id(), "esc-3");
  const auto json = nlohmann::json::parse(state.ToJson(kNow));
  ASSERT_EQ(json["waiting"].size(), 1u);
  EXPECT_EQ(json["waiting"][0]["escalation_id"], "esc-3");
}

TEST(TrayStateTest, TakingOpensTheThreadAndAFailedTakeReadsTheListAgain) {
  TrayState state("soren");
  state.LoadWaiting({WaitingEscalation("esc-1", 1, absl::Seconds(70), false, "q1"),
                     WaitingEscalation("esc-2", 2, absl::Seconds(5), true, "q2")});
  state.TakeFailed("esc-2", absl::FailedPreconditionError("escalation esc-2 is no longer waiting"));
  EXPECT_TRUE(absl::StrContains(state.notice(), "no longer waiting")) << state.notice();
  auto requests = state.TakeRequests();
  ASSERT_EQ(Count(requests, TrayRequest::kLoadWaiting), 1);
  state.Done(requests[0], true);

  v1::Escalation taken = WaitingEscalation("esc-1", 1, absl::Seconds(70), false, "q1").escalation();
  taken.set_state(v1::ESCALATION_STATE_ACCEPTED);
  taken.set_helper("soren");
  taken.set_thread_id("thr-esc-1");
  state.Took(taken);
  EXPECT_EQ(state.open_thread(), "thr-esc-1");
  EXPECT_EQ(state.notice(), "Taken: q1");
  ASSERT_EQ(state.Waiting().size(), 1u);
  EXPECT_EQ(state.Waiting()[0]->escalation().id(), "esc-2");
  EXPECT_EQ(Count(state.TakeRequests(), TrayRequest::kLoadWaiting), 1);
  EXPECT_NE(state.ResolvableEscalation(), nullptr);
}

TEST(TrayStateTest, AGapReloadsWhatIsShown) {
  TrayState state("soren");
  state.LoadThreads({DirectThread("thr-1", 1, 1)});
  state.OpenThread("thr-1");
  state.TakeRequests();
  v1::Event gap;
  gap.mutable_gap()->set_after_cursor("1-0");
  state.ApplyEvent(gap);
  const auto requests = state.TakeRequests();
  EXPECT_EQ(Count(requests, TrayRequest::kReload), 1);
  EXPECT_EQ(Count(requests, TrayRequest::kLoadMessages), 1);
  EXPECT_FALSE(state.notice().empty());
}

TEST(TrayStateTest, ANoticeIsShownAndPresenceReloaded) {
  TrayState state("soren");
  v1::Event notice;
  notice.mutable_notice()->set_code("missed_offers");
  notice.mutable_notice()->set_text("Du er sat på pause efter tre mistede tilbud");
  state.ApplyEvent(notice);
  EXPECT_EQ(state.notice(), "Du er sat på pause efter tre mistede tilbud");
  EXPECT_EQ(Kinds(state.TakeRequests()),
            (std::vector<TrayRequest::Kind>{TrayRequest::kLoadPresence}));
}

TEST(TrayStateTest, TheSummarySaysPresenceOffersUnreadAndConnection) {
  TrayState state("soren");
  EXPECT_EQ(state.Summarize(kNow).badge, TrayBadge::kDisconnected);
  state.SetConnection(Connection(FeedState::kConnected));
  EXPECT_EQ(state.Summarize(kNow).badge, TrayBadge::kOffline);
  v1::Presence p;
  p.set_person("soren");
  p.set_status(v1::PRESENCE_STATUS_AVAILABLE);
  p.set_load(1);
  p.set_capacity(2);
  state.SetPresence(p);
  EXPECT_EQ(state.Summarize(kNow).title, "Backline — soren: AVAILABLE");
  EXPECT_EQ(state.Summarize(kNow).badge, TrayBadge::kAvailable);

  state.ApplyEvent(OfferMadeEvent(Offered("esc-1", "off-1")));
  state.ApplyEvent(PostedEvent(TextMessage("thr-2", 1, "anna", "hej")));
  TraySummary s = state.Summarize(kNow);
  EXPECT_EQ(s.title, "Backline — soren: AVAILABLE, 1 offer, 1 unread");
  EXPECT_EQ(s.badge, TrayBadge::kOffer);
  EXPECT_EQ(s.offers, 1);
  EXPECT_EQ(s.unread, 1);
  EXPECT_EQ(s.tooltip,
            "Backline — soren\nAVAILABLE, load 1 of 2\nOffer: Kunden vil have en refusion\n"
            "1 unread\nConnected");

  state.SetConnection(Connection(FeedState::kReconnecting));
  s = state.Summarize(kNow);
  EXPECT_EQ(s.title, "Backline — soren: AVAILABLE, 1 offer, 1 unread (reconnecting)");
  EXPECT_EQ(s.badge, TrayBadge::kDisconnected);
  EXPECT_EQ(s.connection, "Reconnecting in 3 s (attempt 2): Connection refused");

  p.set_status(v1::PRESENCE_STATUS_BREAK);
  state.SetPresence(p);
  state.SetConnection(Connection(FeedState::kConnected));
  state.ApplyEvent(OfferClosedEvent("esc-1", "off-1"));
  EXPECT_EQ(state.Summarize(kNow).badge, TrayBadge::kBusy);
}

// ---------------------------------------------------------------------------------------------
// What is shown, in every language

TEST(TrayStateTest, AnOfferLineCountsDownAndNeverSplitsACharacter) {
  TrayState state("soren");
  std::string question;
  for (int i = 0; i < 200; ++i) question += "退";  // 3 bytes each, past the 120 shown
  state.ApplyEvent(OfferMadeEvent(Offered("esc-1", "off-1", "soren", question)));
  const std::string line = state.OfferLine(*state.Offers()[0], kNow + absl::Milliseconds(2500));
  std::string expected_question;
  for (int i = 0; i < 120; ++i) expected_question += "退";
  EXPECT_EQ(line, absl::StrCat(expected_question, "…\nanna · HIGH · da · billing ≥ 3 · 13 s left"));
  EXPECT_TRUE(
      absl::EndsWith(state.OfferLine(*state.Offers()[0], kNow + absl::Minutes(1)), " 0 s left"));
}

TEST(TrayStateTest, TheStateFileCarriesEveryLanguageByteForByte) {
  const std::vector<std::string> seeds = {testing::ReadTestData("seeds/da-relationer.txt"),
                                          testing::ReadTestData("seeds/zh-Hant-callcenter.txt"),
                                          testing::ReadTestData("seeds/lt-skambuciu-centras.txt"),
                                          testing::ReadTestData("seeds/nl-callcenter.txt")};
  TrayState state("soren");
  for (size_t i = 0; i < seeds.size(); ++i) {
    state.ApplyEvent(
        PostedEvent(TextMessage("thr-1", static_cast<int64_t>(i) + 1, "anna", seeds[i])));
  }
  state.ApplyEvent(OfferMadeEvent(Offered("esc-1", "off-1", "soren", seeds[1])));
  const nlohmann::json j =
      nlohmann::json::parse(state.ToJson(kNow, R"({"shown": {"window_title": "x"}})"));
  EXPECT_EQ(j["me"], "soren");
  EXPECT_EQ(j["shown"]["window_title"], "x");
  EXPECT_EQ(j["offers"][0]["question"].get<std::string>(), seeds[1]);
  ASSERT_EQ(j["threads"].size(), 1u);
  const auto& messages = j["threads"][0]["messages"];
  ASSERT_EQ(messages.size(), seeds.size());
  for (size_t i = 0; i < seeds.size(); ++i) {
    EXPECT_EQ(messages[i]["seq"], i + 1);
    EXPECT_EQ(messages[i]["text"].get<std::string>(), seeds[i]) << "message " << i;
  }
  EXPECT_EQ(j["threads"][0]["unread"], 4);
  EXPECT_EQ(j["connection"]["state"], "CONNECTING");
}

TEST(TrayStateTest, AFailedReplyComesBackToTheReplyBox) {
  TrayState state("soren");
  state.ReplyFailed("thr-1", "Jeg kigger på det — 我看看", absl::UnavailableError("no server"));
  EXPECT_EQ(state.notice(), "send: no server");
  auto returned = state.TakeReturnedReply();
  ASSERT_TRUE(returned.has_value());
  EXPECT_EQ(returned->thread_id, "thr-1");
  EXPECT_EQ(returned->text, "Jeg kigger på det — 我看看");
  EXPECT_FALSE(state.TakeReturnedReply().has_value());
}

}  // namespace
}  // namespace backline::qt_tray
