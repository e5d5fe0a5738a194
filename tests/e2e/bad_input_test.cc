// Bad input gets a precise status code and changes nothing in Redis (the whole dataset's
// digest is the same before and after). Bad tokens are refused with UNAUTHENTICATED.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "backline/v1/escalations.grpc.pb.h"
#include "services/common/token.h"
#include "tests/support/test_stack.h"

namespace backline::testing {
namespace {

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedRedis().Flush();
    stack_ = std::make_unique<TestStack>(SharedRedis());
    stack_->ApplyRoster({MakePerson("anna", v1::ROLE_AGENT), MakePerson("bo", v1::ROLE_AGENT),
                         MakePerson("soren", v1::ROLE_SENIOR, {{"billing", 4}}),
                         MakePerson("mei", v1::ROLE_SENIOR, {{"billing", 4}})});
    anna_ = stack_->ClientFor("anna", v1::ROLE_AGENT);
  }

  v1::CreateEscalationRequest Valid() {
    v1::CreateEscalationRequest r;
    r.set_question("customer asks about a refund");
    r.set_language("da");
    r.add_skills()->set_skill("billing");
    return r;
  }

  // Runs `call` and checks it fails with `code` and leaves Redis exactly as it was.
  template <typename Fn>
  void ExpectRefusedUnchanged(absl::StatusCode code, Fn&& call, const std::string& what) {
    const std::string before = SharedRedis().Digest();
    absl::Status st = call();
    EXPECT_EQ(st.code(), code) << what << ": " << st;
    EXPECT_FALSE(st.message().empty()) << what;
    EXPECT_EQ(SharedRedis().Digest(), before) << what << " changed Redis";
  }

  std::unique_ptr<TestStack> stack_;
  std::unique_ptr<Client> anna_;
};

TEST_F(BadInputTest, EscalationRequestsAreValidated) {
  auto create = [&](v1::CreateEscalationRequest r) {
    return [this, r] { return anna_->Escalate(r).status(); };
  };
  v1::CreateEscalationRequest r = Valid();
  r.set_question("");
  ExpectRefusedUnchanged(absl::StatusCode::kInvalidArgument, create(r), "empty question");

  r = Valid();
  r.mutable_skills(0)->set_skill("astrology");
  ExpectRefusedUnchanged(absl::StatusCode::kInvalidArgument, create(r), "unknown skill");

  r = Valid();
  r.clear_skills();
  ExpectRefusedUnchanged(absl::StatusCode::kInvalidArgument, create(r), "no skills");

  r = Valid();
  r.set_language("not a language");
  ExpectRefusedUnchanged(absl::StatusCode::kInvalidArgument, create(r), "bad language");

  r = Valid();
  r.mutable_skills(0)->set_min_proficiency(6);
  ExpectRefusedUnchanged(absl::StatusCode::kInvalidArgument, create(r), "proficiency 6");

  r = Valid();
  r.set_question(std::string(5000, 'x'));
  ExpectRefusedUnchanged(absl::StatusCode::kInvalidArgument, create(r), "oversize question");
}

TEST_F(BadInputTest, InvalidUtf8IsRefusedWithInvalidArgument) {
  // Sent as raw bytes, as a client in any language could.
  v1::CreateEscalationRequest r = Valid();
  r.set_question(std::string("refund \xC3\x28 please"));
  ExpectRefusedUnchanged(
      absl::StatusCode::kInvalidArgument, [&] { return anna_->Escalate(r).status(); },
      "invalid UTF-8 question");
}

TEST_F(BadInputTest, MessagesAreValidated) {
  auto soren = stack_->ClientFor("soren", v1::ROLE_SENIOR);
  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto e = anna_->Escalate(Valid());
  ASSERT_TRUE(e.ok());
  auto accepted = soren->AcceptOffer(e->id());
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  const std::string thread = accepted->thread_id();

  ExpectRefusedUnchanged(
      absl::StatusCode::kInvalidArgument,
      [&] { return anna_->Post(thread, std::string(1 << 20, 'a')).status(); }, "1 MiB message");
  ExpectRefusedUnchanged(
      absl::StatusCode::kInvalidArgument, [&] { return anna_->Post(thread, "").status(); },
      "empty message");
  ExpectRefusedUnchanged(
      absl::StatusCode::kInvalidArgument,
      [&] { return anna_->Post(thread, "bad \xFF byte").status(); }, "invalid UTF-8 message");
  // A thread that does not exist, and one the caller takes no part in.
  ExpectRefusedUnchanged(
      absl::StatusCode::kNotFound, [&] { return anna_->Post("thr-0000000000", "hi").status(); },
      "unknown thread");
  auto bo = stack_->ClientFor("bo", v1::ROLE_AGENT);
  ExpectRefusedUnchanged(
      absl::StatusCode::kPermissionDenied, [&] { return bo->Post(thread, "let me in").status(); },
      "another agent's thread");
  v1::ListMessagesRequest list;
  list.set_thread_id(thread);
  ExpectRefusedUnchanged(
      absl::StatusCode::kPermissionDenied, [&] { return bo->ListMessages(list).status(); },
      "reading another agent's thread");
  ExpectRefusedUnchanged(
      absl::StatusCode::kInvalidArgument, [&] { return anna_->Post("../../etc", "hi").status(); },
      "malformed thread id");
}

TEST_F(BadInputTest, UnknownIdsAndOtherPeoplesOffers) {
  ExpectRefusedUnchanged(
      absl::StatusCode::kNotFound, [&] { return anna_->GetEscalation("esc-0000000000").status(); },
      "unknown escalation");
  auto soren = stack_->ClientFor("soren", v1::ROLE_SENIOR);
  ExpectRefusedUnchanged(
      absl::StatusCode::kNotFound, [&] { return soren->AcceptOffer("esc-0000000000").status(); },
      "accepting an unknown escalation");
  ExpectRefusedUnchanged(
      absl::StatusCode::kInvalidArgument, [&] { return anna_->GetEscalation("esc-*").status(); },
      "malformed escalation id");

  ASSERT_TRUE(soren->SetStatus(v1::PRESENCE_STATUS_AVAILABLE).ok());
  auto e = anna_->Escalate(Valid());
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->offer().helper(), "soren");
  auto mei = stack_->ClientFor("mei", v1::ROLE_SENIOR);
  ExpectRefusedUnchanged(
      absl::StatusCode::kPermissionDenied, [&] { return mei->AcceptOffer(e->id()).status(); },
      "accepting someone else's offer");
  ExpectRefusedUnchanged(
      absl::StatusCode::kPermissionDenied, [&] { return mei->DeclineOffer(e->id()).status(); },
      "declining someone else's offer");
  ExpectRefusedUnchanged(
      absl::StatusCode::kPermissionDenied, [&] { return anna_->AcceptOffer(e->id()).status(); },
      "accepting one's own escalation");
  auto bo = stack_->ClientFor("bo", v1::ROLE_AGENT);
  ExpectRefusedUnchanged(
      absl::StatusCode::kPermissionDenied, [&] { return bo->CancelEscalation(e->id()).status(); },
      "cancelling another agent's escalation");
  ExpectRefusedUnchanged(
      absl::StatusCode::kPermissionDenied, [&] { return bo->GetEscalation(e->id()).status(); },
      "reading another agent's escalation");
  ExpectRefusedUnchanged(
      absl::StatusCode::kFailedPrecondition,
      [&] { return soren->ResolveEscalation(e->id()).status(); }, "resolving before accepting");
  ExpectRefusedUnchanged(
      absl::StatusCode::kFailedPrecondition,
      [&] { return soren->AcceptOffer(e->id(), "off-0000000000").status(); },
      "accepting a stale offer id");
  ExpectRefusedUnchanged(
      absl::StatusCode::kPermissionDenied,
      [&] { return anna_->SetStatus(v1::PRESENCE_STATUS_BREAK, "", "soren").status(); },
      "setting someone else's status");
  ExpectRefusedUnchanged(
      absl::StatusCode::kPermissionDenied,
      [&] { return anna_->ApplyRoster(v1::ApplyRosterRequest()).status(); },
      "an agent applying the roster");
}

// Calls GetEscalation with raw metadata, bypassing the client library's token handling.
grpc::Status CallWithAuthorization(const std::string& target, const std::string& header) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = v1::EscalationService::NewStub(channel);
  grpc::ClientContext ctx;
  if (!header.empty()) ctx.AddMetadata("authorization", header);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::GetEscalationRequest req;
  req.set_id("esc-0000000000");
  v1::Escalation resp;
  return stub->GetEscalation(&ctx, req, &resp);
}

std::string B64Url(const std::string& s) {
  std::string out;
  absl::WebSafeBase64Escape(s, &out);
  return out;
}

TEST_F(BadInputTest, BadTokensAreUnauthenticated) {
  const std::string target = stack_->target();
  const std::string future = std::to_string(absl::ToUnixSeconds(absl::Now() + absl::Hours(1)));
  const std::string claims =
      "{\"sub\":\"anna\",\"role\":\"admin\",\"iss\":\"backline\",\"aud\":"
      "\"backline\",\"exp\":" +
      future + "}";
  const std::string alg_none =
      B64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + B64Url(claims) + ".";
  const std::string good = stack_->Token("anna", v1::ROLE_AGENT);
  std::string tampered = good;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'a' ? 'b' : 'a';
  const std::string other_secret =
      *TokenCodec("another-secret-0123456789-abcdefghijklmnopqrstuv")
           .Issue({"anna", v1::ROLE_ADMIN}, absl::Hours(1), absl::Now());
  const std::string expired =
      *TokenCodec(kTestSecret)
           .Issue({"anna", v1::ROLE_AGENT}, absl::Minutes(1), absl::Now() - absl::Hours(2));

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"missing", ""},
      {"not bearer", "Basic YW5uYTpwdw=="},
      {"malformed", "Bearer not.a.jwt"},
      {"garbage", "Bearer %%%%"},
      {"alg none", "Bearer " + alg_none},
      {"tampered", "Bearer " + tampered},
      {"wrong secret", "Bearer " + other_secret},
      {"expired", "Bearer " + expired},
  };
  for (const auto& [what, header] : cases) {
    const std::string before = SharedRedis().Digest();
    grpc::Status s = CallWithAuthorization(target, header);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << what << ": " << s.error_message();
    EXPECT_EQ(SharedRedis().Digest(), before) << what;
  }
  // The same call with a good token gets past authentication (to NOT_FOUND).
  EXPECT_EQ(CallWithAuthorization(target, "Bearer " + good).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace backline::testing
