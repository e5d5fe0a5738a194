// The desktop tray (backline-tray-qt) on a real X server (Xvfb), with and without a tray host,
// against a real backline-server process: a real offer reaches it and shows in its window title
// and lists and as a notification; the keys a senior presses accept it, decline another and type
// a reply in Danish and Chinese that the server stores byte for byte. The server is killed under
// the running tray while things happen through a second instance on the same Redis, and started
// again: the tray reconnects by itself and shows every event of the outage exactly once.
//
// What the tray shows is read two ways: xdotool reads the window's title, and the tray's
// --state-file (rewritten on every change) gives its state and what its widgets display.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/router/routing_policy.h"
#include "tests/gui/x_session.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

using nlohmann::json;

// Bound of the waits for the tray (others wait up to Eventually's 30 s); none is expected to
// come close, even on a loaded machine.
constexpr absl::Duration kWait = absl::Seconds(60);

const char kQuestion[] = "Kunden spørger om en refusion af sidste faktura";
const char kReply[] =
    "Hej Anna — Søren her. Ærgerligt med fejlen: refusionen er på vej. 您好，退款已經處理。";
const char kQuestionWhileDown[] = "客戶說發票重複扣款，要求退款";

// The first line of a seed article.
std::string SeedLine(const std::string& name) {
  const std::string text = ReadTestData("seeds/" + name);
  return text.substr(0, text.find('\n'));
}

// How many of `items` (strings) contain `text`.
int Containing(const json& items, const std::string& text) {
  int n = 0;
  for (const json& i : items) n += absl::StrContains(i.get<std::string>(), text);
  return n;
}

const json* FindThread(const json& state, const std::string& id) {
  for (const json& t : state["threads"]) {
    if (t["id"] == id) return &t;
  }
  return nullptr;
}

// The messages of a thread in the tray's state whose text is `text`.
int MessagesWithText(const json& state, const std::string& thread, const std::string& text) {
  const json* t = FindThread(state, thread);
  int n = 0;
  if (t != nullptr) {
    for (const json& m : (*t)["messages"]) n += m["text"] == text;
  }
  return n;
}

int Notifications(const json& state, const std::string& escalation, const std::string& via) {
  int n = 0;
  for (const json& i : state["notifications"])
    n += i["escalation_id"] == escalation && i["via"] == via;
  return n;
}

bool HasOffer(const json& state, const std::string& escalation) {
  for (const json& o : state["offers"]) {
    if (o["escalation_id"] == escalation) return true;
  }
  return false;
}

class TrayQtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    state_file_ = dir_ + "/state.json";
    // A desktop session is dropped 1 s after its stream is gone (the killed server's lease); an
    // offer waits two minutes for its answer, however slowly the machine runs the test.
    server_ = std::make_unique<ServerProcess>(BACKLINE_SERVER_PATH, dir_, SharedRedis().port(),
                                              R"({"presence": {"liveness_timeout_seconds": 1},
            "routing": {"offer_timeout_seconds": 120}})");
    ASSERT_NO_FATAL_FAILURE(server_->Start());
    ServerConfig config = TestConfig(SharedRedis());
    config.presence.liveness_timeout = absl::Seconds(1);
    config.routing.offer_timeout = absl::Seconds(120);
    other_ = std::make_unique<TestStack>(config, Stack::kAll);
    other_->ApplyRoster(
        {MakePerson("anna", v1::ROLE_AGENT),
         MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}, {"da", "zh-Hant", "lt"})});
    anna_ = other_->ClientFor("anna", v1::ROLE_AGENT);
    soren_elsewhere_ = other_->ClientFor("soren", v1::ROLE_SENIOR);
    std::ofstream(dir_ + "/soren.token") << other_->Token("soren", v1::ROLE_SENIOR) << "\n";
    x_ = std::make_unique<XSession>(dir_);
    ASSERT_TRUE(x_->MapCharacters({kReply})) << "xmodmap failed";
  }

  void TearDown() override {
    app_.reset();  // before the display goes
    x_.reset();
    server_.reset();
    other_.reset();
  }

  // Starts the tray as Søren, asking to be AVAILABLE.
  void StartTray(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {BACKLINE_TRAY_QT_PATH,
                                     "--target",
                                     server_->target(),
                                     "--token-file",
                                     dir_ + "/soren.token",
                                     "--status",
                                     "available",
                                     "--state-file",
                                     state_file_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    app_ = std::make_unique<BackgroundProcess>(argv, x_->Environment());
  }

  // Ends the tray as a session manager would; returns its exit code (-1 if killed).
  int StopTray() {
    const int status = app_->Stop(SIGTERM, kWait);
    app_.reset();
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // The tray's state file (null before it is first written; it is replaced atomically).
  json State() {
    return json::parse(ReadWholeFile(state_file_), nullptr, /*allow_exceptions=*/false);
  }

  // Waits until the state satisfies `pred`; `last` gets the last state read.
  bool WaitForState(const std::function<bool(const json&)>& pred, json* last = nullptr) {
    json state;
    const bool ok = Eventually(
        [&] {
          state = State();
          return state.is_object() && pred(state);
        },
        kWait);
    if (last != nullptr) *last = state;
    return ok;
  }

  bool Connected(const json& s) {
    return s["connection"]["state"] == "CONNECTED" && s["presence"].is_object() &&
           s["presence"]["status"] == "AVAILABLE";
  }

  absl::StatusOr<v1::Escalation> Escalate(const std::string& question,
                                          const std::string& language) {
    v1::CreateEscalationRequest r;
    r.set_question(question);
    r.set_language(language);
    r.set_priority(v1::PRIORITY_HIGH);
    v1::SkillRequirement* s = r.add_skills();
    s->set_skill("billing");
    s->set_min_proficiency(3);
    return anna_->Escalate(r);
  }

  v1::EscalationState StateOf(const std::string& id) {
    auto e = anna_->GetEscalation(id);
    return e.ok() ? e->state() : v1::ESCALATION_STATE_UNSPECIFIED;
  }

  v1::PresenceStatus SorenStatus() {
    auto p = soren_elsewhere_->GetPresence();
    return p.ok() ? p->status() : v1::PRESENCE_STATUS_UNSPECIFIED;
  }

  // Every message of a thread, as the server stores them.
  std::vector<v1::Message> Stored(const std::string& thread) {
    v1::ListMessagesRequest r;
    r.set_thread_id(thread);
    r.set_page_size(500);
    auto page = anna_->ListMessages(r);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? std::vector<v1::Message>(page->messages().begin(), page->messages().end())
                     : std::vector<v1::Message>{};
  }

  TempDir tmp_{"backline-tray-qt"};
  const std::string dir_ = tmp_.path();
  std::string state_file_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<TestStack> other_;
  std::unique_ptr<Client> anna_;
  std::unique_ptr<Client> soren_elsewhere_;
  std::unique_ptr<XSession> x_;
  std::unique_ptr<BackgroundProcess> app_;
};

TEST_F(TrayQtTest, WithATrayHostOffersAreAnsweredAndAServerRestartLosesNothing) {
  if (!XSession::TrayHostInstalled()) GTEST_SKIP() << "trayer is not installed";
  ASSERT_TRUE(x_->StartTrayHost()) << "trayer did not come up";
  StartTray();
  json state;
  ASSERT_TRUE(WaitForState(
      [&](const json& s) { return Connected(s) && s["shown"]["tray_available"] == true; }, &state))
      << state.dump(2);

  // A real offer: the window title says so, the notification is a tray message, and the
  // question shows byte for byte.
  auto esc = Escalate(kQuestion, "da");
  ASSERT_TRUE(esc.ok()) << esc.status();
  ASSERT_EQ(esc->state(), v1::ESCALATION_STATE_OFFERED);
  const std::string window = x_->WaitForWindow("soren: AVAILABLE, 1 offer", kWait);
  ASSERT_FALSE(window.empty()) << "no window titled with the offer; state: " << State().dump(2);
  ASSERT_TRUE(WaitForState([&](const json& s) { return HasOffer(s, esc->id()); }, &state));
  EXPECT_EQ(Notifications(state, esc->id(), "tray"), 1) << state.dump(2);
  ASSERT_EQ(state["shown"]["offers"].size(), 1u);
  EXPECT_TRUE(absl::StartsWith(state["shown"]["offers"][0].get<std::string>(), kQuestion))
      << state["shown"]["offers"][0];
  EXPECT_TRUE(absl::StrContains(state["shown"]["tray_tooltip"].get<std::string>(), kQuestion));

  // Alt+A accepts it: on the server, Søren is its helper, and its thread opens.
  ASSERT_TRUE(x_->Key(window, "alt+a"));
  ASSERT_TRUE(Eventually([&] { return StateOf(esc->id()) == v1::ESCALATION_STATE_ACCEPTED; }))
      << "state: " << State().dump(2);
  EXPECT_EQ(anna_->GetEscalation(esc->id())->helper(), "soren");
  ASSERT_TRUE(WaitForState(
      [&](const json& s) { return s["offers"].empty() && s["open_thread"] == esc->thread_id(); },
      &state))
      << state.dump(2);
  // Shown, the thread is read: nothing pending, nothing unread.
  EXPECT_TRUE(Eventually([&] { return x_->WindowName(window) == "Backline — soren: AVAILABLE"; }))
      << x_->WindowName(window);

  // The reply box has the focus; what is typed reaches the server byte for byte.
  ASSERT_TRUE(x_->Type(window, kReply));
  ASSERT_TRUE(x_->Key(window, "Return"));
  ASSERT_TRUE(Eventually([&] {
    for (const v1::Message& m : Stored(esc->thread_id())) {
      if (m.sender() == "soren" && m.text() == kReply) return true;
    }
    return false;
  })) << "stored: "
      << Stored(esc->thread_id()).size() << " messages";
  ASSERT_TRUE(WaitForState(
      [&](const json& s) { return MessagesWithText(s, esc->thread_id(), kReply) == 1; }));

  // The server dies under the tray; meanwhile Anna writes in three languages through the other
  // instance, and escalates again once Søren's session has lapsed (so it waits for him).
  server_->Kill();
  ASSERT_TRUE(WaitForState([](const json& s) { return s["connection"]["state"] == "RECONNECTING"; },
                           &state))
      << state.dump(2);
  std::vector<std::string> meanwhile;
  for (const char* seed :
       {"da-relationer.txt", "zh-Hant-callcenter.txt", "lt-skambuciu-centras.txt"}) {
    meanwhile.push_back(absl::StrCat(meanwhile.size() + 1, ". ", SeedLine(seed)));
    ASSERT_TRUE(anna_->Post(esc->thread_id(), meanwhile.back()).ok());
  }
  ASSERT_TRUE(Eventually([&] { return SorenStatus() == v1::PRESENCE_STATUS_OFFLINE; }))
      << "the killed server's session should have lapsed";
  auto waiting = Escalate(kQuestionWhileDown, "zh-Hant");
  ASSERT_TRUE(waiting.ok()) << waiting.status();
  EXPECT_EQ(waiting->state(), v1::ESCALATION_STATE_QUEUED);

  // Back on the same port: the tray reconnects by itself, Søren is AVAILABLE again, the waiting
  // escalation is offered to him, and every message of the outage shows exactly once.
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  ASSERT_TRUE(WaitForState(
      [&](const json& s) {
        return Connected(s) && s["connection"]["reconnects"] == 1 && HasOffer(s, waiting->id()) &&
               MessagesWithText(s, esc->thread_id(), meanwhile.back()) == 1;
      },
      &state))
      << state.dump(2);
  for (const std::string& text : meanwhile) {
    EXPECT_EQ(MessagesWithText(state, esc->thread_id(), text), 1) << text;
    EXPECT_EQ(Containing(state["shown"]["messages"], text), 1) << text;
  }
  const json* thread = FindThread(state, esc->thread_id());
  ASSERT_NE(thread, nullptr);
  const std::vector<v1::Message> stored = Stored(esc->thread_id());
  ASSERT_EQ((*thread)["messages"].size(), stored.size()) << thread->dump(2);
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ((*thread)["messages"][i]["seq"], stored[i].seq());
    EXPECT_EQ((*thread)["messages"][i]["text"].get<std::string>(), stored[i].text());
  }
  EXPECT_EQ(Notifications(state, waiting->id(), "tray"), 1) << state.dump(2);
  EXPECT_EQ(state["offers"].size(), 1u);
  EXPECT_EQ(Containing(state["shown"]["offers"], kQuestionWhileDown), 1);
  const std::string window_again = x_->WaitForWindow("soren: AVAILABLE, 1 offer", kWait);
  ASSERT_EQ(window_again, window);
  if (const char* png = std::getenv("BACKLINE_TRAY_SCREENSHOT")) {
    EXPECT_TRUE(x_->Screenshot(png)) << "screenshot to " << png;
  }

  // Alt+D declines it; the server will not offer it to him again.
  ASSERT_TRUE(x_->Key(window, "alt+d"));
  ASSERT_TRUE(Eventually([&] {
    auto e = anna_->GetEscalation(waiting->id());
    return e.ok() && e->declined_by_size() == 1 && e->declined_by(0) == "soren";
  }));
  ASSERT_TRUE(WaitForState([](const json& s) { return s["offers"].empty(); }, &state))
      << state.dump(2);

  // The first one's thread is still shown; Alt+O resolves it on the server and frees Søren.
  ASSERT_EQ(state["open_thread"], esc->thread_id()) << state.dump(2);
  ASSERT_TRUE(state["shown"]["resolve_enabled"].get<bool>()) << state.dump(2);
  ASSERT_TRUE(x_->Key(window, "alt+o"));
  ASSERT_TRUE(Eventually([&] { return StateOf(esc->id()) == v1::ESCALATION_STATE_RESOLVED; }))
      << "state: " << State().dump(2);
  ASSERT_TRUE(WaitForState([](const json& s) { return !s["shown"]["resolve_enabled"].get<bool>(); },
                           &state))
      << state.dump(2);
  EXPECT_EQ(StopTray(), 0);
}

TEST_F(TrayQtTest, WithoutATrayHostTheWindowDoesItAllFromOffersMadeBeforeItStarted) {
  // Søren is on another desktop when the offer comes; the tray starts after it.
  auto other_desktop = soren_elsewhere_->OpenFeed(FeedOptions());
  ASSERT_TRUE(Eventually([&] {
    auto item = other_desktop->Next(absl::Milliseconds(100));
    return item.ok() && item->has_value() && (*item)->is_state() &&
           (*item)->state.state == FeedState::kConnected;
  }));
  ASSERT_TRUE(soren_elsewhere_->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto esc = Escalate(kQuestion, "da");
  ASSERT_TRUE(esc.ok()) << esc.status();
  ASSERT_EQ(esc->state(), v1::ESCALATION_STATE_OFFERED);

  // --hidden asks to start in the tray; with none, the window opens anyway, and the offer
  // pending at start (ListEscalations) shows, notified by the window itself.
  StartTray({"--hidden"});
  json state;
  ASSERT_TRUE(
      WaitForState([&](const json& s) { return Connected(s) && HasOffer(s, esc->id()); }, &state))
      << state.dump(2);
  other_desktop->Stop();
  EXPECT_EQ(state["shown"]["tray_available"], false);
  EXPECT_EQ(state["shown"]["window_visible"], true);
  EXPECT_EQ(Notifications(state, esc->id(), "window"), 1) << state.dump(2);
  EXPECT_EQ(Notifications(state, esc->id(), "tray"), 0);
  const std::string window = x_->WaitForWindow("soren: AVAILABLE, 1 offer", kWait);
  ASSERT_FALSE(window.empty()) << "state: " << State().dump(2);

  ASSERT_TRUE(x_->Key(window, "alt+a"));
  ASSERT_TRUE(Eventually([&] { return StateOf(esc->id()) == v1::ESCALATION_STATE_ACCEPTED; }))
      << "state: " << State().dump(2);
  EXPECT_EQ(anna_->GetEscalation(esc->id())->helper(), "soren");
  ASSERT_TRUE(WaitForState([&](const json& s) { return s["open_thread"] == esc->thread_id(); }));
  EXPECT_EQ(StopTray(), 0);
}

// The first ring is anna's team, whose senior lacks billing, and the next opens only after an
// hour: the escalation waits. Søren's tray, in another team, shows it on the looking-for-help
// list, and Alt+T takes it: he is its helper and its thread is shown. Then he invites an expert
// and hands it back to the queue with commands typed in the reply box.
TEST_F(TrayQtTest, WhatWaitsInTheQueueShowsAndAltTTakesItThenCommandsActOnIt) {
  server_.reset();
  other_.reset();
  SharedRedis().Flush();
  const std::string policy_file = dir_ + "/policy.json";
  std::ofstream(policy_file) << kTeamFirstPolicy;
  server_ = std::make_unique<ServerProcess>(
      BACKLINE_SERVER_PATH, dir_, SharedRedis().port(),
      absl::StrCat(R"({"presence": {"liveness_timeout_seconds": 60}, "routing": {"policy_file": ")",
                   policy_file, R"(", "offer_timeout_seconds": 120}})"));
  ASSERT_NO_FATAL_FAILURE(server_->Start());
  ServerConfig config = TestConfig(SharedRedis());
  config.presence.liveness_timeout = absl::Seconds(60);
  auto policy = router::ParseRoutingPolicy(kTeamFirstPolicy);
  ASSERT_TRUE(policy.ok()) << policy.status();
  config.routing.policy = *policy;
  other_ = std::make_unique<TestStack>(config, Stack::kAll);
  other_->ApplyRoster(TeamFirstRoster());
  anna_ = other_->ClientFor("anna", v1::ROLE_AGENT);
  auto ida = other_->ClientFor("ida", v1::ROLE_SENIOR);
  ASSERT_TRUE(ida->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());  // staffs the first ring

  StartTray();
  json state;
  ASSERT_TRUE(WaitForState([&](const json& s) { return Connected(s); }, &state)) << state.dump(2);
  auto esc = Escalate(kQuestion, "da");
  ASSERT_TRUE(esc.ok()) << esc.status();
  ASSERT_EQ(esc->state(), v1::ESCALATION_STATE_QUEUED);
  ASSERT_TRUE(WaitForState(
      [&](const json& s) {
        return s["waiting"].size() == 1 && s["waiting"][0]["escalation_id"] == esc->id() &&
               Containing(s["shown"]["waiting"], kQuestion) == 1 &&
               s["shown"]["take_enabled"] == true;
      },
      &state))
      << state.dump(2);
  EXPECT_EQ(Containing(state["shown"]["waiting"], "best match"), 1) << state.dump(2);
  const std::string window = x_->WaitForWindow("soren: AVAILABLE", kWait);
  ASSERT_FALSE(window.empty()) << "state: " << State().dump(2);

  ASSERT_TRUE(x_->Key(window, "alt+t"));
  ASSERT_TRUE(Eventually([&] { return StateOf(esc->id()) == v1::ESCALATION_STATE_ACCEPTED; }))
      << "state: " << State().dump(2);
  EXPECT_EQ(anna_->GetEscalation(esc->id())->helper(), "soren");
  ASSERT_TRUE(WaitForState(
      [&](const json& s) {
        return s["open_thread"] == esc->thread_id() && s["shown"]["waiting"].empty();
      },
      &state))
      << state.dump(2);

  // Commands typed in the reply box act on the escalation, as in the terminal tray: a wrong one
  // says what to type and stays in the box; /invite brings in an expert, /transfer hands it back.
  auto command = [&](const std::string& line) {
    ASSERT_TRUE(x_->Key(window, "alt+r"));
    ASSERT_TRUE(x_->Type(window, line));
    ASSERT_TRUE(x_->Key(window, "Return"));
  };
  ASSERT_NO_FATAL_FAILURE(command("/transfer billing:x"));
  ASSERT_TRUE(WaitForState(
      [](const json& s) { return s["notice"] == "/transfer billing:x: use NAME or NAME:LEVEL"; },
      &state))
      << state.dump(2);
  EXPECT_EQ(StateOf(esc->id()), v1::ESCALATION_STATE_ACCEPTED);
  ASSERT_TRUE(x_->Key(window, "ctrl+a"));
  ASSERT_NO_FATAL_FAILURE(command("/invite ida"));
  ASSERT_TRUE(Eventually([&] {
    auto e = anna_->GetEscalation(esc->id());
    return e.ok() && e->experts_size() == 1 && e->experts(0) == "ida";
  })) << "state: " << State().dump(2);
  ASSERT_NO_FATAL_FAILURE(command("/transfer billing:2"));
  ASSERT_TRUE(Eventually([&] {
    auto e = anna_->GetEscalation(esc->id());
    return e.ok() && e->state() != v1::ESCALATION_STATE_ACCEPTED && e->skills_size() == 1 &&
           e->skills(0).min_proficiency() == 2;
  })) << "state: " << State().dump(2);
  ASSERT_TRUE(WaitForState(
      [](const json& s) {
        return absl::StartsWith(s["notice"].get<std::string>(), "Back in the queue: ");
      },
      &state))
      << state.dump(2);
  EXPECT_EQ(StopTray(), 0);
}

}  // namespace
}  // namespace backline::testing
