// EventFeed: the event stream kept open across reconnects.
//
// Two threads at most. The stream thread opens the stream, reads it and queues what it reads;
// when the stream ends it queues RECONNECTING, waits the backoff and opens it again after the
// cursor of the last event it queued. In callback mode the callback thread takes items off the
// queue and calls the application; in pull mode Next() does. The queue outlives the streams,
// so resuming after the last event *queued* (not the last handed over) is what makes delivery
// exactly-once: what is still queued is delivered once, and what comes after it is asked for.
#include <grpcpp/grpcpp.h>

#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "backline/client.h"
#include "client_impl.h"

namespace backline {
namespace {

// Cursors are `<ms>-<seq>` (`0` for the start); false when `c` is not one.
bool ParseCursor(absl::string_view c, std::pair<uint64_t, uint64_t>* out) {
  if (c == "0") {
    *out = {0, 0};
    return true;
  }
  const size_t dash = c.find('-');
  return dash != absl::string_view::npos && absl::SimpleAtoi(c.substr(0, dash), &out->first) &&
         absl::SimpleAtoi(c.substr(dash + 1), &out->second);
}

// True when `cursor` comes after `last` — or when either is not a cursor we can order, since
// the server's word then stands.
bool CursorAfter(absl::string_view cursor, absl::string_view last) {
  std::pair<uint64_t, uint64_t> a, b;
  if (last.empty() || !ParseCursor(cursor, &a) || !ParseCursor(last, &b)) return true;
  return a > b;
}

// Errors after which subscribing again cannot help (see EventFeed).
bool IsPermanent(const absl::Status& error, bool can_refresh_token) {
  switch (error.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnimplemented:
      return true;
    case absl::StatusCode::kUnauthenticated:
      return !can_refresh_token;
    default:
      return false;
  }
}

FeedItem StateItem(FeedStateChange change) {
  FeedItem item;
  item.kind = FeedItem::Kind::kState;
  item.state = std::move(change);
  return item;
}

bool IsStopped(const FeedItem& item) {
  return item.is_state() && item.state.state == FeedState::kStopped;
}

}  // namespace

struct EventFeed::Core {
  Core(std::shared_ptr<internal::ClientImpl> client_in, FeedOptions options_in)
      : client(std::move(client_in)),
        options(std::move(options_in)),
        session(options.session_id.empty() ? Client::NewRequestId() : options.session_id),
        callback_mode(options.on_event != nullptr),
        max_buffered(options.max_buffered == 0 ? 1 : options.max_buffered),
        resume_cursor(options.after_cursor) {
    FeedStateChange connecting;
    connecting.state = FeedState::kConnecting;
    absl::MutexLock lock(&mu);
    PushState(std::move(connecting));
  }

  // --- the stream thread ---

  void StreamLoop() {
    internal::Backoff backoff(client->options.initial_backoff, client->options.max_backoff);
    int failures = 0;
    while (true) {
      // The token provider runs here, before each attempt, so a refreshed token is picked up.
      std::unique_ptr<grpc::ClientContext> context = client->Context(absl::InfiniteFuture());
      v1::SubscribeRequest request;
      request.set_session_id(session);
      {
        absl::MutexLock lock(&mu);
        if (stop_requested) return;
        request.set_after_cursor(resume_cursor);
        active_context = context.get();  // from now on Stop() cancels it
      }
      bool caught_up = false;
      std::unique_ptr<grpc::ClientReader<v1::Event>> reader =
          client->messaging->Subscribe(context.get(), request);
      v1::Event event;
      while (reader->Read(&event)) {
        if (!Receive(std::move(event), &caught_up)) break;
        event.Clear();
      }
      // Read() returned false or Stop() cancelled the call: either way Finish() does not block.
      const grpc::Status status = reader->Finish();
      {
        absl::MutexLock lock(&mu);
        active_context = nullptr;
        if (stop_requested) return;
        // A stream that caught up was a success, however it ended: start the backoff afresh.
        if (caught_up) {
          backoff.Reset();
          failures = 0;
        }
        const absl::Status error = status.ok()
                                       ? absl::UnavailableError("the server ended the stream")
                                       : internal::FromGrpc(status);
        if (IsPermanent(error, client->options.token_provider != nullptr)) {
          FeedStateChange stopped;
          stopped.state = FeedState::kStopped;
          stopped.error = error;
          PushState(std::move(stopped));
          return;
        }
        const absl::Duration wait = backoff.Next();
        FeedStateChange reconnecting;
        reconnecting.state = FeedState::kReconnecting;
        reconnecting.error = error;
        reconnecting.attempt = ++failures;
        reconnecting.next_attempt = absl::Now() + wait;
        PushState(std::move(reconnecting));
        // Stop() ends the wait at once.
        mu.AwaitWithTimeout(absl::Condition(&stop_requested), wait);
        if (stop_requested) return;
      }
    }
  }

  // Queues one event of the stream; false when the feed is stopping.
  bool Receive(v1::Event event, bool* caught_up) {
    absl::MutexLock lock(&mu);
    if (event.has_caught_up()) {
      if (stop_requested) return false;
      if (!event.caught_up().cursor().empty()) resume_cursor = event.caught_up().cursor();
      *caught_up = true;
      FeedStateChange connected;
      connected.state = FeedState::kConnected;
      connected.cursor = resume_cursor;
      PushState(std::move(connected));
      return true;
    }
    // An application that is behind holds the stream back here: gRPC's flow control then
    // leaves the rest with the server.
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return stop_requested || queue.size() < max_buffered;
    };
    mu.Await(absl::Condition(&room));
    if (stop_requested) return false;
    if (event.has_gap()) {
      // The same gap again, from a stream that broke before the next event: said already.
      if (gap_reported && gap_after == event.gap().after_cursor()) return true;
      gap_reported = true;
      gap_after = event.gap().after_cursor();
    } else if (!event.cursor().empty()) {
      // Never twice, whatever a server sends on a resume.
      if (!CursorAfter(event.cursor(), resume_cursor)) return true;
      resume_cursor = event.cursor();
    }
    FeedItem item;
    item.event = std::move(event);
    queue.push_back(std::move(item));
    return true;
  }

  // State changes are queued even when the queue is full: they are few, and a full queue is
  // when the application most needs to know.
  void PushState(FeedStateChange change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    state = change.state;
    queue.push_back(StateItem(std::move(change)));
  }

  // --- the callback thread ---

  void CallbackLoop() {
    {
      absl::MutexLock lock(&mu);
      callback_thread_id = std::this_thread::get_id();
    }
    while (true) {
      FeedItem item;
      {
        absl::MutexLock lock(&mu);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
          return stop_requested || !queue.empty();
        };
        mu.Await(absl::Condition(&ready));
        if (abandoned) return;
        if (queue.empty()) {  // stop requested and nothing left
          item = StopRequestedItem();
        } else {
          item = std::move(queue.front());
          queue.pop_front();
        }
        if (IsStopped(item)) stopped_delivered = true;
      }
      if (item.is_event()) {
        if (options.on_event) options.on_event(item.event);
        if (!item.event.cursor().empty()) {
          absl::MutexLock lock(&mu);
          delivered_cursor = item.event.cursor();
        }
      } else if (options.on_state) {
        options.on_state(item.state);
      }
      if (IsStopped(item)) return;
    }
  }

  FeedItem StopRequestedItem() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    FeedStateChange stopped;
    stopped.state = FeedState::kStopped;
    state = FeedState::kStopped;
    return StateItem(std::move(stopped));
  }

  // --- pull mode ---

  absl::StatusOr<std::optional<FeedItem>> Next(absl::Duration timeout) {
    if (callback_mode) {
      return absl::FailedPreconditionError("Next: this feed delivers to its callbacks");
    }
    absl::MutexLock lock(&mu);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return !queue.empty() || stop_requested || stopped_delivered;
    };
    mu.AwaitWithTimeout(absl::Condition(&ready), timeout);
    if (stopped_delivered) return final_status;
    FeedItem item;
    if (!queue.empty()) {
      item = std::move(queue.front());
      queue.pop_front();
    } else if (stop_requested) {
      item = StopRequestedItem();
    } else {
      return std::optional<FeedItem>();
    }
    if (IsStopped(item)) {
      stopped_delivered = true;
      final_status =
          item.state.error.ok() ? absl::CancelledError("the feed was stopped") : item.state.error;
    } else if (item.is_event() && !item.event.cursor().empty()) {
      delivered_cursor = item.event.cursor();
    }
    return std::optional<FeedItem>(std::move(item));
  }

  // --- ending ---

  // Asks both threads to end and cancels the stream; returns at once.
  void RequestStop() {
    absl::MutexLock lock(&mu);
    if (stop_requested) return;
    stop_requested = true;
    if (active_context != nullptr) active_context->TryCancel();
    // Undelivered items are dropped, but a failure that already ended the feed is still told.
    std::deque<FeedItem> kept;
    for (FeedItem& item : queue) {
      if (IsStopped(item)) kept.push_back(std::move(item));
    }
    queue = std::move(kept);
    state = FeedState::kStopped;
  }

  bool OnCallbackThread() {
    absl::MutexLock lock(&mu);
    return callback_mode && callback_thread_id == std::this_thread::get_id();
  }

  void Stop() {
    RequestStop();
    // From a callback: the callback thread delivers STOPPED once the callback returns, and the
    // threads are joined by whoever destroys the feed.
    if (OnCallbackThread()) return;
    std::lock_guard<std::mutex> join_lock(join_mu);
    if (stream_thread.joinable()) stream_thread.join();
    if (callback_thread.joinable()) callback_thread.join();
  }

  // The feed is destroyed from its own callback: no more callbacks; the threads finish on their
  // own (each holds the core).
  void Abandon() {
    {
      absl::MutexLock lock(&mu);
      abandoned = true;
    }
    RequestStop();
    std::lock_guard<std::mutex> join_lock(join_mu);
    if (stream_thread.joinable()) stream_thread.detach();
    if (callback_thread.joinable()) callback_thread.detach();
  }

  const std::shared_ptr<internal::ClientImpl> client;
  const FeedOptions options;
  const std::string session;
  const bool callback_mode;
  const size_t max_buffered;

  absl::Mutex mu;
  std::deque<FeedItem> queue ABSL_GUARDED_BY(mu);
  FeedState state ABSL_GUARDED_BY(mu) = FeedState::kConnecting;
  // Cursor of the last event queued: where the next stream starts.
  std::string resume_cursor ABSL_GUARDED_BY(mu);
  // Cursor of the last event handed to the application.
  std::string delivered_cursor ABSL_GUARDED_BY(mu);
  bool gap_reported ABSL_GUARDED_BY(mu) = false;
  std::string gap_after ABSL_GUARDED_BY(mu);
  grpc::ClientContext* active_context ABSL_GUARDED_BY(mu) = nullptr;
  bool stop_requested ABSL_GUARDED_BY(mu) = false;
  bool stopped_delivered ABSL_GUARDED_BY(mu) = false;
  bool abandoned ABSL_GUARDED_BY(mu) = false;
  absl::Status final_status ABSL_GUARDED_BY(mu);
  std::thread::id callback_thread_id ABSL_GUARDED_BY(mu);

  // Joins and detaches happen under join_mu, so that concurrent Stop() calls are safe.
  std::mutex join_mu;
  std::thread stream_thread;
  std::thread callback_thread;
};

EventFeed::EventFeed(std::shared_ptr<Core> core) : core_(std::move(core)) {}

EventFeed::~EventFeed() {
  if (core_->OnCallbackThread()) {
    core_->Abandon();
  } else {
    core_->Stop();
  }
}

absl::StatusOr<std::optional<FeedItem>> EventFeed::Next(absl::Duration timeout) {
  return core_->Next(timeout);
}

void EventFeed::Stop() { core_->Stop(); }

FeedState EventFeed::state() const {
  absl::MutexLock lock(&core_->mu);
  return core_->state;
}

std::string EventFeed::cursor() const {
  absl::MutexLock lock(&core_->mu);
  return core_->delivered_cursor;
}

const std::string& EventFeed::session_id() const { return core_->session; }

std::unique_ptr<EventFeed> Client::OpenFeed(FeedOptions options) {
  auto core = std::make_shared<EventFeed::Core>(impl_, std::move(options));
  {
    // Under join_mu: a callback may call Stop() before this returns.
    std::lock_guard<std::mutex> join_lock(core->join_mu);
    core->stream_thread = std::thread([core] { core->StreamLoop(); });
    if (core->callback_mode) core->callback_thread = std::thread([core] { core->CallbackLoop(); });
  }
  return std::unique_ptr<EventFeed>(new EventFeed(core));
}

}  // namespace backline
