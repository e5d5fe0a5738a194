// Unit tests for the terminal tray without a terminal: text widths and wrapping in every
// language (cli/tray/text), failures in a few words (cli/tray/failure), and the tray's model
// (cli/tray/tray_model): offers and their countdown, one-key accept and decline, unread counts that
// merge events and snapshots once, the open thread, typing a reply, presence keys, connection
// states, and frames that fit any window.
#include "cli/tray/tray_model.h"

#include <gtest/gtest.h>

#include <clocale>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/tray/failure.h"
#include "cli/tray/text.h"
#include "tests/support/event_builders.h"
#include "tests/support/tmux.h"

namespace backline::cli::tray {
namespace {

using ::backline::testing::Occurrences;

using ::backline::testing::DirectThread;
using ::backline::testing::OfferClosedEvent;
using ::backline::testing::OfferedEscalation;
using ::backline::testing::OfferMadeEvent;
using ::backline::testing::PostedEvent;
using ::backline::testing::Stamp;
using ::backline::testing::TextMessage;
using ::backline::testing::WaitingChangedEvent;
using ::backline::testing::WaitingEscalation;

const absl::Time kNow = ::backline::testing::kEventTime;

// Widths follow wcwidth(3), which needs a UTF-8 character type (the tray sets one).
class Utf8Test : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(std::setlocale(LC_CTYPE, "C.UTF-8"), nullptr); }
};

// ---------------------------------------------------------------------------------------------
// text

using TextTest = Utf8Test;

TEST_F(TextTest, WidthsOfEveryLanguage) {
  EXPECT_EQ(DisplayWidth("plain"), 5);
  EXPECT_EQ(DisplayWidth("Rødgrød på Ærø"), 14);
  EXPECT_EQ(DisplayWidth("ąčęėįšųūž"), 9);
  EXPECT_EQ(DisplayWidth("客户想退款"), 10);
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1) << "a combining accent takes no column";
  EXPECT_EQ(DecodeUtf8("a\xFFz"), (std::u32string{U'a', 0xFFFD, U'z'}));
  EXPECT_EQ(DecodeUtf8("\xE5\xAE"), (std::u32string{0xFFFD})) << "a truncated sequence";
  const std::string mixed = "Søren 客户 ąč \xF0\x9F\x98\x80";
  EXPECT_EQ(EncodeUtf8(DecodeUtf8(mixed)), mixed);
}

TEST_F(TextTest, FitCutsByColumnsNeverInsideACharacter) {
  EXPECT_EQ(Fit("short", 10), "short");
  EXPECT_EQ(Fit("abcdefghij", 5), "abcd…");
  // Wide characters: 4 columns hold one of them and the ellipsis, never half a character.
  EXPECT_EQ(Fit("客户想退款", 4), "客…");
  EXPECT_EQ(Fit("客户想退款", 5), "客户…");
  EXPECT_LE(DisplayWidth(Fit("客户想退款", 5)), 5);
  EXPECT_EQ(PadTo("æø", 4), "æø  ");
  EXPECT_EQ(OneLine("a\tb\nc\x1B[2Jd"), "a b c [2Jd") << "nothing may steer the terminal";
}

TEST_F(TextTest, WrapBreaksAtSpacesAndInsideLongWords) {
  EXPECT_EQ(Wrap("kunden vil have en refusion", 12),
            (std::vector<std::string>{"kunden vil", "have en", "refusion"}));
  EXPECT_EQ(Wrap("abcdefghijkl", 5), (std::vector<std::string>{"abcde", "fghij", "kl"}));
  EXPECT_EQ(Wrap("første\nanden", 20), (std::vector<std::string>{"første", "anden"}));
  for (const std::string& line : Wrap("客户想退款，请帮忙看看账单。 ąčęėįšųūž", 7)) {
    EXPECT_LE(DisplayWidth(line), 7) << line;
  }
  std::string text = "你好";
  ASSERT_TRUE(PopLastCodePoint(&text));
  EXPECT_EQ(text, "你");
  ASSERT_TRUE(PopLastCodePoint(&text));
  EXPECT_FALSE(PopLastCodePoint(&text));
}

TEST(TransportFailureTest, GrpcParagraphsBecomeAFewWordsAndServerAnswersStay) {
  EXPECT_EQ(
      TransportFailure("failed to connect to all addresses; last error: UNKNOWN: "
                       "ipv4:127.0.0.1:1: Failed to connect to remote host: Connection refused"),
      "connection refused");
  EXPECT_EQ(TransportFailure("DNS resolution failed for nosuchhost.invalid:7400: C-ares status is "
                             "not ARES_SUCCESS qtype=A name=nosuchhost.invalid is_balancer=0"),
            "no such host");
  EXPECT_EQ(TransportFailure("Socket closed"), "the connection broke");
  EXPECT_EQ(TransportFailure("redis: no free connection within the command timeout"), "");
  EXPECT_EQ(TransportFailure("offer off-1 of esc-1 is no longer pending"), "");
}

// ---------------------------------------------------------------------------------------------
// TrayModel

FeedStateChange State(FeedState state) {
  FeedStateChange c;
  c.state = state;
  return c;
}

std::string Text(const Frame& frame) {
  std::vector<std::string> lines;
  for (const Line& l : frame.lines) lines.push_back(l.text);
  return absl::StrJoin(lines, "\n");
}

class TrayModelTest : public Utf8Test {
 protected:
  // The requests of one kind the model made since the last call.
  std::vector<TrayRequest> Requests(TrayRequest::Kind kind) {
    std::vector<TrayRequest> out;
    for (TrayRequest& r : model_.TakeRequests()) {
      if (r.kind == kind) out.push_back(std::move(r));
    }
    return out;
  }
  void Type(const std::string& text) {
    for (char32_t c : DecodeUtf8(text)) model_.HandleKey(Key::Text(EncodeUtf8(c)));
  }

  TrayModel model_{"soren"};
};

TEST_F(TrayModelTest, OffersShowTheirCountdownSoonestFirst) {
  model_.ApplyEvent(OfferMadeEvent(
      OfferedEscalation("esc-late", "off-2", "soren", "later", kNow + absl::Seconds(40))));
  model_.ApplyEvent(OfferMadeEvent(OfferedEscalation(
      "esc-soon", "off-1", "soren", "kunden vil have refusion", kNow + absl::Seconds(12))));
  ASSERT_EQ(model_.Offers().size(), 2u);
  EXPECT_EQ(model_.Offers()[0].escalation.id(), "esc-soon");

  std::string screen = Text(model_.Render(kNow, 120, 30));
  EXPECT_NE(screen.find("Offers (2)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("> esc-soon  12s left  anna [billing>=3, da]: kunden vil have refusion"),
            std::string::npos)
      << screen;
  EXPECT_NE(screen.find("  esc-late  40s left"), std::string::npos) << screen;
  // The countdown runs with the clock and stops at zero.
  screen = Text(model_.Render(kNow + absl::Seconds(11.5), 120, 30));
  EXPECT_NE(screen.find("esc-soon  1s left"), std::string::npos) << screen;
  screen = Text(model_.Render(kNow + absl::Seconds(13), 120, 30));
  EXPECT_NE(screen.find("esc-soon  0s left"), std::string::npos) << screen;
  const Frame frame = model_.Render(kNow + absl::Seconds(8), 120, 30);
  EXPECT_EQ(frame.lines[2].style, LineStyle::kSelected);
  EXPECT_EQ(frame.lines[3].style, LineStyle::kNormal);

  // Long lapsed without word from the server: gone.
  model_.Tick(kNow + absl::Seconds(30));
  ASSERT_EQ(model_.Offers().size(), 1u);
  EXPECT_EQ(model_.Offers()[0].escalation.id(), "esc-late");
}

TEST_F(TrayModelTest, OneKeyAcceptsOrDeclinesTheSelectedOfferElseTheSoonest) {
  model_.ApplyEvent(
      OfferMadeEvent(OfferedEscalation("esc-1", "off-1", "soren", "q1", kNow + absl::Seconds(10))));
  model_.ApplyEvent(
      OfferMadeEvent(OfferedEscalation("esc-2", "off-2", "soren", "q2", kNow + absl::Seconds(20))));
  model_.LoadThreads({DirectThread("thr-1", 0, 0)});
  model_.TakeRequests();

  model_.HandleKey(Key::Text("a"));
  std::vector<TrayRequest> r = Requests(TrayRequest::kAccept);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].escalation_id, "esc-1");
  EXPECT_EQ(r[0].offer_id, "off-1");

  model_.HandleKey(Key::Of(Key::kDown));
  EXPECT_EQ(model_.selected(), "offer:esc-2");
  model_.HandleKey(Key::Text("d"));
  r = Requests(TrayRequest::kDecline);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].escalation_id, "esc-2");

  // With a thread selected, `a` takes the offer closest to its deadline.
  model_.HandleKey(Key::Of(Key::kDown));
  EXPECT_EQ(model_.selected(), "thread:thr-1");
  model_.HandleKey(Key::Text("a"));
  r = Requests(TrayRequest::kAccept);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].escalation_id, "esc-1");
}

TEST_F(TrayModelTest, AcceptedOpensTheThreadAndDeclinedRemovesTheOffer) {
  v1::Escalation e =
      OfferedEscalation("esc-1", "off-1", "soren", "hjælp", kNow + absl::Seconds(10));
  model_.ApplyEvent(OfferMadeEvent(e));
  e.set_state(v1::ESCALATION_STATE_ACCEPTED);
  e.set_helper("soren");
  e.set_thread_id("thr-e");
  e.set_version(3);
  model_.TakeRequests();
  model_.Accepted(e);
  EXPECT_TRUE(model_.Offers().empty());
  EXPECT_EQ(model_.open_thread(), "thr-e");
  std::vector<TrayRequest> load = Requests(TrayRequest::kLoadThread);
  ASSERT_EQ(load.size(), 1u);
  EXPECT_EQ(load[0].thread_id, "thr-e");
  const std::string screen = Text(model_.Render(kNow, 100, 20));
  EXPECT_NE(screen.find("── thr-e  esc-1  anna: hjælp ──"), std::string::npos) << screen;

  model_.HandleKey(Key::Of(Key::kEscape));
  EXPECT_EQ(model_.open_thread(), "");
  model_.ApplyEvent(
      OfferMadeEvent(OfferedEscalation("esc-2", "off-2", "soren", "q", kNow + absl::Seconds(10))));
  model_.Declined(OfferedEscalation("esc-2", "off-2", "soren", "q", kNow + absl::Seconds(10)));
  EXPECT_TRUE(model_.Offers().empty());
  EXPECT_EQ(model_.notice(), "declined esc-2");
}

TEST_F(TrayModelTest, TheQueueShowsWhatTheyCouldTakeAndOneKeyTakesIt) {
  // The list is asked for at once and then every kWaitingRefresh.
  model_.Tick(kNow);
  EXPECT_EQ(Requests(TrayRequest::kLoadWaiting).size(), 1u);
  model_.Tick(kNow + TrayModel::kWaitingRefresh - absl::Seconds(1));
  EXPECT_TRUE(Requests(TrayRequest::kLoadWaiting).empty());
  model_.Tick(kNow + TrayModel::kWaitingRefresh);
  EXPECT_EQ(Requests(TrayRequest::kLoadWaiting).size(), 1u);

  v1::WaitingEscalation urgent =
      WaitingEscalation("esc-w2", 2, absl::Seconds(8), true, "kunden venter");
  urgent.mutable_escalation()->set_priority(v1::PRIORITY_URGENT);
  model_.LoadWaiting(
      {WaitingEscalation("esc-w1", 1, absl::Seconds(65), false, "客户想退款"), urgent});
  std::string screen = Text(model_.Render(kNow, 120, 30));
  EXPECT_NE(screen.find("Looking for help (2)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("> esc-w1  #1 waiting 1m05s  anna [billing>=3, da]: 客户想退款"),
            std::string::npos)
      << screen;
  EXPECT_NE(screen.find("  esc-w2  #2 waiting 8s  best match  URGENT  anna [billing>=3, da]: "
                        "kunden venter"),
            std::string::npos)
      << screen;
  model_.HandleKey(Key::Of(Key::kEnter));
  EXPECT_EQ(model_.notice(), "t takes this escalation");

  // `t` takes the selected one...
  model_.HandleKey(Key::Of(Key::kDown));
  EXPECT_EQ(model_.selected(), "waiting:esc-w2");
  model_.HandleKey(Key::Text("t"));
  std::vector<TrayRequest> take = Requests(TrayRequest::kTake);
  ASSERT_EQ(take.size(), 1u);
  EXPECT_EQ(take[0].escalation_id, "esc-w2");
  // ...else, with an offer selected, the best match.
  model_.ApplyEvent(
      OfferMadeEvent(OfferedEscalation("esc-o", "off-1", "soren", "q", kNow + absl::Seconds(30))));
  model_.HandleKey(Key::Of(Key::kPageUp));
  EXPECT_EQ(model_.selected(), "offer:esc-o");
  model_.HandleKey(Key::Text("t"));
  take = Requests(TrayRequest::kTake);
  ASSERT_EQ(take.size(), 1u);
  EXPECT_EQ(take[0].escalation_id, "esc-w2");

  // Someone else was quicker: said so, and the list is asked for again.
  model_.TakeFailed("esc-w2", absl::FailedPreconditionError("escalation esc-w2 is no longer "
                                                            "waiting (ESCALATION_STATE_ACCEPTED)"));
  EXPECT_TRUE(absl::StrContains(model_.notice(), "take esc-w2")) << model_.notice();
  EXPECT_EQ(Requests(TrayRequest::kLoadWaiting).size(), 1u);

  // Taken: it leaves the list and its thread opens.
  v1::Escalation taken =
      WaitingEscalation("esc-w1", 1, absl::Seconds(70), false, "客户想退款").escalation();
  taken.set_state(v1::ESCALATION_STATE_ACCEPTED);
  taken.set_helper("soren");
  taken.set_thread_id("thr-w1");
  model_.Took(taken);
  EXPECT_EQ(model_.open_thread(), "thr-w1");
  EXPECT_EQ(model_.notice(), "took esc-w1: write to anna below");
  EXPECT_EQ(Requests(TrayRequest::kLoadWaiting).size(), 1u);
  ASSERT_EQ(model_.Waiting().size(), 1u);
  EXPECT_EQ(model_.Waiting()[0].escalation().id(), "esc-w2");
}

TEST_F(TrayModelTest, AnEscalationOfferedMeanwhileShowsOnlyAsTheOffer) {
  model_.LoadWaiting({WaitingEscalation("esc-1", 1, absl::Seconds(3), true, "hjælp")});
  ASSERT_EQ(model_.Waiting().size(), 1u);
  model_.ApplyEvent(OfferMadeEvent(
      OfferedEscalation("esc-1", "off-1", "soren", "hjælp", kNow + absl::Seconds(9))));
  EXPECT_TRUE(model_.Waiting().empty());
  std::string screen = Text(model_.Render(kNow, 100, 20));
  EXPECT_EQ(screen.find("Looking for help"), std::string::npos) << screen;
  // A refresh that fails keeps the list and says so.
  model_.LoadWaiting({WaitingEscalation("esc-2", 1, absl::Seconds(3), false, "hjælp")});
  model_.WaitingFailed(absl::UnavailableError("connection refused"));
  screen = Text(model_.Render(kNow, 100, 20));
  EXPECT_NE(screen.find("Looking for help (1) — not refreshed: unavailable"), std::string::npos)
      << screen;
  model_.LoadWaiting({});
  screen = Text(model_.Render(kNow, 100, 20));
  EXPECT_EQ(screen.find("Looking for help"), std::string::npos) << screen;
}

TEST_F(TrayModelTest, WaitingEventsKeepTheListBetweenRefreshes) {
  const v1::WaitingEscalation a = WaitingEscalation("esc-a", 1, absl::Seconds(3), true, "hjælp");
  const v1::WaitingEscalation b = WaitingEscalation("esc-b", 2, absl::Seconds(1), false, "帮忙");
  model_.ApplyEvent(WaitingChangedEvent(a, true));
  model_.ApplyEvent(WaitingChangedEvent(b, true));
  model_.ApplyEvent(WaitingChangedEvent(a, true));  // told twice: listed once
  ASSERT_EQ(model_.Waiting().size(), 2u);
  EXPECT_EQ(model_.Waiting()[0].escalation().id(), "esc-a");
  EXPECT_TRUE(model_.Waiting()[0].best_match());
  model_.ApplyEvent(WaitingChangedEvent(a, false));
  ASSERT_EQ(model_.Waiting().size(), 1u);
  EXPECT_EQ(model_.Waiting()[0].escalation().id(), "esc-b");
  // Accepted by someone else: its update takes it off the list too.
  v1::Event updated;
  *updated.mutable_escalation_updated()->mutable_escalation() = b.escalation();
  updated.mutable_escalation_updated()->mutable_escalation()->set_state(
      v1::ESCALATION_STATE_ACCEPTED);
  model_.ApplyEvent(updated);
  EXPECT_TRUE(model_.Waiting().empty());
}

TEST_F(TrayModelTest, AClosedOfferNeverComesBackFromAnOlderSnapshot) {
  const v1::Escalation e =
      OfferedEscalation("esc-1", "off-1", "soren", "q", kNow + absl::Seconds(10));
  model_.ApplyEvent(OfferMadeEvent(e));
  model_.ApplyEvent(OfferClosedEvent("esc-1", "off-1", "cancelled"));
  EXPECT_TRUE(model_.Offers().empty());
  EXPECT_EQ(model_.notice(), "the offer of esc-1 is gone: cancelled");
  model_.LoadOffers({e});  // listed before the close was recorded
  EXPECT_TRUE(model_.Offers().empty());
  model_.ApplyEvent(OfferMadeEvent(e));  // the same event again
  EXPECT_TRUE(model_.Offers().empty());

  // Offered again (a new offer id): it is back. An escalation no longer offered to the person
  // leaves the list even if the close event never came.
  v1::Escalation again =
      OfferedEscalation("esc-1", "off-9", "soren", "q", kNow + absl::Seconds(10));
  model_.LoadOffers({again});
  ASSERT_EQ(model_.Offers().size(), 1u);
  again.set_state(v1::ESCALATION_STATE_QUEUED);
  again.set_version(5);
  v1::Event updated;
  *updated.mutable_escalation_updated()->mutable_escalation() = again;
  model_.ApplyEvent(updated);
  EXPECT_TRUE(model_.Offers().empty());
}

TEST_F(TrayModelTest, UnreadCountsMergeEventsAndSnapshotsCountingEachMessageOnce) {
  model_.LoadThreads({DirectThread("thr-1", 2, 0)});
  EXPECT_EQ(model_.Threads()[0].unread_count(), 2);
  model_.ApplyEvent(PostedEvent(TextMessage("thr-1", 3, "anna", "tre")));
  EXPECT_EQ(model_.Threads()[0].unread_count(), 3);
  model_.ApplyEvent(PostedEvent(TextMessage("thr-1", 3, "anna", "tre")));  // delivered twice
  EXPECT_EQ(model_.Threads()[0].unread_count(), 3);
  model_.LoadThreads({DirectThread("thr-1", 2, 0)});  // a snapshot older than the event
  EXPECT_EQ(model_.Threads()[0].unread_count(), 3);
  model_.LoadThreads({DirectThread("thr-1", 3, 0)});  // one that has it already
  EXPECT_EQ(model_.Threads()[0].unread_count(), 3);

  // One's own message: everything before it counts as read.
  model_.ApplyEvent(PostedEvent(TextMessage("thr-1", 4, "soren", "svar")));
  EXPECT_EQ(model_.Threads()[0].unread_count(), 0);
  model_.ApplyEvent(PostedEvent(TextMessage("thr-1", 5, "anna", "tak")));
  model_.ApplyEvent(PostedEvent(TextMessage("thr-1", 6, "anna", "igen")));
  EXPECT_EQ(model_.Threads()[0].unread_count(), 2);
  // Read on another desktop: the marker comes as an event.
  v1::Event marker;
  marker.mutable_read_marker()->set_thread_id("thr-1");
  marker.mutable_read_marker()->set_person("soren");
  marker.mutable_read_marker()->set_seq(5);
  model_.ApplyEvent(marker);
  EXPECT_EQ(model_.Threads()[0].unread_count(), 1);
  marker.mutable_read_marker()->set_person("anna");  // someone else's marker changes nothing
  marker.mutable_read_marker()->set_seq(6);
  model_.ApplyEvent(marker);
  EXPECT_EQ(model_.Threads()[0].unread_count(), 1);
  const std::string screen = Text(model_.Render(kNow, 100, 20));
  EXPECT_NE(screen.find("> thr-1  1 unread  direct  with anna"), std::string::npos) << screen;
}

TEST_F(TrayModelTest, ThreadsAreListedMostRecentFirstAndNewOnesArrive) {
  model_.LoadThreads({DirectThread("thr-old", 1, 1, kNow - absl::Hours(1)),
                      DirectThread("thr-new", 1, 1, kNow - absl::Minutes(1))});
  ASSERT_EQ(model_.Threads().size(), 2u);
  EXPECT_EQ(model_.Threads()[0].id(), "thr-new");
  // A message moves its thread to the top; a message of an unknown thread adds it and asks for
  // a reload to learn what it is.
  model_.ApplyEvent(PostedEvent(TextMessage("thr-old", 2, "anna", "op")));
  EXPECT_EQ(model_.Threads()[0].id(), "thr-old");
  model_.TakeRequests();
  model_.ApplyEvent(PostedEvent(TextMessage("thr-unknown", 1, "anna", "hej")));
  EXPECT_EQ(model_.Threads().size(), 3u);
  EXPECT_EQ(Requests(TrayRequest::kReload).size(), 1u);
  v1::Event changed;
  *changed.mutable_thread_changed()->mutable_thread() = DirectThread("thr-team", 0, 0);
  changed.mutable_thread_changed()->mutable_thread()->set_kind(v1::THREAD_KIND_TEAM);
  changed.mutable_thread_changed()->mutable_thread()->set_team("cph-billing");
  model_.ApplyEvent(changed);
  const std::string screen = Text(model_.Render(kNow, 100, 20));
  EXPECT_NE(screen.find(absl::StrCat("thr-team  ", std::string(10, ' '), "team cph-billing")),
            std::string::npos)
      << screen;
}

TEST_F(TrayModelTest, TheOpenThreadShowsEachMessageOnceAndIsRead) {
  model_.LoadThreads({DirectThread("thr-1", 3, 0)});
  model_.HandleKey(Key::Of(Key::kEnter));
  EXPECT_EQ(model_.open_thread(), "thr-1");
  std::vector<TrayRequest> requests = model_.TakeRequests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests[0].kind, TrayRequest::kLoadThread);
  // Opened: read up to what is known.
  ASSERT_EQ(requests.back().kind, TrayRequest::kMarkRead);
  EXPECT_EQ(requests.back().seq, 3);

  // The page loaded and the live events overlap; each message shows once.
  model_.ApplyEvent(PostedEvent(TextMessage("thr-1", 4, "anna", "fire 四")));
  model_.LoadMessages(
      "thr-1",
      {TextMessage("thr-1", 1, "anna", "en"), TextMessage("thr-1", 2, "soren", "to"),
       TextMessage("thr-1", 3, "anna", "tre"), TextMessage("thr-1", 4, "anna", "fire 四")});
  model_.ApplyEvent(PostedEvent(TextMessage("thr-1", 4, "anna", "fire 四")));
  const std::string screen = Text(model_.Render(kNow, 100, 20));
  EXPECT_EQ(Occurrences(screen, "anna: fire 四"), 1) << screen;
  EXPECT_EQ(Occurrences(screen, "soren: to"), 1) << screen;
  EXPECT_LT(screen.find("anna: en"), screen.find("anna: tre")) << screen;
  requests = Requests(TrayRequest::kMarkRead);
  ASSERT_EQ(requests.size(), 1u) << "one mark for the message that came while open";
  EXPECT_EQ(requests[0].seq, 4);
  EXPECT_EQ(model_.Threads()[0].unread_count(), 0);

  // Reconnected: the thread is loaded again (what came meanwhile), still once each.
  model_.SetConnection(State(FeedState::kConnected));
  EXPECT_EQ(Requests(TrayRequest::kLoadThread).size(), 1u);
}

TEST_F(TrayModelTest, TypingAReplyInAnyLanguagePostsItByteForByte) {
  model_.LoadThreads({DirectThread("thr-1", 0, 0)});
  model_.HandleKey(Key::Of(Key::kEnter));
  model_.TakeRequests();
  const std::string reply = "Hej Anna — 我来处理退款 ąčęėįšųūž, groetjes";
  Type(reply + "x");
  model_.HandleKey(Key::Of(Key::kBackspace));
  EXPECT_EQ(model_.input(), reply);
  // q, digits and a/d are text while typing.
  Type("q1a");
  for (int i = 0; i < 3; ++i) model_.HandleKey(Key::Of(Key::kBackspace));
  EXPECT_FALSE(model_.quit());
  const Frame typing = model_.Render(kNow, 100, 20);
  EXPECT_EQ(typing.cursor_row, 17);  // above the notice and the key bar
  EXPECT_EQ(typing.lines[17].text, "> " + reply);
  EXPECT_EQ(typing.cursor_col, 2 + DisplayWidth(reply));

  // Typing tells the others (the tray sends at most one indicator every two seconds).
  EXPECT_FALSE(Requests(TrayRequest::kTyping).empty());

  model_.HandleKey(Key::Of(Key::kEnter));
  std::vector<TrayRequest> posts = Requests(TrayRequest::kPost);
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].thread_id, "thr-1");
  EXPECT_EQ(posts[0].text, reply);
  EXPECT_EQ(model_.input(), "");
  // A post that failed gives the text back to edit and send again.
  model_.PostFailed(reply, absl::UnavailableError("connection refused"));
  EXPECT_EQ(model_.input(), reply);
  EXPECT_TRUE(absl::StartsWith(model_.notice(), "not sent: connection refused")) << model_.notice();
  // Blank input sends nothing.
  model_.HandleKey(Key::Of(Key::kEscape));
  model_.HandleKey(Key::Of(Key::kEnter));
  model_.TakeRequests();
  Type("   ");
  model_.HandleKey(Key::Of(Key::kEnter));
  EXPECT_TRUE(Requests(TrayRequest::kPost).empty());
}

TEST_F(TrayModelTest, CommandsTypedInAnEscalationsThreadActOnIt) {
  v1::Escalation e =
      OfferedEscalation("esc-1", "off-1", "soren", "hjælp", kNow + absl::Seconds(10));
  e.set_state(v1::ESCALATION_STATE_ACCEPTED);
  e.set_helper("soren");
  e.set_thread_id("thr-e");
  model_.Accepted(e);
  ASSERT_EQ(model_.open_thread(), "thr-e");
  model_.TakeRequests();
  // What typing `line` and Enter asks of the server, typing indicators aside.
  auto enter = [&](const std::string& line) {
    Type(line);
    model_.HandleKey(Key::Of(Key::kEnter));
    std::vector<TrayRequest> out;
    for (TrayRequest& r : model_.TakeRequests()) {
      if (r.kind != TrayRequest::kTyping) out.push_back(std::move(r));
    }
    return out;
  };

  std::vector<TrayRequest> r = enter("/resolve  kreditnota sendt ");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].kind, TrayRequest::kResolve);
  EXPECT_EQ(r[0].escalation_id, "esc-1");
  EXPECT_EQ(r[0].text, "kreditnota sendt");
  EXPECT_EQ(model_.input(), "");

  r = enter("/transfer billing:3 refunds");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].kind, TrayRequest::kTransfer);
  ASSERT_EQ(r[0].skills.size(), 2u);
  EXPECT_EQ(r[0].skills[0].skill(), "billing");
  EXPECT_EQ(r[0].skills[0].min_proficiency(), 3);
  EXPECT_EQ(r[0].skills[1].skill(), "refunds");
  EXPECT_EQ(r[0].skills[1].min_proficiency(), 1);

  r = enter("/invite mei");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].kind, TrayRequest::kInvite);
  EXPECT_EQ(r[0].text, "mei");

  // Mistakes say what to type, ask nothing of the server, and stay on the line to correct.
  for (const char* bad : {"/invite", "/invite mei lis", "/transfer", "/transfer billing:x",
                          "/transfer :3", "/resolved"}) {
    EXPECT_TRUE(enter(bad).empty()) << bad;
    EXPECT_FALSE(model_.notice().empty()) << bad;
    EXPECT_EQ(model_.input(), bad);
    for (size_t i = 0; i < std::string(bad).size(); ++i) {
      model_.HandleKey(Key::Of(Key::kBackspace));
    }
  }
  EXPECT_TRUE(absl::StartsWith(model_.notice(), "/resolved: unknown; commands: /resolve"))
      << model_.notice();
  // Two slashes post the text from the second one on.
  r = enter("//resolve");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].kind, TrayRequest::kPost);
  EXPECT_EQ(r[0].text, "/resolve");

  model_.EscalationChanged(e, "resolved");
  EXPECT_EQ(model_.notice(), "resolved esc-1");
  EXPECT_EQ(Requests(TrayRequest::kLoadPresence).size(), 1u);

  // A direct thread has no escalation to act on.
  TrayModel direct("soren");
  direct.LoadThreads({DirectThread("thr-d", 0, 0)});
  direct.HandleKey(Key::Of(Key::kEnter));
  ASSERT_EQ(direct.open_thread(), "thr-d");
  for (char32_t c : DecodeUtf8("/resolve")) direct.HandleKey(Key::Text(EncodeUtf8(c)));
  direct.TakeRequests();
  direct.HandleKey(Key::Of(Key::kEnter));
  EXPECT_TRUE(direct.TakeRequests().empty());
  EXPECT_EQ(direct.notice(), "/resolve: this thread belongs to no escalation");
}

TEST_F(TrayModelTest, PresenceKeysAndQuit) {
  const std::vector<std::pair<std::string, v1::PresenceStatus>> keys = {
      {"1", v1::PRESENCE_STATUS_AVAILABLE}, {"2", v1::PRESENCE_STATUS_ON_CALL},
      {"3", v1::PRESENCE_STATUS_WRAP_UP},   {"4", v1::PRESENCE_STATUS_BREAK},
      {"5", v1::PRESENCE_STATUS_MEETING},   {"0", v1::PRESENCE_STATUS_OFFLINE}};
  for (const auto& [key, status] : keys) {
    model_.HandleKey(Key::Text(key));
    std::vector<TrayRequest> r = Requests(TrayRequest::kSetStatus);
    ASSERT_EQ(r.size(), 1u) << key;
    EXPECT_EQ(r[0].status, status) << key;
  }
  v1::Presence p;
  p.set_person("soren");
  p.set_status(v1::PRESENCE_STATUS_BREAK);
  p.set_reason("missed offers");
  p.set_load(1);
  p.set_capacity(2);
  model_.SetPresence(p);
  p.set_person("anna");  // someone else's presence is not the title's
  p.set_status(v1::PRESENCE_STATUS_AVAILABLE);
  model_.SetPresence(p);
  EXPECT_TRUE(absl::StartsWith(model_.Render(kNow, 100, 20).lines[0].text,
                               "Backline · soren · break (missed offers) · load 1/2"));
  model_.HandleKey(Key::Text("q"));
  EXPECT_TRUE(model_.quit());
  EXPECT_EQ(Requests(TrayRequest::kQuit).size(), 1u);
}

TEST_F(TrayModelTest, TheConnectionShowsAndEveryConnectReloads) {
  auto title = [&](absl::Time now) { return model_.Render(now, 120, 20).lines[0].text; };
  EXPECT_NE(title(kNow).find("connecting…"), std::string::npos);
  model_.SetConnection(State(FeedState::kConnected));
  EXPECT_NE(title(kNow).find("connected"), std::string::npos);
  EXPECT_EQ(Requests(TrayRequest::kReload).size(), 1u);

  FeedStateChange lost = State(FeedState::kReconnecting);
  lost.error = absl::UnavailableError("socket closed");
  lost.attempt = 2;
  lost.next_attempt = kNow + absl::Seconds(3);
  model_.SetConnection(lost);
  EXPECT_NE(title(kNow).find("reconnecting (attempt 2, unavailable) in 3s"), std::string::npos)
      << title(kNow);
  EXPECT_EQ(title(kNow).find("connected"), std::string::npos);
  model_.SetConnection(State(FeedState::kConnected));
  EXPECT_EQ(Requests(TrayRequest::kReload).size(), 1u);

  v1::Event gap;
  gap.mutable_gap()->set_after_cursor("1-0");
  model_.ApplyEvent(gap);
  EXPECT_EQ(Requests(TrayRequest::kReload).size(), 1u);

  FeedStateChange refused = State(FeedState::kStopped);
  refused.error = absl::UnauthenticatedError("token expired");
  model_.SetConnection(refused);
  EXPECT_NE(title(kNow).find("stopped: token expired"), std::string::npos) << title(kNow);
}

TEST_F(TrayModelTest, EveryFrameFitsItsWindowWhateverTheLanguage) {
  const std::string question =
      "客户想退款，请帮忙看看账单。Kunden vil have refusion på sin regning — ąčęėįšųūž, "
      "de klant wil zijn geld terug";
  for (int k = 0; k < 30; ++k) {
    model_.ApplyEvent(
        OfferMadeEvent(OfferedEscalation(absl::StrCat("esc-", k), absl::StrCat("off-", k), "soren",
                                         question, kNow + absl::Seconds(10 + k))));
  }
  model_.LoadThreads({DirectThread("thr-1", 0, 0)});
  auto expect_fits = [](const Frame& frame, int width, int height) {
    ASSERT_EQ(frame.lines.size(), static_cast<size_t>(height));
    for (size_t i = 0; i < frame.lines.size(); ++i) {
      EXPECT_LE(DisplayWidth(frame.lines[i].text), width) << i << ": " << frame.lines[i].text;
    }
    EXPECT_LT(DisplayWidth(frame.lines.back().text), width) << "the bottom right stays empty";
  };
  const std::vector<std::pair<int, int>> sizes = {{120, 40}, {80, 24}, {41, 11}};
  for (auto [width, height] : sizes) expect_fits(model_.Render(kNow, width, height), width, height);
  // The selection stays on screen however far down it is.
  for (int k = 0; k < 29; ++k) model_.HandleKey(Key::Of(Key::kDown));
  EXPECT_EQ(model_.selected(), "offer:esc-29");
  const std::string screen = Text(model_.Render(kNow, 80, 24));
  EXPECT_NE(screen.find("> esc-29"), std::string::npos) << screen;

  // The thread view wraps long messages and keeps to the window too.
  model_.HandleKey(Key::Of(Key::kDown));
  model_.HandleKey(Key::Of(Key::kEnter));
  ASSERT_EQ(model_.open_thread(), "thr-1");
  model_.LoadMessages("thr-1", {TextMessage("thr-1", 1, "anna", question + question)});
  for (auto [width, height] : sizes) expect_fits(model_.Render(kNow, width, height), width, height);

  const Frame tiny = model_.Render(kNow, 30, 5);
  ASSERT_EQ(tiny.lines.size(), 5u);
  EXPECT_TRUE(absl::StartsWith(tiny.lines[0].text, "Backline tray: make the"))
      << tiny.lines[0].text;
  EXPECT_LE(DisplayWidth(tiny.lines[0].text), 29);
}

}  // namespace
}  // namespace backline::cli::tray
