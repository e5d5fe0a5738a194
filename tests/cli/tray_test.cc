// The real `backline tray` in a real terminal (tmux) against a real server: an offer appears
// with its countdown, one key accepts it (the server says ACCEPTED), a reply typed in Danish,
// Chinese, Dutch and Lithuanian is stored byte for byte, unread counts move live, a decline,
// presence keys, a resize redraws. Then the must-hold: the server is killed under a connected
// tray and a connected `backline watch`; while it is down, another instance on the same Redis
// records messages and an offer for the person; the server comes back on the same port and
// both show every one of those events exactly once. And the tray's error paths.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <clocale>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/tray/text.h"
#include "services/router/routing_policy.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_stack.h"
#include "tests/support/tmux.h"

namespace backline::testing {
namespace {

// Bound of every wait; none is expected to come close, even on a loaded machine.
constexpr absl::Duration kWait = absl::Seconds(60);

// Offers last two minutes and desktops stay present for a minute without a sign of life, so
// that neither lapses while a test waits on a busy machine or keeps a server down.
constexpr char kServerConfig[] =
    R"({"presence": {"liveness_timeout_seconds": 60}, "routing": {"offer_timeout_seconds": 120}})";

// Polls `read` (a process's output so far) until it contains `text`.
bool EventuallyContains(const std::function<std::string()>& read, const std::string& text) {
  return Eventually([&] { return absl::StrContains(read(), text); }, kWait);
}

std::function<bool(const std::string&)> Shows(const std::string& text) {
  return [text](const std::string& screen) { return absl::StrContains(screen, text); };
}

// A line of each seed article: the first of at least 25 characters, cut to 60, as a person
// would type it.
std::string SeedLine(const std::string& file) {
  for (absl::string_view line : absl::StrSplit(ReadTestData("seeds/" + file), '\n')) {
    std::u32string cps = cli::tray::DecodeUtf8(absl::StripAsciiWhitespace(line));
    if (cps.size() < 25) continue;
    cps.resize(std::min<size_t>(cps.size(), 60));
    return std::string(absl::StripTrailingAsciiWhitespace(cli::tray::EncodeUtf8(cps)));
  }
  return "";
}

class TrayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Column widths of what the tray shows, as the terminal counts them.
    ASSERT_NE(std::setlocale(LC_CTYPE, "C.UTF-8"), nullptr);
    SharedRedis().Flush();
    ServerConfig config = TestConfig(SharedRedis());
    config.presence.liveness_timeout = absl::Seconds(60);
    config.routing.offer_timeout = absl::Seconds(120);
    stack_ = std::make_unique<TestStack>(config, Stack::kAll);
    stack_->ApplyRoster(
        {MakePerson("anna", v1::ROLE_AGENT),
         MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da", "zh-Hant", "nl", "lt"}),
         MakePerson("mei", v1::ROLE_SENIOR, {{"billing", 2}}, {"da"})});
    anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
    soren_ = stack_->ClientFor("soren", v1::ROLE_SENIOR);
  }
  void TearDown() override { tray_.reset(); }

  std::map<std::string, std::string> CliEnv(const std::string& target, const std::string& token) {
    return {{"BACKLINE_TARGET", target},
            {"BACKLINE_TOKEN", token},
            {"BACKLINE_CONFIG", dir_ + "/none"}};
  }

  // Starts Søren's tray against `target` in a 120x40 terminal of type `term`, and waits until
  // it is connected.
  void StartTray(const std::string& target, const std::string& term = "tmux-256color") {
    auto env = CliEnv(target, stack_->Token("soren", v1::ROLE_SENIOR));
    env["TERM"] = term;
    tray_ = std::make_unique<TmuxSession>(dir_, 120, 40,
                                          std::vector<std::string>{BACKLINE_CLI_PATH, "tray"}, env);
    std::string screen;
    ASSERT_TRUE(tray_->WaitForScreen(Shows("connected"), kWait, &screen)) << screen;
    ASSERT_TRUE(absl::StartsWith(screen, "Backline · soren · offline")) << screen;
  }

  // Presses `1` and waits until the server and the tray say Søren is available.
  void BecomeAvailable() {
    tray_->Keys({"1"});
    std::string screen;
    ASSERT_TRUE(tray_->WaitForScreen(Shows("soren · available"), kWait, &screen)) << screen;
    auto p = soren_->GetPresence();
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->status(), v1::PRESENCE_STATUS_AVAILABLE);
  }

  std::string Ask(const std::string& question) {
    v1::CreateEscalationRequest r;
    r.set_question(question);
    r.set_language("da");
    v1::SkillRequirement* s = r.add_skills();
    s->set_skill("billing");
    s->set_min_proficiency(3);
    auto e = anna_->Escalate(r);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? e->id() : "";
  }

  // Waits for the tray to exit; its exit status (-1 if it did not).
  int ExitStatus() {
    int status = -1;
    std::string screen;
    const bool exited = tray_->WaitForScreen(
        [&](const std::string&) { return tray_->Exited(&status); }, kWait, &screen);
    EXPECT_TRUE(exited) << screen;
    return status;
  }

  // Polls the server until `done` holds for the escalation.
  bool EscalationBecomes(const std::string& id,
                         const std::function<bool(const v1::Escalation&)>& done) {
    return Eventually(
        [&] {
          auto e = anna_->GetEscalation(id);
          return e.ok() && done(*e);
        },
        kWait);
  }

  // Polls the thread until Søren's last message is `expected`, and returns his last text.
  std::string LastTextOfSoren(const std::string& thread, const std::string& expected) {
    std::string last;
    Eventually(
        [&] {
          v1::ListMessagesRequest r;
          r.set_thread_id(thread);
          r.set_page_size(500);
          auto page = anna_->ListMessages(r);
          if (!page.ok()) return false;
          for (const v1::Message& m : page->messages()) {
            if (m.sender() == "soren") last = m.text();
          }
          return last == expected;
        },
        kWait);
    return last;
  }

  // The seconds left that the tray shows for an offer, or -1.
  static int SecondsShown(const std::string& screen, const std::string& esc) {
    std::smatch m;
    if (!std::regex_search(screen, m, std::regex(esc + "  (?:(\\d+)m)?(\\d+)s left"))) return -1;
    return (m[1].matched ? 60 * std::stoi(m[1]) : 0) + std::stoi(m[2]);
  }

  TempDir tmp_{"backline-tray"};
  const std::string dir_ = tmp_.path();
  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<Client> anna_;
  std::unique_ptr<Client> soren_;
  std::unique_ptr<TmuxSession> tray_;
};

TEST_F(TrayTest, OffersCountDownOneKeyAcceptsRepliesInEveryLanguageAndItRedraws) {
  ASSERT_NO_FATAL_FAILURE(StartTray(stack_->target()));
  ASSERT_NO_FATAL_FAILURE(BecomeAvailable());

  const std::string question = "Kunden vil have refusion på sin regning — hvad gør jeg?";
  const std::string esc = Ask(question);
  std::string screen;
  ASSERT_TRUE(tray_->WaitForScreen(Shows(esc + "  "), kWait, &screen)) << screen;
  EXPECT_NE(screen.find("> " + esc), std::string::npos) << "the new offer is selected\n" << screen;
  EXPECT_NE(screen.find("anna [billing>=3, da]: " + question), std::string::npos) << screen;
  const int first = SecondsShown(screen, esc);
  ASSERT_GT(first, 0) << screen;
  ASSERT_TRUE(tray_->WaitForScreen(
      [&](const std::string& s) {
        const int now = SecondsShown(s, esc);
        return now >= 0 && now < first;
      },
      kWait, &screen))
      << "the countdown does not run\n"
      << screen;

  // One key: accepted on the server, and the thread opens.
  tray_->Keys({"a"});
  ASSERT_TRUE(EscalationBecomes(esc, [](const v1::Escalation& e) {
    return e.state() == v1::ESCALATION_STATE_ACCEPTED && e.helper() == "soren";
  }));
  const std::string thread = anna_->GetEscalation(esc)->thread_id();
  ASSERT_TRUE(tray_->WaitForScreen(Shows("── " + thread), kWait, &screen)) << screen;
  EXPECT_NE(screen.find("soren accepted the escalation"), std::string::npos) << screen;

  // What Anna writes shows as she wrote it.
  const std::string from_anna = SeedLine("zh-Hant-callcenter.txt");
  ASSERT_TRUE(anna_->Post(thread, from_anna).ok());
  ASSERT_TRUE(tray_->WaitForScreen(Shows("anna: " + from_anna), kWait, &screen)) << screen;

  // Anna sees him typing (live only: her stream is open first).
  std::unique_ptr<EventStream> anna_events = anna_->Subscribe("");
  ASSERT_TRUE(WaitForEvent(
      *anna_events, [](const v1::Event& e) { return e.has_caught_up(); }, kWait));
  tray_->Type("Et øjeblik");
  EXPECT_TRUE(WaitForEvent(
      *anna_events,
      [&](const v1::Event& e) {
        return e.has_typing() && e.typing().person() == "soren" && e.typing().thread_id() == thread;
      },
      kWait));
  for (int i = 0; i < 10; ++i) tray_->Keys({"BSpace"});

  // Søren's replies, typed in four languages, are stored byte for byte and shown.
  for (const char* seed : {"da-relationer.txt", "zh-Hant-callcenter.txt", "nl-callcenter.txt",
                           "lt-skambuciu-centras.txt"}) {
    const std::string reply = SeedLine(seed);
    ASSERT_FALSE(reply.empty()) << seed;
    tray_->Type(reply);
    tray_->Keys({"Enter"});
    EXPECT_EQ(LastTextOfSoren(thread, reply), reply) << seed;
    ASSERT_TRUE(tray_->WaitForScreen(Shows("soren: " + reply), kWait, &screen)) << screen;
  }

  // Back to the list: a direct thread gets two messages, and its unread count says so.
  tray_->Keys({"Escape"});
  auto direct = anna_->OpenDirectThread("soren");
  ASSERT_TRUE(direct.ok()) << direct.status();
  ASSERT_TRUE(anna_->Post(direct->id(), "første").ok());
  ASSERT_TRUE(anna_->Post(direct->id(), "anden").ok());
  ASSERT_TRUE(
      tray_->WaitForScreen(Shows(direct->id() + "  2 unread  direct  with anna"), kWait, &screen))
      << screen;
  EXPECT_NE(screen.find(thread + "            " + esc + "  anna: " + question), std::string::npos)
      << "the escalation's thread, all read\n"
      << screen;

  // A second offer, declined with one key: the server moves on without Søren.
  const std::string second = Ask("Endnu et spørgsmål om moms");
  ASSERT_TRUE(tray_->WaitForScreen(Shows(second + "  "), kWait, &screen)) << screen;
  tray_->Keys({"d"});
  ASSERT_TRUE(EscalationBecomes(second, [](const v1::Escalation& e) {
    return std::find(e.declined_by().begin(), e.declined_by().end(), "soren") !=
           e.declined_by().end();
  }));
  ASSERT_TRUE(tray_->WaitForScreen(Shows("Offers (0)"), kWait, &screen)) << screen;

  // A smaller window: everything is laid out again to fit, the key bar on its last row.
  auto laid_out_for = [](int width, int height) {
    return [=](const std::string& s) {
      const std::vector<std::string> lines = ScreenLines(s);
      if (static_cast<int>(lines.size()) != height) return false;
      for (const std::string& l : lines) {
        if (cli::tray::DisplayWidth(l) > width) return false;
      }
      return absl::StartsWith(lines.back(), "a accept  d decline") &&
             absl::StartsWith(lines.front(), "Backline · soren") &&
             cli::tray::DisplayWidth(lines.front()) == width;
    };
  };
  tray_->Resize(80, 24);
  ASSERT_TRUE(tray_->WaitForScreen(laid_out_for(80, 24), kWait, &screen)) << screen;
  tray_->Resize(120, 40);
  ASSERT_TRUE(tray_->WaitForScreen(laid_out_for(120, 40), kWait, &screen)) << screen;

  // Presence from the keyboard: on a break, then quit.
  tray_->Keys({"4"});
  ASSERT_TRUE(tray_->WaitForScreen(Shows("soren · break"), kWait, &screen)) << screen;
  EXPECT_EQ(soren_->GetPresence()->status(), v1::PRESENCE_STATUS_BREAK);
  tray_->Keys({"q"});
  EXPECT_EQ(ExitStatus(), 0);
}

// The must-hold: kill the server under a connected tray and a connected `backline watch`;
// events happen meanwhile (recorded by another instance on the same Redis); the server comes
// back on the same port; both show every one of them, once.
TEST_F(TrayTest, CommandsInTheThreadInviteTransferAndResolve) {
  ASSERT_NO_FATAL_FAILURE(StartTray(stack_->target()));
  ASSERT_NO_FATAL_FAILURE(BecomeAvailable());
  std::string screen;
  auto accept = [&](const std::string& esc) {
    ASSERT_TRUE(tray_->WaitForScreen(Shows(esc + "  "), kWait, &screen)) << screen;
    tray_->Keys({"a"});
    ASSERT_TRUE(EscalationBecomes(
        esc, [](const v1::Escalation& e) { return e.state() == v1::ESCALATION_STATE_ACCEPTED; }));
    ASSERT_TRUE(
        tray_->WaitForScreen(Shows("── " + anna_->GetEscalation(esc)->thread_id()), kWait, &screen))
        << screen;
  };
  auto command = [&](const std::string& line) {
    tray_->Type(line);
    tray_->Keys({"Enter"});
  };

  const std::string esc = Ask("Kan kunden få en kreditnota?");
  ASSERT_NO_FATAL_FAILURE(accept(esc));
  // A mistyped command says what there is, and nothing is posted.
  command("/resolv");
  ASSERT_TRUE(tray_->WaitForScreen(Shows("/resolv: unknown; commands: /resolve"), kWait, &screen))
      << screen;
  EXPECT_NE(screen.find("> /resolv"), std::string::npos) << "kept to correct\n" << screen;
  for (int i = 0; i < 7; ++i) tray_->Keys({"BSpace"});
  command("/invite mei");
  ASSERT_TRUE(EscalationBecomes(
      esc, [](const v1::Escalation& e) { return e.experts_size() == 1 && e.experts(0) == "mei"; }));
  ASSERT_TRUE(tray_->WaitForScreen(Shows("mei invited into " + esc), kWait, &screen)) << screen;
  // Two slashes send the text itself.
  const std::string thread = anna_->GetEscalation(esc)->thread_id();
  command("//resolve is what I type when it is done");
  EXPECT_EQ(LastTextOfSoren(thread, "/resolve is what I type when it is done"),
            "/resolve is what I type when it is done");
  command("/resolve kreditnota sendt — løst");
  ASSERT_TRUE(EscalationBecomes(esc, [](const v1::Escalation& e) {
    return e.state() == v1::ESCALATION_STATE_RESOLVED &&
           e.close_reason() == "kreditnota sendt — løst";
  }));
  ASSERT_TRUE(tray_->WaitForScreen(Shows("resolved " + esc), kWait, &screen)) << screen;
  EXPECT_EQ(soren_->GetPresence()->load(), 0);

  // A second one goes back to the queue needing another level; a bad spec changes nothing.
  tray_->Keys({"Escape"});
  const std::string second = Ask("Hvordan krediterer jeg et gebyr?");
  ASSERT_NO_FATAL_FAILURE(accept(second));
  command("/transfer billing:x");
  ASSERT_TRUE(
      tray_->WaitForScreen(Shows("/transfer billing:x: use NAME or NAME:LEVEL"), kWait, &screen))
      << screen;
  EXPECT_EQ(anna_->GetEscalation(second)->state(), v1::ESCALATION_STATE_ACCEPTED);
  tray_->Keys({"BSpace"});  // the line is kept: correct the level and send it again
  command("2");
  ASSERT_TRUE(EscalationBecomes(second, [](const v1::Escalation& e) {
    return e.state() != v1::ESCALATION_STATE_ACCEPTED && e.skills_size() == 1 &&
           e.skills(0).skill() == "billing" && e.skills(0).min_proficiency() == 2;
  }));
  ASSERT_TRUE(tray_->WaitForScreen(Shows("back in the queue: " + second), kWait, &screen))
      << screen;
}

// The first ring is anna's team, whose senior lacks billing, and the next opens only after an
// hour: the escalation waits. Søren, in another team, sees it on his tray — from the stream, and
// from the list each (re)load reads — and one key takes it: he is its helper and the thread
// with the requester opens.
TEST_F(TrayTest, WhatWaitsInTheQueueShowsAndOneKeyTakesIt) {
  stack_.reset();
  SharedRedis().Flush();
  ServerConfig config = TestConfig(SharedRedis());
  config.presence.liveness_timeout = absl::Seconds(60);
  auto policy = router::ParseRoutingPolicy(kTeamFirstPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  config.routing.policy = *policy;
  stack_ = std::make_unique<TestStack>(config, Stack::kAll);
  stack_->ApplyRoster(TeamFirstRoster());
  anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
  soren_ = stack_->ClientFor("soren", v1::ROLE_SENIOR);
  auto ida = stack_->ClientFor("ida", v1::ROLE_SENIOR);
  ASSERT_TRUE(ida->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());  // staffs the first ring

  ASSERT_NO_FATAL_FAILURE(StartTray(stack_->target()));
  ASSERT_NO_FATAL_FAILURE(BecomeAvailable());
  std::string screen;
  const std::string question = "Må kunden få gebyret for rykkeren retur?";
  const std::string esc = Ask(question);
  ASSERT_EQ(anna_->GetEscalation(esc)->state(), v1::ESCALATION_STATE_QUEUED);
  ASSERT_TRUE(tray_->WaitForScreen(Shows("Looking for help (1)"), kWait, &screen)) << screen;
  EXPECT_NE(screen.find("best match  anna [billing>=3, da]: " + question), std::string::npos)
      << screen;
  // A reload reads the same list from the server, with the place in the queue.
  tray_->Keys({"r"});
  ASSERT_TRUE(tray_->WaitForScreen(Shows(esc + "  #1 waiting"), kWait, &screen)) << screen;
  EXPECT_NE(screen.find("Looking for help (1)"), std::string::npos) << screen;

  tray_->Keys({"t"});
  ASSERT_TRUE(EscalationBecomes(esc, [](const v1::Escalation& e) {
    return e.state() == v1::ESCALATION_STATE_ACCEPTED && e.helper() == "soren";
  }));
  const std::string thread = anna_->GetEscalation(esc)->thread_id();
  ASSERT_TRUE(tray_->WaitForScreen(Shows("── " + thread), kWait, &screen)) << screen;
  EXPECT_NE(screen.find("took " + esc + ": write to anna below"), std::string::npos) << screen;
  tray_->Keys({"Escape"});
  ASSERT_TRUE(tray_->WaitForScreen(
      [&](const std::string& s) {
        return absl::StrContains(s, "Threads (1)") && !absl::StrContains(s, "Looking for help");
      },
      kWait, &screen))
      << screen;
}

TEST_F(TrayTest, TrayAndWatchSurviveAKilledServerAndShowWhatHappenedMeanwhileOnce) {
  ServerProcess server(BACKLINE_SERVER_PATH, dir_, SharedRedis().port(), kServerConfig);
  ASSERT_NO_FATAL_FAILURE(server.Start());
  // A plain terminal, as over ssh to an old box.
  ASSERT_NO_FATAL_FAILURE(StartTray(server.target(), "vt100"));
  ASSERT_NO_FATAL_FAILURE(BecomeAvailable());

  auto direct = anna_->OpenDirectThread("soren");
  ASSERT_TRUE(direct.ok()) << direct.status();
  const std::string thread = direct->id();
  ASSERT_TRUE(anna_->Post(thread, "før nedbruddet").ok());
  std::string screen;
  ASSERT_TRUE(tray_->WaitForScreen(Shows(thread + "  1 unread"), kWait, &screen)) << screen;
  tray_->Keys({"Enter"});  // the only thread, selected: open it
  ASSERT_TRUE(tray_->WaitForScreen(Shows("anna: før nedbruddet"), kWait, &screen)) << screen;

  // From the start of the person's log, so that nothing before its first connection is missed.
  BackgroundProcess watch({BACKLINE_CLI_PATH, "watch", "--cursor", "0", "--for", "600"},
                          CliEnv(server.target(), stack_->Token("soren", v1::ROLE_SENIOR)),
                          dir_ + "/watch.out");
  ASSERT_TRUE(anna_->Post(thread, "watch er med").ok());
  auto output = [&] { return watch.Output(); };
  auto errors = [&] { return watch.Errors(); };
  ASSERT_TRUE(EventuallyContains(output, "watch er med")) << watch.Errors();

  // Down. Both notice.
  server.Kill();
  ASSERT_TRUE(tray_->WaitForScreen(Shows("reconnecting"), kWait, &screen)) << screen;
  EXPECT_TRUE(EventuallyContains(errors, "lost the connection")) << watch.Errors();

  // Meanwhile, through the other instance: five messages and an offer.
  std::vector<std::string> meanwhile;
  for (int k = 1; k <= 5; ++k) {
    meanwhile.push_back(absl::StrCat("mens serveren var nede ", k, " — 服务器 ", k));
    ASSERT_TRUE(anna_->Post(thread, meanwhile.back()).ok());
  }
  const std::string esc = Ask("Spørgsmål stillet mens serveren var nede");
  ASSERT_TRUE(EscalationBecomes(esc, [](const v1::Escalation& e) {
    return e.state() == v1::ESCALATION_STATE_OFFERED && e.offer().helper() == "soren";
  }));
  ASSERT_TRUE(tray_->Screen().find("mens serveren") == std::string::npos) << "not yet";

  // Up again on the same port: both reconnect by themselves and show it all, once.
  ASSERT_NO_FATAL_FAILURE(server.Start());
  ASSERT_TRUE(tray_->WaitForScreen(
      [&](const std::string& s) {
        return Shows("connected")(s) && Shows(meanwhile.back())(s) && Shows("Offer " + esc)(s);
      },
      kWait, &screen))
      << screen;
  for (const std::string& text : meanwhile) {
    EXPECT_EQ(Occurrences(screen, "anna: " + text), 1) << text << "\n" << screen;
  }
  EXPECT_EQ(Occurrences(screen, "anna: før nedbruddet"), 1) << screen;
  EXPECT_EQ(Occurrences(screen, "anna: watch er med"), 1) << screen;

  // The offer made while the tray was away is on its list with its countdown; one key takes it.
  tray_->Keys({"Escape"});
  ASSERT_TRUE(tray_->WaitForScreen(Shows("  " + esc + "  "), kWait, &screen)) << screen;
  EXPECT_EQ(Occurrences(screen, esc), 1) << screen;
  EXPECT_NE(screen.find(thread + "            direct  with anna"), std::string::npos)
      << "read while it was open\n"
      << screen;
  tray_->Keys({"a"});
  ASSERT_TRUE(EscalationBecomes(esc, [](const v1::Escalation& e) {
    return e.state() == v1::ESCALATION_STATE_ACCEPTED && e.helper() == "soren";
  }));

  // `backline watch` printed each of them once, in order, and said it reconnected.
  ASSERT_TRUE(EventuallyContains(output, "OFFER " + esc)) << watch.Output();
  const std::string out = watch.Output();
  size_t last_at = 0;
  for (const std::string& text : meanwhile) {
    EXPECT_EQ(Occurrences(out, "anna: " + text + "\n"), 1) << text << "\n" << out;
    const size_t at = out.find("anna: " + text);
    EXPECT_GT(at, last_at) << "in order\n" << out;
    last_at = at;
  }
  EXPECT_EQ(Occurrences(out, "OFFER " + esc + " from anna"), 1) << out;
  EXPECT_EQ(Occurrences(out, "anna: watch er med"), 1) << out;
  EXPECT_TRUE(EventuallyContains(errors, "connected again")) << watch.Errors();
  watch.Stop(SIGTERM);

  tray_->Keys({"Escape", "q"});  // the accepted escalation's thread is open: back, then quit
  EXPECT_EQ(ExitStatus(), 0);
}

TEST_F(TrayTest, TrayErrorsSayWhatToDoWithTheDocumentedExitCodes) {
  const std::vector<std::string> tray = {BACKLINE_CLI_PATH, "tray"};
  // Refused token: 4, before the terminal is touched.
  ProcessResult r = RunProcess(tray, CliEnv(stack_->target(), "not-a-token"));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("admin token"), std::string::npos) << r.err;
  // Nobody on the roster by that name: 3.
  r = RunProcess(tray, CliEnv(stack_->target(), stack_->Token("ghost", v1::ROLE_SENIOR)));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // No server: 7, within the deadline.
  std::vector<std::string> down = tray;
  down.insert(down.begin() + 1, {"--timeout", "2"});
  r = RunProcess(down, CliEnv(absl::StrCat("127.0.0.1:", FreePort()),
                              stack_->Token("soren", v1::ROLE_SENIOR)));
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_NE(r.err.find("is a Backline server running"), std::string::npos) << r.err;
  EXPECT_LT(r.elapsed, absl::Seconds(10));
  // Not a terminal (a pipe): 2.
  r = RunProcess(tray, CliEnv(stack_->target(), stack_->Token("soren", v1::ROLE_SENIOR)));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("needs a terminal"), std::string::npos) << r.err;

  // A terminal type this machine does not know: 2, and what to set.
  auto env = CliEnv(stack_->target(), stack_->Token("soren", v1::ROLE_SENIOR));
  env["TERM"] = "no-such-terminal";
  tray_ = std::make_unique<TmuxSession>(dir_, 100, 30, tray, env);
  EXPECT_EQ(ExitStatus(), 2);
  const std::string screen = tray_->Transcript();
  EXPECT_NE(screen.find("\"no-such-terminal\" is unknown here: set TERM"), std::string::npos)
      << screen;
}

}  // namespace
}  // namespace backline::testing
