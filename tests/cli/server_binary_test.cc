// The real backline-server binary: flags, standard health checking and reflection, health that
// follows Redis, refusing to start without a secret, and a clean shutdown on SIGTERM that ends
// event streams with UNAVAILABLE.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/common/token.h"
#include "tests/support/process.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

grpc::ByteBuffer Bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

std::string Flatten(const grpc::ByteBuffer& b) {
  std::vector<grpc::Slice> slices;
  (void)b.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// One generic call: unary (one request, first response) or the first reply of a bidi stream.
absl::StatusOr<std::string> GenericCall(const std::string& target, const std::string& method,
                                        const std::string& request) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto call = stub.PrepareCall(&ctx, method, &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  if (!cq.Next(&tag, &ok) || !ok) return absl::UnavailableError("start failed");
  grpc::ByteBuffer req = Bytes(request);
  call->Write(req, reinterpret_cast<void*>(2));
  if (!cq.Next(&tag, &ok) || !ok) return absl::UnavailableError("write failed");
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  grpc::ByteBuffer resp;
  call->Read(&resp, reinterpret_cast<void*>(4));
  if (!cq.Next(&tag, &ok) || !ok) return absl::UnavailableError("read failed");
  std::string out = Flatten(resp);
  ctx.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

// grpc.health.v1.HealthCheckResponse.status: 1 SERVING, 2 NOT_SERVING.
int HealthStatus(const std::string& target) {
  auto r = GenericCall(target, "/grpc.health.v1.Health/Check", "");
  if (!r.ok() || r->size() != 2 || (*r)[0] != 0x08) return -1;
  return (*r)[1];
}

class ServerBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = dir_ + "/token.secret";
    std::ofstream(secret_) << kTestSecret << "\n";
  }

  std::unique_ptr<BackgroundProcess> StartServer(const RedisServer& redis, int port) {
    auto p = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        BACKLINE_SERVER_PATH, "--listen", absl::StrCat("127.0.0.1:", port), "--redis",
        absl::StrCat("127.0.0.1:", redis.port()), "--token_secret_file", secret_});
    ClientOptions o;
    o.target = absl::StrCat("127.0.0.1:", port);
    EXPECT_TRUE(Client(o).WaitForConnected(absl::Seconds(10))) << "server did not come up";
    return p;
  }

  TempDir tmp_{"backline-server"};
  const std::string dir_ = tmp_.path();
  std::string secret_;
};

TEST_F(ServerBinaryTest, HealthReflectionAndCleanShutdown) {
  const int port = FreePort();
  auto server = StartServer(SharedRedis(), port);
  const std::string target = absl::StrCat("127.0.0.1:", port);
  EXPECT_EQ(HealthStatus(target), 1);

  // ServerReflectionRequest{list_services: "*"}: the reply names Backline's services.
  auto listed =
      GenericCall(target, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                  std::string("\x3a\x01*", 3));
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const char* svc : {"backline.v1.RosterService", "backline.v1.PresenceService",
                          "backline.v1.EscalationService", "backline.v1.MessagingService"}) {
    EXPECT_NE(listed->find(svc), std::string::npos) << svc;
  }

  // A connected desktop; SIGTERM ends its stream with UNAVAILABLE and the server exits 0.
  SharedRedis().Flush();
  ClientOptions o;
  o.target = target;
  o.token = *TokenCodec(kTestSecret).Issue({"root", v1::ROLE_ADMIN}, absl::Hours(1), absl::Now());
  Client admin(o);
  v1::ApplyRosterRequest roster;
  *roster.add_people() = MakePerson("anna", v1::ROLE_AGENT);
  ASSERT_TRUE(admin.ApplyRoster(roster).ok());
  o.token = *TokenCodec(kTestSecret).Issue({"anna", v1::ROLE_AGENT}, absl::Hours(1), absl::Now());
  Client anna(o);
  auto stream = anna.Subscribe("");
  ASSERT_TRUE(WaitForEvent(*stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  const absl::Time start = absl::Now();
  const int status = server->Stop(SIGTERM, absl::Seconds(10));
  EXPECT_LT(absl::Now() - start, absl::Seconds(7));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  absl::StatusOr<std::optional<v1::Event>> end;
  do {
    end = stream->Next(absl::Seconds(2));
  } while (end.ok() && end->has_value());
  EXPECT_EQ(end.status().code(), absl::StatusCode::kUnavailable) << end.status();
}

TEST_F(ServerBinaryTest, HealthFollowsRedis) {
  RedisServer own;
  const int port = FreePort();
  auto server = StartServer(own, port);
  const std::string target = absl::StrCat("127.0.0.1:", port);
  EXPECT_EQ(HealthStatus(target), 1);
  own.Kill();
  int health = 1;
  for (int i = 0; i < 50 && health == 1; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    health = HealthStatus(target);
  }
  EXPECT_EQ(health, 2) << "health did not turn NOT_SERVING without Redis";
  own.Start();
  for (int i = 0; i < 50 && health != 1; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    health = HealthStatus(target);
  }
  EXPECT_EQ(health, 1) << "health did not come back with Redis";
}

// A chat instance killed with SIGKILL cannot release its streams' sessions: its lease lapses and
// the presence service sends its people away within the liveness timeout.
TEST_F(ServerBinaryTest, PeopleOfAKilledChatInstanceLeaveRouting) {
  SharedRedis().Flush();
  ServerConfig config = TestConfig(SharedRedis());
  config.presence.liveness_timeout = absl::Milliseconds(600);
  TestStack presence(config, Stack::kPresence | Stack::kRouter);
  presence.ApplyRoster({MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}})});
  const std::string config_file = dir_ + "/chat.json";
  std::ofstream(config_file) << R"({"presence": {"liveness_timeout_seconds": 0.6}})";
  const int port = FreePort();
  auto chat = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      BACKLINE_CHAT_PATH, "--config", config_file, "--listen", absl::StrCat("127.0.0.1:", port),
      "--redis", absl::StrCat("127.0.0.1:", SharedRedis().port()), "--token_secret_file", secret_});
  ClientOptions o;
  o.target = absl::StrCat("127.0.0.1:", port);
  o.token = presence.Token("soren", v1::ROLE_SENIOR);
  Client soren_on_chat(o);
  ASSERT_TRUE(soren_on_chat.WaitForConnected(absl::Seconds(10)));
  auto stream = soren_on_chat.Subscribe("", "desk-1");
  ASSERT_TRUE(WaitForEvent(*stream, [](const v1::Event& e) { return e.has_caught_up(); }));
  auto soren = presence.ClientFor("soren", v1::ROLE_SENIOR);
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  // The stream alone keeps him there, well past the liveness timeout.
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(soren->GetPresence()->status(), v1::PRESENCE_STATUS_AVAILABLE);

  chat->Stop(SIGKILL);
  bool gone = false;
  for (int i = 0; i < 60 && !gone; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    gone = soren->GetPresence()->status() == v1::PRESENCE_STATUS_OFFLINE;
  }
  EXPECT_TRUE(gone) << "soren stayed available after his chat instance died";
}

// The reader is on one chat instance, the sender on another; the reader's instance is killed
// with SIGKILL mid-burst, the reader resumes on the surviving one from its cursor: every message
// arrives exactly once, in order.
TEST_F(ServerBinaryTest, ReaderResumesOnAnotherInstanceAfterItsInstanceIsKilled) {
  SharedRedis().Flush();
  TestStack survivor(SharedRedis());
  survivor.ApplyRoster(
      {MakePerson("anna", v1::ROLE_AGENT), MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}})});
  auto anna = survivor.ClientFor("anna", v1::ROLE_AGENT);
  auto soren_here = survivor.ClientFor("soren", v1::ROLE_SENIOR);
  ASSERT_TRUE(soren_here->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  v1::CreateEscalationRequest q;
  q.set_question("q");
  q.set_language("da");
  q.add_skills()->set_skill("billing");
  auto e = anna->Escalate(q);
  ASSERT_TRUE(e.ok());
  auto acc = soren_here->AcceptOffer(e->id());
  ASSERT_TRUE(acc.ok());

  const int port = FreePort();
  auto doomed = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      BACKLINE_CHAT_PATH, "--listen", absl::StrCat("127.0.0.1:", port), "--redis",
      absl::StrCat("127.0.0.1:", SharedRedis().port()), "--token_secret_file", secret_});
  ClientOptions o;
  o.target = absl::StrCat("127.0.0.1:", port);
  o.token = survivor.Token("soren", v1::ROLE_SENIOR);
  Client soren_there(o);
  ASSERT_TRUE(soren_there.WaitForConnected(absl::Seconds(10)));
  auto stream = soren_there.Subscribe("");
  auto ready = WaitForEvent(*stream, [](const v1::Event& ev) { return ev.has_caught_up(); });
  ASSERT_TRUE(ready.has_value());
  std::string cursor = ready->caught_up().cursor();

  constexpr int kMessages = 1000;
  std::thread poster([&] {
    for (int i = 0; i < kMessages; ++i) {
      ASSERT_TRUE(anna->Post(acc->thread_id(), absl::StrCat("m", i)).ok());
    }
  });
  std::vector<std::string> texts;
  auto read = [&](EventStream& s, size_t until) {
    while (texts.size() < until) {
      auto ev = s.Next(absl::Seconds(10));
      if (!ev.ok()) return;  // the instance died under us
      ASSERT_TRUE(ev->has_value()) << "nothing for 10 s after " << texts.size();
      ASSERT_FALSE((*ev)->has_gap());
      if (!(*ev)->cursor().empty()) cursor = (*ev)->cursor();
      if ((*ev)->has_message_posted()) texts.push_back((*ev)->message_posted().message().text());
    }
  };
  read(*stream, 300);
  doomed->Stop(SIGKILL);
  read(*stream, kMessages);  // whatever was in flight, until the stream breaks
  auto resumed = soren_here->Subscribe(cursor);
  read(*resumed, kMessages);
  poster.join();
  ASSERT_EQ(texts.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(texts[i], absl::StrCat("m", i)) << i;
}

TEST_F(ServerBinaryTest, RefusesToStartWithoutASecretOrAPort) {
  ProcessResult r = RunProcess({BACKLINE_SERVER_PATH, "--listen", "127.0.0.1:0"},
                               {{"BACKLINE_TOKEN_SECRET", ""}}, "", absl::Seconds(10));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("token secret"), std::string::npos) << r.err;

  // The port is taken (by Redis).
  r = RunProcess({BACKLINE_SERVER_PATH, "--listen",
                  absl::StrCat("127.0.0.1:", SharedRedis().port()), "--token_secret_file", secret_},
                 {}, "", absl::Seconds(10));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot listen"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace backline::testing
