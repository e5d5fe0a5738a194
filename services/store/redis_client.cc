// The only translation unit that includes hiredis.
#include "services/store/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/log.h"

namespace backline::store {
namespace {

timeval AtLeastOneMilli(absl::Duration d) {
  return absl::ToTimeval(std::max(d, absl::Milliseconds(1)));
}

RedisReply CopyReply(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(CopyReply(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

// Error replies that mean the server cannot serve now, rather than that the command is wrong.
bool IsTransientError(absl::string_view err) {
  for (absl::string_view prefix : {"LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN",
                                   "CLUSTERDOWN", "NOREPLICAS", "MISCONF"}) {
    if (absl::StartsWith(err, prefix)) return true;
  }
  return false;
}

std::string Sha1Hex(absl::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 15]);
  }
  return hex;
}

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

absl::Status Unavailable(absl::string_view what, const redisContext* c) {
  return absl::UnavailableError(
      absl::StrCat("redis ", what, ": ", c != nullptr && c->err ? c->errstr : "no connection"));
}

// Appends one command to the context's output buffer.
bool Append(redisContext* c, absl::Span<const std::string> argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAppendCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()) ==
         REDIS_OK;
}

// Whether a connection polls for its replies: it does while replies come within the budget, and
// after one that did not (Redis busy, or waiting for a core itself) it blocks at once for the
// next kSkipAfterMiss calls, so that a saturated machine does not also burn CPU polling.
struct Spinner {
  static constexpr int kSkipAfterMiss = 16;
  absl::Duration budget;
  int skip = 0;
  std::atomic<int64_t>* skipped = nullptr;  // counts the waits without polling
};

// Sends what was appended, then polls the socket for up to the spinner's budget before the
// caller's blocking read: a reply that comes within it is read without the thread going to sleep.
bool SendAndSpin(redisContext* c, Spinner* spinner) {
  for (int done = 0; !done;) {
    if (redisBufferWrite(c, &done) != REDIS_OK) return false;
  }
  if (spinner == nullptr || spinner->budget <= absl::ZeroDuration()) return true;
  if (spinner->skip > 0) {
    --spinner->skip;
    spinner->skipped->fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  const absl::Time until = absl::Now() + spinner->budget;
  pollfd p{c->fd, POLLIN, 0};
  do {
    if (::poll(&p, 1, 0) != 0) return true;
  } while (absl::Now() < until);
  spinner->skip = Spinner::kSkipAfterMiss;
  return true;
}

// Reads one reply on a blocking context.
absl::StatusOr<RedisReply> ReadReply(redisContext* c, absl::string_view what) {
  void* raw = nullptr;
  if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) return Unavailable(what, c);
  RedisReply reply = CopyReply(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return reply;
}

// Sends one command and reads its reply on a blocking context.
absl::StatusOr<RedisReply> RoundTrip(redisContext* c, absl::Span<const std::string> argv,
                                     Spinner* spinner = nullptr) {
  if (!Append(c, argv) || !SendAndSpin(c, spinner)) return Unavailable("command failed", c);
  return ReadReply(c, "command failed");
}

// Connects, authenticates and selects the database.
absl::StatusOr<ContextPtr> Connect(const RedisOptions& o, bool with_command_timeout) {
  ContextPtr c(redisConnectWithTimeout(o.host.c_str(), o.port, AtLeastOneMilli(o.connect_timeout)));
  if (c == nullptr || c->err) {
    return absl::UnavailableError(absl::StrCat("redis connect to ", o.host, ":", o.port, ": ",
                                               c ? c->errstr : "out of memory"));
  }
  redisEnableKeepAlive(c.get());
  if (redisSetTimeout(c.get(), AtLeastOneMilli(o.command_timeout)) != REDIS_OK) {
    return Unavailable("set timeout", c.get());
  }
  if (!o.password.empty()) {
    auto r = RoundTrip(c.get(), std::vector<std::string>{"AUTH", o.password});
    if (!r.ok()) return r.status();
    if (r->type == RedisReply::Type::kError) {
      return absl::PermissionDeniedError(absl::StrCat("redis AUTH: ", r->str));
    }
  }
  if (o.db != 0) {
    auto r = RoundTrip(c.get(), std::vector<std::string>{"SELECT", absl::StrCat(o.db)});
    if (!r.ok()) return r.status();
    if (r->type == RedisReply::Type::kError) {
      return absl::InvalidArgumentError(absl::StrCat("redis SELECT: ", r->str));
    }
  }
  if (!with_command_timeout) {
    // Subscribers wait for news indefinitely; keepalive detects a dead peer.
    timeval none{0, 0};
    redisSetTimeout(c.get(), none);
  }
  return c;
}

}  // namespace

absl::StatusOr<RedisOptions> ParseRedisAddress(absl::string_view address) {
  RedisOptions o;
  absl::string_view rest = address;
  const bool url = absl::ConsumePrefix(&rest, "redis://");
  if (url) {
    if (size_t at = rest.rfind('@'); at != absl::string_view::npos) {
      absl::string_view cred = rest.substr(0, at);
      rest.remove_prefix(at + 1);
      if (size_t colon = cred.find(':'); colon != absl::string_view::npos) {
        o.password = std::string(cred.substr(colon + 1));
      } else {
        o.password = std::string(cred);
      }
    }
    if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
      absl::string_view db = rest.substr(slash + 1);
      rest = rest.substr(0, slash);
      if (!db.empty() && (!absl::SimpleAtoi(db, &o.db) || o.db < 0)) {
        return absl::InvalidArgumentError(absl::StrCat("redis address: bad database in ", address));
      }
    }
  }
  size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    o.host = std::string(rest);
  } else {
    o.host = std::string(rest.substr(0, colon));
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &o.port) || o.port <= 0 || o.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("redis address: bad port in ", address));
    }
  }
  if (o.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("redis address: no host in ", address));
  }
  return o;
}

std::string RedisReply::AsString() const {
  switch (type) {
    case Type::kString:
    case Type::kStatus:
      return str;
    case Type::kInteger:
      return absl::StrCat(integer);
    default:
      return "";
  }
}

long long RedisReply::AsInteger(long long fallback) const {
  if (type == Type::kInteger) return integer;
  long long v;
  if ((type == Type::kString || type == Type::kStatus) && absl::SimpleAtoi(str, &v)) return v;
  return fallback;
}

RedisScript::RedisScript(std::string name, std::string source)
    : name_(std::move(name)), source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

class RedisClient::Connection {
 public:
  Connection(ContextPtr c, absl::Duration spin, std::atomic<int64_t>* skipped)
      : ctx_(std::move(c)) {
    spinner_.budget = spin;
    spinner_.skipped = skipped;
  }
  redisContext* get() { return ctx_.get(); }
  Spinner* spinner() { return &spinner_; }

 private:
  ContextPtr ctx_;
  Spinner spinner_;
};

// One caller's go at Redis. While Redis is hung only one attempt at a time (the probe) goes
// ahead; the others are refused. Finish() records whether Redis answered.
class RedisClient::Attempt {
 public:
  explicit Attempt(RedisClient* client) : client_(client) {
    if (client_->hung_.load(std::memory_order_acquire)) {
      probe_ = !client_->probing_.exchange(true, std::memory_order_acq_rel);
      refused_ = !probe_;
    }
  }
  ~Attempt() {
    if (probe_) client_->probing_.store(false, std::memory_order_release);
  }
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;

  bool refused() const { return refused_; }
  // A connection from the pool. Finish's clock starts once it is in hand: a caller that waited
  // out the timeout for a free one (every connection busy with calls Redis answers) has learnt
  // nothing about Redis, and a failure to get one is not recorded at all.
  absl::StatusOr<std::unique_ptr<Connection>> Acquire() {
    auto conn = client_->Acquire();
    start_ = absl::Now();
    return conn;
  }
  absl::Status Refusal() const {
    return absl::UnavailableError(absl::StrCat(
        "redis not answering (a command went unanswered for ",
        absl::FormatDuration(client_->options_.command_timeout), "); try again shortly"));
  }

  // `answered`: Redis replied (an error reply counts). A failure that took the whole command
  // timeout means Redis hangs; one that came sooner (connection refused) says nothing new.
  void Finish(bool answered) {
    bool hung;
    if (answered) {
      hung = false;
    } else if (absl::Now() - start_ >= client_->options_.command_timeout) {
      hung = true;
    } else {
      return;
    }
    // A plain load first: the exchange, a write to a line every caller reads, only on a change.
    if (client_->hung_.load(std::memory_order_acquire) != hung &&
        client_->hung_.exchange(hung, std::memory_order_acq_rel) != hung) {
      if (hung) {
        BL_LOG(WARNING) << "redis did not answer within "
                        << absl::FormatDuration(client_->options_.command_timeout)
                        << ": other calls fail at once until it answers again";
      } else {
        BL_LOG(INFO) << "redis answers again";
      }
    }
  }

 private:
  RedisClient* const client_;
  absl::Time start_;
  bool probe_ = false;
  bool refused_ = false;
};

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {}

RedisClient::~RedisClient() = default;

absl::StatusOr<std::unique_ptr<RedisClient::Connection>> RedisClient::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    auto have_one = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.pool_size;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&have_one), options_.command_timeout)) {
      return absl::UnavailableError("redis: no free connection within the command timeout");
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;  // reserve a slot, connect outside the lock
  }
  auto ctx = Connect(options_, /*with_command_timeout=*/true);
  if (!ctx.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return ctx.status();
  }
  return std::make_unique<Connection>(std::move(ctx).value(), options_.reply_spin,
                                      &unpolled_waits_);
}

void RedisClient::Release(std::unique_ptr<Connection> conn, bool healthy) {
  absl::MutexLock lock(&mu_);
  if (healthy && conn->get()->err == 0) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
    conn.reset();
  }
}

absl::StatusOr<RedisReply> RedisClient::Command(std::initializer_list<absl::string_view> argv) {
  std::vector<std::string> args;
  args.reserve(argv.size());
  for (absl::string_view a : argv) args.emplace_back(a);
  return Command(args);
}

absl::StatusOr<RedisReply> RedisClient::Command(absl::Span<const std::string> argv) {
  Attempt attempt(this);
  if (attempt.refused()) return attempt.Refusal();
  auto conn = attempt.Acquire();
  if (!conn.ok()) return conn.status();
  auto reply = RoundTrip((*conn)->get(), argv, (*conn)->spinner());
  attempt.Finish(reply.ok());
  Release(std::move(conn).value(), reply.ok());
  if (!reply.ok()) return reply.status();
  if (reply->type == RedisReply::Type::kError && IsTransientError(reply->str)) {
    return absl::UnavailableError(absl::StrCat("redis: ", reply->str));
  }
  return reply;
}

absl::StatusOr<std::vector<RedisReply>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  Attempt attempt(this);
  if (attempt.refused()) return attempt.Refusal();
  auto conn_or = attempt.Acquire();
  if (!conn_or.ok()) return conn_or.status();
  std::unique_ptr<Connection> conn = std::move(conn_or).value();
  redisContext* c = conn->get();
  auto fail = [&](absl::Status st) {
    attempt.Finish(false);
    Release(std::move(conn), false);
    return st;
  };
  for (const auto& argv : commands) {
    if (!Append(c, argv)) return fail(Unavailable("pipeline append", c));
  }
  if (!SendAndSpin(c, conn->spinner())) return fail(Unavailable("pipeline write", c));
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    auto reply = ReadReply(c, "pipeline read");
    if (!reply.ok()) return fail(reply.status());
    replies.push_back(std::move(reply).value());
  }
  attempt.Finish(true);
  Release(std::move(conn), true);
  for (const RedisReply& r : replies) {
    if (r.type == RedisReply::Type::kError && IsTransientError(r.str)) {
      return absl::UnavailableError(absl::StrCat("redis: ", r.str));
    }
  }
  return replies;
}

namespace {

// EVALSHA (or, with `by_sha` false, EVAL with the source) of one call.
std::vector<std::string> ScriptArgv(const RedisScript& script, bool by_sha,
                                    absl::Span<const std::string> keys,
                                    absl::Span<const std::string> args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back(by_sha ? "EVALSHA" : "EVAL");
  argv.push_back(by_sha ? script.sha1() : script.source());
  argv.push_back(absl::StrCat(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// The server lost its script cache (restart, failover, SCRIPT FLUSH): EVAL loads it again.
bool IsNoScript(const RedisReply& reply) {
  return reply.type == RedisReply::Type::kError && absl::StartsWith(reply.str, "NOSCRIPT");
}

absl::StatusOr<RedisReply> ScriptResult(const RedisScript& script, RedisReply reply) {
  if (reply.type == RedisReply::Type::kError) {
    return absl::InternalError(absl::StrCat("redis script ", script.name(), ": ", reply.str));
  }
  return reply;
}

}  // namespace

absl::StatusOr<RedisReply> RedisClient::Eval(const RedisScript& script,
                                             absl::Span<const std::string> keys,
                                             absl::Span<const std::string> args) {
  auto reply = Command(ScriptArgv(script, true, keys, args));
  if (reply.ok() && IsNoScript(*reply)) reply = Command(ScriptArgv(script, false, keys, args));
  if (!reply.ok()) return reply.status();
  return ScriptResult(script, std::move(reply).value());
}

absl::StatusOr<std::vector<absl::StatusOr<RedisReply>>> RedisClient::EvalMany(
    const std::vector<ScriptInvocation>& calls) {
  std::vector<std::vector<std::string>> commands;
  commands.reserve(calls.size());
  for (const ScriptInvocation& c : calls) {
    commands.push_back(ScriptArgv(*c.script, true, c.keys, c.args));
  }
  std::vector<RedisReply> replies;
  if (!commands.empty()) {
    auto sent = Pipeline(commands);
    if (!sent.ok()) return sent.status();
    replies = std::move(sent).value();
  }
  std::vector<size_t> reload;
  commands.clear();
  for (size_t i = 0; i < replies.size(); ++i) {
    if (!IsNoScript(replies[i])) continue;
    reload.push_back(i);
    commands.push_back(ScriptArgv(*calls[i].script, false, calls[i].keys, calls[i].args));
  }
  if (!reload.empty()) {
    auto again = Pipeline(commands);
    if (!again.ok()) return again.status();
    for (size_t k = 0; k < reload.size(); ++k) replies[reload[k]] = std::move((*again)[k]);
  }
  std::vector<absl::StatusOr<RedisReply>> out;
  out.reserve(replies.size());
  for (size_t i = 0; i < replies.size(); ++i) {
    out.push_back(ScriptResult(*calls[i].script, std::move(replies[i])));
  }
  return out;
}

RedisSubscriber::RedisSubscriber(RedisOptions options, std::vector<std::string> channels,
                                 MessageFn on_message, ConnectedFn on_connected)
    : options_(std::move(options)),
      channels_(std::move(channels)),
      on_message_(std::move(on_message)),
      on_connected_(std::move(on_connected)),
      thread_([this] { Run(); }) {}

RedisSubscriber::~RedisSubscriber() {
  {
    absl::MutexLock lock(&mu_);
    stop_.store(true);
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // unblocks the reader
    stop_cv_.SignalAll();
  }
  thread_.join();
}

void RedisSubscriber::Run() {
  absl::Duration backoff = absl::Milliseconds(50);
  while (!stop_.load()) {
    auto ctx = Connect(options_, /*with_command_timeout=*/false);
    if (ctx.ok()) {
      redisContext* c = ctx->get();
      std::vector<std::string> argv = {"SUBSCRIBE"};
      argv.insert(argv.end(), channels_.begin(), channels_.end());
      bool ok = Append(c, argv);
      {
        absl::MutexLock lock(&mu_);
        if (stop_.load()) break;
        fd_ = c->fd;
      }
      size_t confirmations = 0;
      while (ok && !stop_.load()) {
        void* raw = nullptr;
        if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) break;
        auto* r = static_cast<redisReply*>(raw);
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            r->element[0]->type == REDIS_REPLY_STRING) {
          absl::string_view kind(r->element[0]->str, r->element[0]->len);
          if (kind == "message") {
            on_message_(absl::string_view(r->element[1]->str, r->element[1]->len),
                        absl::string_view(r->element[2]->str, r->element[2]->len));
          } else if (kind == "subscribe" && ++confirmations == channels_.size()) {
            connected_.store(true);
            backoff = absl::Milliseconds(50);
            on_connected_();
          }
        }
        freeReplyObject(raw);
      }
      connected_.store(false);
      {
        absl::MutexLock lock(&mu_);
        fd_ = -1;
      }
      if (!stop_.load()) {
        BL_LOG(WARNING) << "redis subscriber lost its connection: "
                        << (c->err ? c->errstr : "closed") << "; reconnecting";
      }
    }
    absl::MutexLock lock(&mu_);
    if (stop_.load()) break;
    stop_cv_.WaitWithTimeout(&mu_, backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

}  // namespace backline::store
