// desk_feed: what a desktop does with Backline's client library — keeps the person's event
// feed open, prints every event and connection change as it comes, and optionally says one
// thing in a thread and waits to see it come back on the feed.
//
//   desk_feed --target 127.0.0.1:7400 --token-file soren.token [--cursor C] [--for SECONDS]
//             [--thread THREAD --say TEXT]
//
// Exit codes: 0 done (with --say: the message came back on the feed), 1 failed, 2 bad usage.
// The callbacks run on the feed's own thread; this program hands what it needs to the main
// thread through a mutex and a condition variable, as a GUI would post it to its event loop.
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>

#include "backline/client.h"

namespace {

struct Args {
  std::string target;
  std::string token;
  std::string cursor;
  std::string thread;
  std::string say;
  int seconds = 10;
};

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    if (flag == "--target") {
      args->target = value;
    } else if (flag == "--token-file") {
      std::ifstream in(value);
      std::getline(in, args->token);
      if (!in) return false;
    } else if (flag == "--cursor") {
      args->cursor = value;
    } else if (flag == "--thread") {
      args->thread = value;
    } else if (flag == "--say") {
      args->say = value;
    } else if (flag == "--for") {
      args->seconds = std::atoi(value.c_str());
    } else {
      return false;
    }
  }
  if (args->token.empty()) {
    if (const char* env = std::getenv("BACKLINE_TOKEN")) args->token = env;
  }
  return !args->target.empty() && !args->token.empty() && args->thread.empty() == args->say.empty();
}

std::string Describe(const backline::v1::Event& e) {
  std::ostringstream out;
  if (e.has_message_posted()) {
    const auto& m = e.message_posted().message();
    out << "message " << m.thread_id() << "#" << m.seq() << " from " << m.sender() << ": "
        << m.text();
  } else if (e.has_offer()) {
    out << "offer of " << e.offer().escalation().id();
  } else if (e.has_gap()) {
    out << "gap: events after " << e.gap().after_cursor() << " are gone; reload";
  } else {
    out << "event";
  }
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::cerr << "usage: desk_feed --target HOST:PORT --token-file FILE [--cursor C] "
                 "[--for SECONDS] [--thread THREAD --say TEXT]\n";
    return 2;
  }
  backline::ClientOptions options;
  options.target = args.target;
  options.token = args.token;
  backline::Client client(options);

  // What the feed's thread tells the main thread.
  std::mutex mu;
  std::condition_variable changed;
  bool connected = false;
  bool stopped = false;
  std::string client_msg_id = backline::Client::NewRequestId();
  std::string delivered_cursor;

  backline::FeedOptions feed_options;
  feed_options.after_cursor = args.cursor;
  feed_options.on_event = [&](const backline::v1::Event& e) {
    std::cout << "EVENT " << (e.cursor().empty() ? "-" : e.cursor()) << " " << Describe(e)
              << std::endl;
    if (e.has_message_posted() && e.message_posted().message().client_msg_id() == client_msg_id) {
      std::lock_guard<std::mutex> lock(mu);
      delivered_cursor = e.cursor();
      changed.notify_all();
    }
  };
  feed_options.on_state = [&](const backline::FeedStateChange& s) {
    std::cout << "STATE " << backline::FeedStateName(s.state);
    if (!s.error.ok()) std::cout << " (" << s.error << ")";
    if (!s.cursor.empty()) std::cout << " cursor " << s.cursor;
    std::cout << std::endl;
    std::lock_guard<std::mutex> lock(mu);
    if (s.state == backline::FeedState::kConnected) connected = true;
    if (s.state == backline::FeedState::kStopped) stopped = true;
    changed.notify_all();
  };
  auto feed = client.OpenFeed(feed_options);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(args.seconds);
  int exit_code = 0;
  if (!args.say.empty()) {
    {
      std::unique_lock<std::mutex> lock(mu);
      changed.wait_until(lock, deadline, [&] { return connected || stopped; });
      if (!connected) {
        std::cerr << "desk_feed: the feed did not connect\n";
        return 1;
      }
    }
    auto posted = client.Post(args.thread, args.say, client_msg_id);
    if (!posted.ok()) {
      std::cerr << "desk_feed: post: " << posted.status() << "\n";
      return 1;
    }
    std::cout << "POSTED " << posted->thread_id() << "#" << posted->seq() << std::endl;
    std::unique_lock<std::mutex> lock(mu);
    if (!changed.wait_until(lock, deadline, [&] { return !delivered_cursor.empty() || stopped; }) ||
        delivered_cursor.empty()) {
      std::cerr << "desk_feed: the message did not come back on the feed\n";
      exit_code = 1;
    }
  } else {
    std::unique_lock<std::mutex> lock(mu);
    changed.wait_until(lock, deadline, [&] { return stopped; });
  }
  feed->Stop();
  std::cout << "RESUME --cursor " << feed->cursor() << std::endl;
  return exit_code;
}
