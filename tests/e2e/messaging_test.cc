// Messaging end to end: direct and team threads, edits and deletions seen by everyone, read
// markers and unread counts, typing that is delivered live but never stored, supervisors who
// read an escalation thread of their site and write only once they join, paging, and who may
// see what.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

class MessagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    stack_ = std::make_unique<TestStack>(SharedRedis());
    stack_->ApplyRoster({MakePerson("anna", v1::ROLE_AGENT), MakePerson("bo", v1::ROLE_AGENT),
                         MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}),
                         MakePerson("eva", v1::ROLE_SUPERVISOR, {}, {"da"}, 0, "cph-ops"),
                         MakePerson("olga", v1::ROLE_SUPERVISOR, {}, {"da"}, 0, "osl", "osl"),
                         MakePerson("per", v1::ROLE_AGENT, {}, {"da"}, 0, "osl", "osl")});
    anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
    bo_ = stack_->ClientFor("bo", v1::ROLE_AGENT);
    soren_ = stack_->ClientFor("soren", v1::ROLE_SENIOR);
  }

  std::string EscalationThread() {
    EXPECT_TRUE(soren_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
    v1::CreateEscalationRequest r;
    r.set_question("refund?");
    r.set_language("da");
    r.add_skills()->set_skill("billing");
    auto e = anna_->Escalate(r);
    EXPECT_TRUE(e.ok());
    auto acc = soren_->AcceptOffer(e->id());
    EXPECT_TRUE(acc.ok());
    return acc->thread_id();
  }

  std::unique_ptr<EventStream> LiveStream(Client& c) {
    auto s = c.Subscribe("");
    EXPECT_TRUE(WaitForEvent(*s, [](const v1::Event& e) { return e.has_caught_up(); }));
    return s;
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<Client> anna_, bo_, soren_;
};

TEST_F(MessagingTest, DirectThreadsAreOneThreadPerPair) {
  auto bo_events = LiveStream(*bo_);
  auto t = anna_->OpenDirectThread("bo");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->kind(), v1::THREAD_KIND_DIRECT);
  EXPECT_EQ(std::vector<std::string>(t->participants().begin(), t->participants().end()),
            (std::vector<std::string>{"anna", "bo"}));
  // Opened from the other side, or again: the same thread.
  EXPECT_EQ(bo_->OpenDirectThread("anna")->id(), t->id());
  EXPECT_EQ(anna_->OpenDirectThread("bo")->id(), t->id());
  auto told = WaitForEvent(*bo_events, [](const v1::Event& e) { return e.has_thread_changed(); });
  ASSERT_TRUE(told.has_value());
  EXPECT_EQ(told->thread_changed().thread().id(), t->id());
  ASSERT_TRUE(anna_->Post(t->id(), "hej Bo").ok());
  auto got = WaitForEvent(*bo_events, [](const v1::Event& e) { return e.has_message_posted(); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->message_posted().message().text(), "hej Bo");
  // Soren is not part of it.
  EXPECT_EQ(soren_->GetThread(t->id()).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(soren_->Post(t->id(), "hi").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(anna_->OpenDirectThread("nobody").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(anna_->OpenDirectThread("anna").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MessagingTest, TeamThreadsReachTheWholeTeam) {
  auto soren_events = LiveStream(*soren_);
  auto t = anna_->OpenTeamThread("cph-billing");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->kind(), v1::THREAD_KIND_TEAM);
  EXPECT_EQ(t->participants_size(), 3);  // anna, bo, soren
  ASSERT_TRUE(bo_->Post(t->id(), "standup in five").ok());
  auto got = WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_message_posted(); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->message_posted().message().sender(), "bo");
  // Another team's agent may neither open nor read it.
  auto per = stack_->ClientFor("per", v1::ROLE_AGENT);
  EXPECT_EQ(per->OpenTeamThread("cph-billing").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(per->GetThread(t->id()).status().code(), absl::StatusCode::kPermissionDenied);
  // The site's supervisor may open it; another site's may not.
  EXPECT_TRUE(stack_->ClientFor("eva", v1::ROLE_SUPERVISOR)->OpenTeamThread("cph-billing").ok());
  EXPECT_EQ(
      stack_->ClientFor("olga", v1::ROLE_SUPERVISOR)->OpenTeamThread("cph-billing").status().code(),
      absl::StatusCode::kPermissionDenied);
}

TEST_F(MessagingTest, EditsAndDeletionsAreSeenByEveryone) {
  const std::string thread = EscalationThread();
  auto soren_events = LiveStream(*soren_);
  auto m = anna_->Post(thread, "the invoice is 4711");
  ASSERT_TRUE(m.ok());
  auto edited = anna_->EditMessage(thread, m->seq(), "the invoice is 4712");
  ASSERT_TRUE(edited.ok()) << edited.status();
  EXPECT_EQ(edited->text(), "the invoice is 4712");
  EXPECT_TRUE(edited->has_edit_time());
  auto seen =
      WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_message_changed(); });
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->message_changed().message().text(), "the invoice is 4712");
  // Only the author edits or deletes.
  EXPECT_EQ(soren_->EditMessage(thread, m->seq(), "mine now").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(soren_->DeleteMessage(thread, 1).status().code(),  // the system message
            absl::StatusCode::kPermissionDenied);
  auto deleted = anna_->DeleteMessage(thread, m->seq());
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->deleted());
  EXPECT_TRUE(deleted->text().empty());
  EXPECT_EQ(anna_->EditMessage(thread, m->seq(), "again").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(anna_->EditMessage(thread, 99, "x").status().code(), absl::StatusCode::kNotFound);
  v1::ListMessagesRequest list;
  list.set_thread_id(thread);
  auto history = soren_->ListMessages(list);
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->messages(1).deleted());
}

TEST_F(MessagingTest, ReadMarkersAndUnreadCounts) {
  const std::string thread = EscalationThread();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(anna_->Post(thread, absl::StrCat("m", i)).ok());
  auto t = soren_->GetThread(thread);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->last_seq(), 6);
  EXPECT_EQ(t->unread_count(), 5);  // the system message of his own accept is read
  auto anna_events = LiveStream(*anna_);
  auto marked = soren_->MarkRead(thread, 4);
  ASSERT_TRUE(marked.ok()) << marked.status();
  EXPECT_EQ(marked->read_seq(), 4);
  EXPECT_EQ(marked->unread_count(), 2);
  auto seen = WaitForEvent(*anna_events, [](const v1::Event& e) { return e.has_read_marker(); });
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->read_marker().person(), "soren");
  EXPECT_EQ(seen->read_marker().seq(), 4);
  // Never backwards; never beyond the last message.
  EXPECT_EQ(soren_->MarkRead(thread, 2)->read_seq(), 4);
  EXPECT_EQ(soren_->MarkRead(thread, 7).status().code(), absl::StatusCode::kInvalidArgument);
  // The sender has read their own messages.
  EXPECT_EQ(anna_->GetThread(thread)->unread_count(), 0);
  auto listed = soren_->ListThreads(v1::ListThreadsRequest());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->threads_size(), 1);
  EXPECT_EQ(listed->threads(0).id(), thread);
  EXPECT_EQ(listed->threads(0).unread_count(), 2);
}

TEST_F(MessagingTest, ThreadsAreListedMostRecentFirst) {
  const std::string escalation = EscalationThread();
  auto direct = anna_->OpenDirectThread("bo");
  ASSERT_TRUE(direct.ok());
  auto team = anna_->OpenTeamThread("cph-billing");
  ASSERT_TRUE(team.ok());
  absl::SleepFor(absl::Milliseconds(5));
  ASSERT_TRUE(anna_->Post(escalation, "latest").ok());
  v1::ListThreadsRequest r;
  r.set_page_size(2);
  auto page = anna_->ListThreads(r);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->threads_size(), 2);
  EXPECT_EQ(page->threads(0).id(), escalation);
  ASSERT_FALSE(page->next_page_token().empty());
  r.set_page_token(page->next_page_token());
  auto rest = anna_->ListThreads(r);
  ASSERT_TRUE(rest.ok());
  std::set<std::string> all = {page->threads(0).id(), page->threads(1).id()};
  for (const auto& t : rest->threads()) all.insert(t.id());
  EXPECT_EQ(all, (std::set<std::string>{escalation, direct->id(), team->id()}));
}

TEST_F(MessagingTest, TypingIsLiveOnlyAndRateLimited) {
  const std::string thread = EscalationThread();
  auto soren_events = LiveStream(*soren_);
  std::string cursor_before;
  ASSERT_TRUE(anna_->SetTyping(thread).ok());
  auto typing = WaitForEvent(*soren_events, [](const v1::Event& e) { return e.has_typing(); });
  ASSERT_TRUE(typing.has_value());
  EXPECT_EQ(typing->typing().person(), "anna");
  EXPECT_TRUE(typing->cursor().empty());
  // A second indicator within two seconds is not sent on.
  ASSERT_TRUE(anna_->SetTyping(thread).ok());
  ASSERT_TRUE(anna_->Post(thread, "done typing").ok());
  auto next = WaitForEvent(
      *soren_events, [](const v1::Event& e) { return e.has_typing() || e.has_message_posted(); });
  ASSERT_TRUE(next.has_value());
  EXPECT_TRUE(next->has_message_posted()) << "a rate-limited typing indicator got through";
  // Never stored: reading the log from the start shows no typing.
  auto replay = soren_->Subscribe("0");
  while (true) {
    auto ev = replay->Next(absl::Seconds(5));
    ASSERT_TRUE(ev.ok() && ev->has_value());
    if ((*ev)->has_caught_up()) break;
    EXPECT_FALSE((*ev)->has_typing());
  }
  // Only participants type.
  EXPECT_EQ(bo_->SetTyping(thread).code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(MessagingTest, SupervisorsReadTheirSiteAndWriteOnceJoined) {
  const std::string thread = EscalationThread();
  ASSERT_TRUE(anna_->Post(thread, "can someone help?").ok());
  auto eva = stack_->ClientFor("eva", v1::ROLE_SUPERVISOR);
  v1::ListMessagesRequest list;
  list.set_thread_id(thread);
  auto read = eva->ListMessages(list);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->messages_size(), 2);
  EXPECT_EQ(eva->Post(thread, "on it").status().code(), absl::StatusCode::kPermissionDenied);
  // Another site's supervisor cannot even read.
  auto olga = stack_->ClientFor("olga", v1::ROLE_SUPERVISOR);
  EXPECT_EQ(olga->ListMessages(list).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(olga->JoinThread(thread).status().code(), absl::StatusCode::kPermissionDenied);
  // Agents do not join.
  EXPECT_EQ(bo_->JoinThread(thread).status().code(), absl::StatusCode::kPermissionDenied);
  auto anna_events = LiveStream(*anna_);
  auto joined = eva->JoinThread(thread);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->participants_size(), 3);
  auto told = WaitForEvent(*anna_events, [](const v1::Event& e) { return e.has_thread_changed(); });
  ASSERT_TRUE(told.has_value());
  EXPECT_EQ(told->thread_changed().thread().participants_size(), 3);
  ASSERT_TRUE(eva->Post(thread, "on it").ok());
  auto got = WaitForEvent(*anna_events, [](const v1::Event& e) { return e.has_message_posted(); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->message_posted().message().sender(), "eva");
  EXPECT_EQ(eva->JoinThread(thread)->participants_size(), 3);  // joining twice changes nothing
}

TEST_F(MessagingTest, HistoryPagesBothWays) {
  const std::string thread = EscalationThread();
  for (int i = 2; i <= 30; ++i) ASSERT_TRUE(anna_->Post(thread, absl::StrCat("m", i)).ok());
  v1::ListMessagesRequest r;
  r.set_thread_id(thread);
  r.set_page_size(10);
  r.set_after_seq(10);
  auto forward = soren_->ListMessages(r);
  ASSERT_TRUE(forward.ok());
  ASSERT_EQ(forward->messages_size(), 10);
  EXPECT_EQ(forward->messages(0).seq(), 11);
  EXPECT_EQ(forward->last_seq(), 30);
  r.set_after_seq(0);
  r.set_before_seq(25);
  auto backward = soren_->ListMessages(r);
  ASSERT_TRUE(backward.ok());
  ASSERT_EQ(backward->messages_size(), 10);
  EXPECT_EQ(backward->messages(0).seq(), 15);
  EXPECT_EQ(backward->messages(9).seq(), 24);
  r.set_page_size(501);
  EXPECT_EQ(soren_->ListMessages(r).status().code(), absl::StatusCode::kInvalidArgument);
}

// The chat service keeps the threads it posted to and builds the next post from that copy; the
// post script checks it against Redis. A change made through another instance must still decide
// who gets the next post and what number it has.
TEST_F(MessagingTest, AParticipantWhoJoinedThroughAnotherInstanceGetsTheNextPost) {
  const std::string thread = EscalationThread();
  ASSERT_TRUE(anna_->Post(thread, "can someone help?").ok());
  TestStack other(SharedRedis());
  auto eva = other.ClientFor("eva", v1::ROLE_SUPERVISOR);
  ASSERT_TRUE(eva->JoinThread(thread).ok());
  auto eva_events = LiveStream(*eva);
  auto posted = anna_->Post(thread, "Kunden vil have pengene tilbage");
  ASSERT_TRUE(posted.ok()) << posted.status();
  EXPECT_EQ(posted->seq(), 3);
  auto got = WaitForEvent(*eva_events, [](const v1::Event& e) { return e.has_message_posted(); });
  ASSERT_TRUE(got.has_value()) << "the participant who joined elsewhere missed the post";
  EXPECT_EQ(got->message_posted().message().text(), "Kunden vil have pengene tilbage");
}

TEST_F(MessagingTest, PostsAlternatingBetweenInstancesAreNumberedInTurn) {
  const std::string thread = EscalationThread();  // message 1: the question
  TestStack other(SharedRedis());
  auto soren_elsewhere = other.ClientFor("soren", v1::ROLE_SENIOR);
  for (int i = 0; i < 6; ++i) {
    auto m = (i % 2 ? *soren_elsewhere : *anna_).Post(thread, absl::StrCat("m", i));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->seq(), i + 2);
  }
}

TEST_F(MessagingTest, APostReadsTheThreadOnlyTheFirstTime) {
  // The round trip saved: after the first post the thread hash is not read again.
  const std::string thread = EscalationThread();
  auto thread_reads = [] {
    const std::string info = SharedRedis().Command({"INFO", "commandstats"}).str;
    const size_t at = info.find("cmdstat_hgetall:calls=");
    return at == std::string::npos ? 0 : std::stoll(info.substr(at + 22));
  };
  ASSERT_TRUE(anna_->Post(thread, "first").ok());
  const long long before = thread_reads();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(anna_->Post(thread, absl::StrCat("m", i)).ok());
  EXPECT_EQ(thread_reads(), before);
}

}  // namespace
}  // namespace backline::testing
