// backline-kb-bot: a knowledge-base bot. Indexes a folder of articles and posts the best matches
// into every new escalation that matches its filter, before a human is found.
//
//   backline-kb-bot --target 127.0.0.1:7400 --token_file kb.token --kb deploy/kb
//                   --state_file /var/lib/backline/kb-bot.cursor
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backline/client.h"
#include "services/common/log.h"
#include "services/kb_bot/kb_bot.h"

ABSL_FLAG(std::string, target, "", "server address (default $BACKLINE_TARGET or 127.0.0.1:7400)");
ABSL_FLAG(std::string, token_file, "",
          "file holding the bot's token (default $BACKLINE_TOKEN_FILE, or $BACKLINE_TOKEN)");
ABSL_FLAG(std::string, kb, "", "folder of knowledge articles (Markdown or text), required");
ABSL_FLAG(std::string, skills, "", "answer escalations needing any of these skills (comma list)");
ABSL_FLAG(std::string, languages, "", "... in any of these languages (comma list)");
ABSL_FLAG(std::string, teams, "", "... from requesters of these teams (comma list)");
ABSL_FLAG(int, k, 3, "hits posted per escalation, at most");
ABSL_FLAG(double, min_score, 1.0, "BM25 score an article needs to be posted");
ABSL_FLAG(double, min_relative_score, 0.4,
          "share of the best hit's score the other hits need to be posted");
ABSL_FLAG(std::string, language_mode, "boost",
          "boost: articles in the escalation's language rank higher; narrow: only those");
ABSL_FLAG(double, language_boost, 1.5, "score factor for articles in the escalation's language");
ABSL_FLAG(std::string, no_match_text, "", "posted once when nothing matches (default: nothing)");
ABSL_FLAG(std::string, source, "kb", "the hits' source, shown with them");
ABSL_FLAG(std::string, link_base, "", "link prefix for articles without their own link");
ABSL_FLAG(std::string, state_file, "", "where the event cursor is kept across restarts");
ABSL_FLAG(double, rescan_seconds, 5, "how often the folder is checked for changed articles");

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(ss.str()));
}

std::vector<std::string> List(const std::string& csv) {
  return absl::StrSplit(csv, ',', absl::SkipWhitespace());
}

int Fail(const std::string& message) {
  std::cerr << "backline-kb-bot: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "posts knowledge-base hits into new escalations.\n"
      "  backline-kb-bot --target HOST:PORT --token_file FILE --kb DIR [--state_file FILE]");
  absl::ParseCommandLine(argc, argv);
  // Signals are taken by sigwait below; every thread started from here on blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  backline::ClientOptions client_options;
  client_options.target = absl::GetFlag(FLAGS_target);
  if (client_options.target.empty()) client_options.target = Env("BACKLINE_TARGET");
  if (client_options.target.empty()) client_options.target = "127.0.0.1:7400";
  std::string token_file = absl::GetFlag(FLAGS_token_file);
  if (token_file.empty()) token_file = Env("BACKLINE_TOKEN_FILE");
  client_options.token = token_file.empty() ? Env("BACKLINE_TOKEN") : ReadTrimmed(token_file);
  if (client_options.token.empty()) {
    return Fail("no token: --token_file FILE (issue one with `backline admin token --bot NAME`)");
  }

  backline::kb::KbBotOptions options;
  options.kb_dir = absl::GetFlag(FLAGS_kb);
  if (options.kb_dir.empty()) return Fail("--kb DIR is required");
  for (const std::string& s : List(absl::GetFlag(FLAGS_skills))) options.filter.add_skills(s);
  for (const std::string& l : List(absl::GetFlag(FLAGS_languages))) {
    options.filter.add_languages(l);
  }
  for (const std::string& t : List(absl::GetFlag(FLAGS_teams))) options.filter.add_teams(t);
  options.search.k = absl::GetFlag(FLAGS_k);
  options.search.min_score = absl::GetFlag(FLAGS_min_score);
  options.search.min_relative = absl::GetFlag(FLAGS_min_relative_score);
  options.search.language_boost = absl::GetFlag(FLAGS_language_boost);
  const std::string mode = absl::GetFlag(FLAGS_language_mode);
  if (mode == "narrow") {
    options.search.mode = backline::kb::LanguageMode::kNarrow;
  } else if (mode != "boost") {
    return Fail("--language_mode must be boost or narrow");
  }
  if (options.search.k < 1 || options.search.k > 20) return Fail("--k must be within 1..20");
  options.no_match_text = absl::GetFlag(FLAGS_no_match_text);
  options.source = absl::GetFlag(FLAGS_source);
  options.link_base = absl::GetFlag(FLAGS_link_base);
  options.state_file = absl::GetFlag(FLAGS_state_file);
  options.rescan_interval = absl::Seconds(absl::GetFlag(FLAGS_rescan_seconds));

  backline::Client client(client_options);
  backline::kb::KbBot bot(&client, options);
  if (absl::Status s = bot.Start(); !s.ok()) {
    std::cerr << "backline-kb-bot: " << s.message() << "\n";
    return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ? 7 : 1;
  }
  BL_LOG(INFO) << "backline-kb-bot: " << bot.articles() << " articles, answering escalations on "
               << client_options.target;
  int signal = 0;
  sigwait(&signals, &signal);
  BL_LOG(INFO) << "backline-kb-bot: stopping";
  bot.Stop();
  return 0;
}
