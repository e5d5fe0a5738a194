// Delivers each user's event log to that user's open event streams on this instance.
//
// One Redis subscription per instance hears every appended event (user, cursor, previous
// cursor, payload). A stream whose last delivered cursor is the event's previous cursor takes
// the event directly; otherwise (it is behind, or catching up) it reads its log from Redis
// after its cursor, on a small pool of fetch threads — never on gRPC's threads, never with a
// blocking read. Each stream writes one event at a time and holds at most `max_pending` events
// in memory: a slow reader stays behind in Redis, not in RAM. Idle streams cost no CPU. An event
// announced with the stream's own session as its origin (a post made from that desktop, which
// has it from the reply) is not written to it: the stream only moves its cursor past it.
#pragma once

#include <grpcpp/support/server_callback.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "backline/v1/common.pb.h"
#include "services/common/principal.h"
#include "services/presence/redis_presence_store.h"
#include "services/presence/redis_roster_store.h"
#include "services/store/event_log.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"

namespace backline::chat {

struct EventHubConfig {
  // Events read from the log per round trip.
  int fetch_batch = 256;
  // Events a stream holds in memory, waiting for the client to read them.
  size_t max_pending = 512;
  // Threads that read logs for streams that are behind.
  int fetch_threads = 2;
  // A stream whose client has not taken a single event for this long while more are waiting is
  // cut with RESOURCE_EXHAUSTED; the client resumes from its cursor.
  absl::Duration stall_timeout = absl::Seconds(30);
};

class EventStream;

class EventHub {
 public:
  // `presence` keeps the sessions of open streams alive: each stream is a desktop session that
  // lives as long as this instance renews its lease.
  EventHub(const store::RedisOptions& redis, store::EventLog* log, const store::Keys& keys,
           presence::RedisPresenceStore* presence, presence::RedisRosterStore* roster,
           EventHubConfig config);
  // Ends all streams and stops the threads.
  ~EventHub();

  // Starts a stream of `caller`'s events after `after_cursor` (empty: from now on; `0`: from the
  // start of retention; the cursor must be valid, checked by the caller), as desktop session
  // `session` (a new one when empty). Refused with PERMISSION_DENIED for someone not on the
  // roster (admins excepted), UNAVAILABLE without Redis.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Open(const Principal& caller,
                                                   std::string after_cursor, std::string session);

  // Ends every open stream with UNAVAILABLE, so that clients resume elsewhere (shutdown).
  void CloseAll();

  size_t open_streams() const;
  // This instance's id in the lease of instances.
  const std::string& instance() const { return instance_; }
  // True while the instance hears the event channel.
  bool connected() const { return subscriber_ && subscriber_->connected(); }

 private:
  friend class EventStream;
  void OnAnnouncement(absl::string_view message);
  // Someone's presence changed: their watchers connected here get it (on a fetch thread).
  void OnPresenceChanged(absl::string_view person);
  void DeliverPresence(const std::vector<std::string>& people);
  void OnSubscribed();
  void ScheduleFetch(std::shared_ptr<EventStream> stream);
  void Unregister(const EventStream* stream);
  void FetchLoop();
  // Renews the instance's lease and cuts stalled streams.
  void HousekeepingLoop();
  std::vector<std::shared_ptr<EventStream>> AllStreams() const;

  store::EventLog* log_;
  presence::RedisPresenceStore* presence_;
  presence::RedisRosterStore* roster_;
  const std::string presence_channel_;
  const EventHubConfig config_;
  const std::string instance_;

  mutable absl::Mutex mu_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<EventStream>>> streams_
      ABSL_GUARDED_BY(mu_);
  // Watched person -> the streams watching them.
  std::unordered_map<std::string, std::vector<EventStream*>> watchers_ ABSL_GUARDED_BY(mu_);
  size_t stream_count_ ABSL_GUARDED_BY(mu_) = 0;

  mutable absl::Mutex fetch_mu_;
  std::deque<std::shared_ptr<EventStream>> fetch_queue_ ABSL_GUARDED_BY(fetch_mu_);
  std::set<std::string> presence_changed_ ABSL_GUARDED_BY(fetch_mu_);
  bool stop_ ABSL_GUARDED_BY(fetch_mu_) = false;
  std::vector<std::thread> fetchers_;
  std::thread housekeeping_thread_;

  std::unique_ptr<store::RedisSubscriber> subscriber_;
};

}  // namespace backline::chat
