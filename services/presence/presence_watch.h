// Serves WatchPresence streams on one presence instance. One Redis subscription hears the id of
// every person whose presence changed; a worker reads the changed presences (once, in one round
// trip, only for people someone watches) and hands them to the watching streams. Each stream
// keeps at most one pending presence per person: changes that pile up while a watcher reads are
// merged, so a slow watcher costs bounded memory and sees the latest state.
#pragma once

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/presence/redis_presence_store.h"
#include "services/store/keys.h"
#include "services/store/redis_client.h"

namespace backline::presence {

class PresenceWatcher;

class PresenceWatchHub {
 public:
  PresenceWatchHub(const store::RedisOptions& redis, const store::Keys& keys,
                   RedisPresenceStore* presence);
  // Ends every watch stream and stops the threads.
  ~PresenceWatchHub();

  // Starts a stream watching `people`: a snapshot first, then changes. UNAVAILABLE (as a
  // finished stream) when the snapshot cannot be read.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Open(std::vector<std::string> people);

  // Ends every open stream with UNAVAILABLE (shutdown).
  void CloseAll();

 private:
  friend class PresenceWatcher;
  void Unregister(PresenceWatcher* watcher);
  void OnChanged(absl::string_view person);
  void WorkLoop();

  RedisPresenceStore* presence_;
  absl::Mutex mu_;
  std::set<PresenceWatcher*> watchers_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> changed_ ABSL_GUARDED_BY(mu_);
  bool resync_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
  std::unique_ptr<store::RedisSubscriber> subscriber_;
};

}  // namespace backline::presence
