#include "cli/cli.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "backline/client.h"
#include "cli/args.h"
#include "cli/config_file.h"
#include "cli/roster_file.h"
#include "cli/tray/failure.h"
#include "cli/tray/tray.h"
#include "cli/words.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/principal.h"
#include "services/common/token.h"

namespace backline::cli {
namespace {

using google::protobuf::util::TimeUtil;

// Where and who: resolved from flags, then the environment, then the config file.
struct Settings {
  std::string target;
  std::string token;
  std::string secret_file;
  absl::Duration timeout = absl::Seconds(5);
};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string ReadFileTrimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(ss.str()));
}

int ExitFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return kOk;
    case absl::StatusCode::kNotFound:
      return kNotFound;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kDenied;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kAlreadyExists:
      return kConflict;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kResourceExhausted:
      return kInvalid;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kUnavailable;
    default:
      return kError;
  }
}

std::string StateName(v1::EscalationState s) {
  absl::string_view n = v1::EscalationState_Name(s);
  absl::ConsumePrefix(&n, "ESCALATION_STATE_");
  return std::string(n);
}

std::string StatusName(v1::PresenceStatus s) {
  absl::string_view n = v1::PresenceStatus_Name(s);
  absl::ConsumePrefix(&n, "PRESENCE_STATUS_");
  return absl::AsciiStrToLower(n);
}

std::string Skills(const v1::Escalation& e) {
  std::vector<std::string> parts;
  for (const auto& s : e.skills())
    parts.push_back(absl::StrCat(s.skill(), ">=", s.min_proficiency()));
  return absl::StrJoin(parts, ",");
}

// Who asks what: "anna [billing>=3, da]: the question", as offers and escalations show it.
std::string Asked(const v1::Escalation& e) {
  return absl::StrCat(e.requester(), " [", Skills(e), ", ", e.language(), "]: ", e.question());
}

// One message as `history` and `watch` print it: `#7 soren: text`; a knowledge-base hit as
// `#3 kb [hit 7.42] Title: snippet <link>`.
std::string MessageLine(const v1::Message& m) {
  std::string line = absl::StrCat("#", m.seq(), " ", m.sender());
  if (m.deleted()) return line + " (deleted)";
  if (m.kind() == v1::MESSAGE_KIND_KB_HIT) {
    const v1::KbHit& h = m.kb_hit();
    absl::StrAppend(&line, " [hit ", absl::StrFormat("%.2f", h.score()), "] ", h.title());
    if (!h.snippet().empty()) absl::StrAppend(&line, ": ", h.snippet());
    if (!h.link().empty()) absl::StrAppend(&line, " <", h.link(), ">");
    return line;
  }
  return absl::StrCat(line, ": ", m.text());
}

std::string SecondsLeft(const google::protobuf::Timestamp& deadline) {
  const double s =
      (TimeUtil::TimestampToMilliseconds(deadline) - absl::ToUnixMillis(absl::Now())) / 1000.0;
  return absl::StrCat(std::max(0, static_cast<int>(s + 0.5)), "s");
}

// `WAITING` lines, the `waiting` list and `show`: where a queued escalation stands.
std::string ExpectedWait(const v1::Escalation& e) {
  return e.has_estimated_wait()
             ? ExpectedWaitWords(absl::Milliseconds(
                   TimeUtil::DurationToMilliseconds(e.estimated_wait())))
             : "";
}

// Whom an OFFERED escalation is offered to: one helper, or several at once (`a, b`).
std::string OfferedTo(const v1::Escalation& e) {
  std::vector<std::string> helpers;
  for (const v1::Offer& o : e.offers()) helpers.push_back(o.helper());
  if (helpers.empty()) helpers.push_back(e.offer().helper());
  return absl::StrJoin(helpers, ", ");
}

class Cli;
using Handler = std::function<int(Cli&, const Args&)>;

struct Command {
  std::string name;     // "presence set", "admin roster apply", ...
  std::string usage;    // arguments
  std::string summary;  // one line
  std::set<std::string> value_flags;
  std::set<std::string> bool_flags;
  Handler run;
};

const std::set<std::string> kGlobalValueFlags = {"target", "token",   "token-file",
                                                 "config", "timeout", "secret-file"};
const std::set<std::string> kGlobalBoolFlags = {"json", "timing", "help"};

class Cli {
 public:
  Cli(std::ostream& out, std::ostream& err) : out(out), err(err) {}

  std::ostream& out;
  std::ostream& err;
  bool json = false;
  bool timing = false;
  Settings settings;

  absl::Status Configure(const Args& args) {
    json = args.Has("json");
    timing = args.Has("timing");
    auto file = ReadConfigFile(
        args.Get("config", DefaultConfigPath([](const std::string& n) { return Env(n.c_str()); })));
    auto pick = [&](const char* flag, const char* env, const char* key) {
      if (args.Has(flag)) return args.Get(flag);
      if (std::string v = Env(env); !v.empty()) return v;
      auto it = file.find(key);
      return it == file.end() ? std::string() : it->second;
    };
    settings.target = pick("target", "BACKLINE_TARGET", "target");
    if (settings.target.empty()) settings.target = "127.0.0.1:7400";
    settings.token = pick("token", "BACKLINE_TOKEN", "token");
    if (settings.token.empty()) {
      const std::string token_file = pick("token-file", "BACKLINE_TOKEN_FILE", "token_file");
      if (!token_file.empty()) settings.token = ReadFileTrimmed(token_file);
    }
    settings.secret_file = pick("secret-file", "BACKLINE_TOKEN_SECRET_FILE", "secret_file");
    if (args.Has("timeout")) {
      double s = 0;
      if (!absl::SimpleAtod(args.Get("timeout"), &s) || s <= 0) {
        return absl::InvalidArgumentError("--timeout: seconds, e.g. 5 or 0.5");
      }
      settings.timeout = absl::Seconds(s);
    }
    return absl::OkStatus();
  }

  Client& client() {
    if (!client_) {
      ClientOptions o;
      o.target = settings.target;
      o.token = settings.token;
      o.deadline = settings.timeout;
      client_ = std::make_unique<Client>(o);
      // Timings are of the calls themselves, not of setting up the connection.
      if (timing) client_->WaitForConnected(settings.timeout);
    }
    return *client_;
  }

  // Reports a failed call in words that say what to do, and returns its exit code.
  int Fail(const absl::Status& st) {
    std::string hint;
    switch (st.code()) {
      case absl::StatusCode::kUnavailable:
        if (std::string reason = tray::TransportFailure(st.message()); !reason.empty()) {
          err << "backline: cannot reach " << settings.target << " (" << reason
              << "): is a Backline server running there? set --target or BACKLINE_TARGET\n";
          return kUnavailable;
        }
        hint = absl::StrCat(" (the server at ", settings.target,
                            " cannot serve now; try again shortly)");
        break;
      case absl::StatusCode::kDeadlineExceeded:
        hint = absl::StrCat(" (no answer from ", settings.target, " within ",
                            absl::FormatDuration(settings.timeout), ")");
        break;
      case absl::StatusCode::kUnauthenticated:
        hint =
            " (pass a valid token with --token, --token-file or BACKLINE_TOKEN; an admin "
            "issues one with `backline admin token`)";
        break;
      case absl::StatusCode::kUnimplemented:
        hint = absl::StrCat(" (the server at ", settings.target,
                            " does not offer this call: is it an older Backline?)");
        break;
      default:
        break;
    }
    const std::string message = st.message().empty()
                                    ? absl::AsciiStrToLower(absl::StatusCodeToString(st.code()))
                                    : std::string(st.message());
    err << "backline: " << message << hint << "\n";
    return ExitFor(st.code());
  }

  int Usage(const std::string& message) {
    err << "backline: " << message << " (see backline --help)\n";
    return kUsage;
  }

  template <typename Fn>
  auto Timed(const char* what, Fn&& fn) {
    const absl::Time start = absl::Now();
    auto result = fn();
    if (timing) {
      err << what << ": "
          << absl::StrFormat("%.2f", absl::ToDoubleMilliseconds(absl::Now() - start)) << " ms\n";
    }
    return result;
  }

  void PrintJson(const google::protobuf::Message& m) {
    std::string s;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(m, &s, o);
    out << s << "\n";
  }

  void PrintEscalation(const v1::Escalation& e) {
    if (json) return PrintJson(e);
    out << e.id() << "  " << StateName(e.state());
    if (e.state() == v1::ESCALATION_STATE_OFFERED) {
      out << " to " << OfferedTo(e) << " (answer within " << SecondsLeft(e.offer().deadline())
          << ")";
    }
    if (!e.helper().empty()) out << "  helper " << e.helper();
    if (!e.thread_id().empty()) out << "  thread " << e.thread_id();
    out << "\n  from " << Asked(e) << "\n";
    if (!e.experts().empty()) out << "  experts " << absl::StrJoin(e.experts(), ", ") << "\n";
    if (e.state() == v1::ESCALATION_STATE_QUEUED && e.queue_position() > 0) {
      out << "  queued at position " << e.queue_position();
      if (e.has_estimated_wait()) out << " (" << ExpectedWait(e) << ")";
      out << "\n";
    }
    if (!e.close_reason().empty()) out << "  " << e.close_reason() << "\n";
  }

  void PrintPresence(const v1::Presence& p) {
    if (json) return PrintJson(p);
    out << p.person() << "  " << StatusName(p.status());
    if (!p.reason().empty()) out << " (" << p.reason() << ")";
    out << "  load " << p.load() << "/" << p.capacity() << "\n";
  }

  void PrintEvent(const v1::Event& ev) {
    if (json) return PrintJson(ev);
    switch (ev.payload_case()) {
      case v1::Event::kOffer: {
        const v1::Escalation& e = ev.offer().escalation();
        out << "OFFER " << e.id() << " from " << Asked(e) << "  (accept within "
            << SecondsLeft(ev.offer().offer().deadline()) << ": backline accept " << e.id()
            << ")\n";
        break;
      }
      case v1::Event::kOfferClosed:
        out << "OFFER-CLOSED " << ev.offer_closed().escalation_id() << " "
            << ev.offer_closed().reason() << "\n";
        break;
      case v1::Event::kEscalationUpdated: {
        const v1::Escalation& e = ev.escalation_updated().escalation();
        out << "ESCALATION " << e.id() << " " << StateName(e.state());
        if (e.state() == v1::ESCALATION_STATE_OFFERED) out << " to " << OfferedTo(e);
        if (!e.thread_id().empty()) out << " thread " << e.thread_id();
        out << "\n";
        break;
      }
      case v1::Event::kMessagePosted: {
        const v1::Message& m = ev.message_posted().message();
        out << "MESSAGE " << m.thread_id() << " " << MessageLine(m) << "\n";
        break;
      }
      case v1::Event::kMessageChanged: {
        const v1::Message& m = ev.message_changed().message();
        out << "MESSAGE-" << (m.deleted() ? "DELETED " : "EDITED ") << m.thread_id() << " #"
            << m.seq() << " " << m.sender() << (m.deleted() ? "" : ": ") << m.text() << "\n";
        break;
      }
      case v1::Event::kReadMarker:
        out << "READ " << ev.read_marker().thread_id() << " " << ev.read_marker().person()
            << " up to #" << ev.read_marker().seq() << "\n";
        break;
      case v1::Event::kTyping:
        out << "TYPING " << ev.typing().thread_id() << " " << ev.typing().person() << "\n";
        break;
      case v1::Event::kPresenceChanged: {
        const v1::Presence& p = ev.presence_changed().presence();
        out << "PRESENCE " << p.person() << " " << StatusName(p.status());
        if (!p.reason().empty()) out << " (" << p.reason() << ")";
        out << " load " << p.load() << "/" << p.capacity() << "\n";
        break;
      }
      case v1::Event::kWaitingChanged: {
        const v1::WaitingChanged& w = ev.waiting_changed();
        const v1::Escalation& e = w.escalation();
        if (!w.waiting()) {
          out << "NO-LONGER-WAITING " << e.id() << "\n";
          break;
        }
        out << "WAITING " << e.id() << (w.best_match() ? " *" : "") << " from " << Asked(e)
            << "  (backline take " << e.id() << ")\n";
        break;
      }
      case v1::Event::kThreadChanged:
        out << "THREAD " << ev.thread_changed().thread().id() << " "
            << absl::StrJoin(ev.thread_changed().thread().participants(), ", ") << "\n";
        break;
      case v1::Event::kNotice:
        out << "NOTICE " << ev.notice().code() << ": " << ev.notice().text() << "\n";
        break;
      case v1::Event::kGap:
        out << "GAP some events after " << ev.gap().after_cursor()
            << " are no longer retained; reload\n";
        break;
      case v1::Event::kCaughtUp:
        break;
      default:
        break;
    }
    out.flush();
  }

 private:
  std::unique_ptr<Client> client_;
};

absl::StatusOr<absl::Duration> ParseSeconds(const Args& a, const char* flag, double fallback) {
  double s = fallback;
  if (a.Has(flag) && (!absl::SimpleAtod(a.Get(flag), &s) || s < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": seconds, e.g. 10"));
  }
  return absl::Seconds(s);
}

// Every `--skill NAME` or `--skill NAME:LEVEL` (level 1 by default), in order.
absl::Status ParseSkills(const Args& a,
                         google::protobuf::RepeatedPtrField<v1::SkillRequirement>* skills) {
  for (const std::string& spec : a.GetAll("skill")) {
    auto s = ParseSkillSpec(spec);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("--skill ", s.status().message()));
    *skills->Add() = *s;
  }
  return absl::OkStatus();
}

// ---------- commands ----------

int PresenceSet(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("presence set needs one status");
  auto status = ParseStatusWord(a.positional()[0]);
  if (!status.ok()) return c.Usage(std::string(status.status().message()));
  auto p = c.Timed("presence set",
                   [&] { return c.client().SetStatus(*status, a.Get("reason"), a.Get("person")); });
  if (!p.ok()) return c.Fail(p.status());
  c.PrintPresence(*p);
  return kOk;
}

int PresenceGet(Cli& c, const Args& a) {
  auto p = c.Timed("presence get", [&] {
    return c.client().GetPresence(a.positional().empty() ? "" : a.positional()[0]);
  });
  if (!p.ok()) return c.Fail(p.status());
  c.PrintPresence(*p);
  return kOk;
}

int Who(Cli& c, const Args& a) {
  v1::ListAvailableRequest r;
  r.set_skill(a.Get("skill"));
  if (r.skill().empty()) return c.Usage("who needs --skill");
  int level = 1;
  if (a.Has("level") && !absl::SimpleAtoi(a.Get("level"), &level)) {
    return c.Usage("--level: a proficiency 1..5");
  }
  r.set_min_proficiency(level);
  r.set_language(a.Get("lang"));
  auto resp = c.Timed("who", [&] { return c.client().ListAvailable(r); });
  if (!resp.ok()) return c.Fail(resp.status());
  if (c.json) {
    c.PrintJson(*resp);
    return kOk;
  }
  if (resp->people().empty()) c.out << "nobody available for " << r.skill() << "\n";
  for (const auto& p : resp->people()) {
    c.out << p.person().id() << "  " << p.person().display_name() << "  " << r.skill() << ":"
          << p.proficiency() << "  load " << p.presence().load() << "/" << p.presence().capacity()
          << "  " << absl::StrJoin(p.person().languages(), ",") << "\n";
  }
  return kOk;
}

// Prints presence changes of a site, a team or people (the caller's own scope by default).
int PresenceWatch(Cli& c, const Args& a) {
  auto limit = ParseSeconds(a, "for", 0);
  if (!limit.ok()) return c.Usage(std::string(limit.status().message()));
  v1::WatchPresenceRequest r;
  r.set_site(a.Get("site"));
  r.set_team(a.Get("team"));
  for (const std::string& p : a.GetAll("person")) r.add_people(p);
  auto watch = c.client().WatchPresence(r);
  const absl::Time end =
      *limit > absl::ZeroDuration() ? absl::Now() + *limit : absl::InfiniteFuture();
  while (absl::Now() < end) {
    auto update = watch->Next(std::min(end - absl::Now(), absl::Seconds(1)));
    if (!update.ok()) return c.Fail(update.status());
    if (!update->has_value()) continue;
    if (c.json) {
      c.PrintJson(**update);
      c.out.flush();
      continue;
    }
    if ((*update)->snapshot()) c.out << "-- " << (*update)->presence_size() << " watched\n";
    for (const auto& p : (*update)->presence()) c.PrintPresence(p);
    c.out.flush();
  }
  return kOk;
}

void PrintPerson(Cli& c, const v1::Person& p) {
  std::vector<std::string> skills;
  for (const auto& s : p.skills()) skills.push_back(absl::StrCat(s.name(), ":", s.proficiency()));
  c.out << p.id() << "  " << p.display_name() << "  " << RoleName(p.role()) << "  " << p.team()
        << "@" << p.site() << "  [" << absl::StrJoin(skills, ",") << "]  "
        << absl::StrJoin(p.languages(), ",") << "  capacity " << p.capacity();
  if (!p.mentor().empty()) c.out << "  mentor " << p.mentor();
  c.out << "\n";
}

int Person(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("person needs an id");
  auto p = c.Timed("person", [&] { return c.client().GetPerson(a.positional()[0]); });
  if (!p.ok()) return c.Fail(p.status());
  if (c.json) {
    c.PrintJson(*p);
  } else {
    PrintPerson(c, *p);
  }
  return kOk;
}

int People(Cli& c, const Args& a) {
  v1::ListPeopleRequest r;
  r.set_team(a.Get("team"));
  r.set_site(a.Get("site"));
  r.set_skill(a.Get("skill"));
  r.set_language(a.Get("lang"));
  int level = 0;
  if (a.Has("level") && !absl::SimpleAtoi(a.Get("level"), &level)) {
    return c.Usage("--level: a proficiency 1..5");
  }
  r.set_min_proficiency(level);
  if (a.Has("role")) {
    r.set_role(ParseRole(a.Get("role")));
    if (r.role() == v1::ROLE_UNSPECIFIED) return c.Usage("--role: agent, senior, team_leader, ...");
  }
  r.set_page_size(1000);
  // Every page, not just the first.
  v1::ListPeopleResponse all;
  while (true) {
    auto page = c.Timed("people", [&] { return c.client().ListPeople(r); });
    if (!page.ok()) return c.Fail(page.status());
    for (auto& p : *page->mutable_people()) *all.add_people() = std::move(p);
    if (page->next_page_token().empty()) break;
    r.set_page_token(page->next_page_token());
  }
  if (c.json) {
    c.PrintJson(all);
    return kOk;
  }
  for (const auto& p : all.people()) PrintPerson(c, p);
  return kOk;
}

int Ask(Cli& c, const Args& a) {
  v1::CreateEscalationRequest r;
  r.set_question(absl::StrJoin(a.positional(), " "));
  if (r.question().empty()) return c.Usage("ask needs the question");
  if (absl::Status st = ParseSkills(a, r.mutable_skills()); !st.ok()) {
    return c.Usage(std::string(st.message()));
  }
  r.set_language(a.Get("lang"));
  r.set_tried(a.Get("tried"));
  r.mutable_customer()->set_call_id(a.Get("call-id"));
  if (a.Has("priority")) {
    v1::Priority p;
    if (!v1::Priority_Parse("PRIORITY_" + absl::AsciiStrToUpper(a.Get("priority")), &p)) {
      return c.Usage("--priority: normal, high or urgent");
    }
    r.set_priority(p);
  }
  auto e = c.Timed("ask", [&] { return c.client().Escalate(r); });
  if (!e.ok()) return c.Fail(e.status());
  if (a.Has("quiet")) {
    c.out << e->id() << "\n";
  } else {
    c.PrintEscalation(*e);
  }
  return kOk;
}

int Show(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("show needs an escalation id");
  auto e = c.Timed("show", [&] { return c.client().GetEscalation(a.positional()[0]); });
  if (!e.ok()) return c.Fail(e.status());
  c.PrintEscalation(*e);
  return kOk;
}

int Accept(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("accept needs an escalation id");
  auto e = c.Timed("accept", [&] { return c.client().AcceptOffer(a.positional()[0]); });
  if (!e.ok()) return c.Fail(e.status());
  if (a.Has("quiet")) {
    c.out << e->thread_id() << "\n";
  } else {
    c.PrintEscalation(*e);
  }
  return kOk;
}

int Decline(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("decline needs an escalation id");
  auto e = c.Timed("decline",
                   [&] { return c.client().DeclineOffer(a.positional()[0], "", a.Get("reason")); });
  if (!e.ok()) return c.Fail(e.status());
  c.PrintEscalation(*e);
  return kOk;
}

int Cancel(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("cancel needs an escalation id");
  auto e = c.Timed("cancel",
                   [&] { return c.client().CancelEscalation(a.positional()[0], a.Get("reason")); });
  if (!e.ok()) return c.Fail(e.status());
  c.PrintEscalation(*e);
  return kOk;
}

int Resolve(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("resolve needs an escalation id");
  auto e = c.Timed("resolve",
                   [&] { return c.client().ResolveEscalation(a.positional()[0], a.Get("note")); });
  if (!e.ok()) return c.Fail(e.status());
  c.PrintEscalation(*e);
  return kOk;
}

int Reopen(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("reopen needs an escalation id");
  auto e = c.Timed("reopen",
                   [&] { return c.client().ReopenEscalation(a.positional()[0], a.Get("reason")); });
  if (!e.ok()) return c.Fail(e.status());
  c.PrintEscalation(*e);
  return kOk;
}

int Transfer(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("transfer needs an escalation id");
  if (!a.Has("skill")) return c.Usage("transfer needs --skill S[:LEVEL] for the next helper");
  v1::TransferEscalationRequest r;
  r.set_id(a.positional()[0]);
  if (absl::Status st = ParseSkills(a, r.mutable_skills()); !st.ok()) {
    return c.Usage(std::string(st.message()));
  }
  r.set_reason(a.Get("reason"));
  auto e = c.Timed("transfer", [&] { return c.client().TransferEscalation(r.id(), r); });
  if (!e.ok()) return c.Fail(e.status());
  c.PrintEscalation(*e);
  return kOk;
}

int Invite(Cli& c, const Args& a) {
  if (a.positional().size() != 2) return c.Usage("invite needs an escalation id and a person");
  auto e = c.Timed("invite",
                   [&] { return c.client().InviteExpert(a.positional()[0], a.positional()[1]); });
  if (!e.ok()) return c.Fail(e.status());
  c.PrintEscalation(*e);
  return kOk;
}

// "URGENT  " or "HIGH  " before the question of a pressing escalation, else nothing.
std::string PriorityPrefix(const v1::Escalation& e) {
  if (e.priority() != v1::PRIORITY_HIGH && e.priority() != v1::PRIORITY_URGENT) return "";
  absl::string_view p = v1::Priority_Name(e.priority());
  absl::ConsumePrefix(&p, "PRIORITY_");
  return absl::StrCat(p, "  ");
}

// One escalation on one line, for lists: where it stands, then who asks what.
std::string EscalationLine(const v1::Escalation& e) {
  std::string line = absl::StrCat(e.id(), "  ", StateName(e.state()));
  switch (e.state()) {
    case v1::ESCALATION_STATE_OFFERED:
      absl::StrAppend(&line, " to ", OfferedTo(e), " (", SecondsLeft(e.offer().deadline()),
                      " left)");
      break;
    case v1::ESCALATION_STATE_QUEUED:
      if (e.queue_position() > 0) absl::StrAppend(&line, " #", e.queue_position());
      if (e.has_estimated_wait()) absl::StrAppend(&line, " (", ExpectedWait(e), ")");
      break;
    case v1::ESCALATION_STATE_ACCEPTED:
      absl::StrAppend(&line, " helper ", e.helper());
      break;
    default:
      break;
  }
  absl::StrAppend(&line, "  ", PriorityPrefix(e), Asked(e));
  return line;
}

// `offers`, `escalations` and `queue`: the escalations of one scope, one per line.
int ListEscalationsOf(Cli& c, const Args& a, v1::EscalationScope scope, const char* what,
                      const char* none,
                      const std::function<std::string(const v1::Escalation&)>& line) {
  if (!a.positional().empty()) return c.Usage(absl::StrCat(what, " takes no arguments"));
  v1::ListEscalationsRequest r;
  r.set_scope(scope);
  int limit = 50;
  if (a.Has("limit") && (!absl::SimpleAtoi(a.Get("limit"), &limit) || limit < 1 || limit > 200)) {
    return c.Usage("--limit takes a number of escalations, 1..200");
  }
  r.set_page_size(limit);
  auto resp = c.Timed(what, [&] { return c.client().ListEscalations(r); });
  if (!resp.ok()) return c.Fail(resp.status());
  if (c.json) {
    c.PrintJson(*resp);
    return kOk;
  }
  if (resp->escalations().empty()) c.out << none << "\n";
  for (const v1::Escalation& e : resp->escalations()) c.out << line(e) << "\n";
  return kOk;
}

int Offers(Cli& c, const Args& a) {
  return ListEscalationsOf(c, a, v1::ESCALATION_SCOPE_OFFERED, "offers", "no offers for you now",
                           [](const v1::Escalation& e) {
                             return absl::StrCat(e.id(), "  ", SecondsLeft(e.offer().deadline()),
                                                 " left  ", PriorityPrefix(e), Asked(e));
                           });
}

int Escalations(Cli& c, const Args& a) {
  return ListEscalationsOf(c, a, v1::ESCALATION_SCOPE_OPEN, "escalations",
                           "no open escalations of yours", EscalationLine);
}

int Queue(Cli& c, const Args& a) {
  return ListEscalationsOf(c, a, v1::ESCALATION_SCOPE_SITE, "queue",
                           "nothing open at your site now", EscalationLine);
}

int Waiting(Cli& c, const Args& a) {
  if (!a.positional().empty()) return c.Usage("waiting takes no arguments");
  v1::ListWaitingRequest r;
  int limit = 0;
  if (a.Has("limit") && (!absl::SimpleAtoi(a.Get("limit"), &limit) || limit < 1)) {
    return c.Usage("--limit takes a number of escalations, 1..100");
  }
  r.set_page_size(limit);
  auto resp = c.Timed("waiting", [&] { return c.client().ListWaiting(r); });
  if (!resp.ok()) return c.Fail(resp.status());
  if (c.json) {
    c.PrintJson(*resp);
    return kOk;
  }
  if (resp->escalations().empty()) c.out << "nothing is waiting for you\n";
  for (const auto& w : resp->escalations()) {
    const v1::Escalation& e = w.escalation();
    c.out << e.id() << (w.best_match() ? " * " : "   ") << "#" << e.queue_position() << "  ["
          << Skills(e) << ", " << e.language() << "]  " << e.requester() << ": " << e.question();
    if (e.has_estimated_wait()) c.out << "  (" << ExpectedWait(e) << ")";
    c.out << "\n";
  }
  return kOk;
}

int Take(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("take needs an escalation id");
  auto e = c.Timed("take", [&] { return c.client().TakeEscalation(a.positional()[0]); });
  if (!e.ok()) return c.Fail(e.status());
  if (a.Has("quiet")) {
    c.out << e->thread_id() << "\n";
  } else {
    c.PrintEscalation(*e);
  }
  return kOk;
}

int Explain(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("explain needs an escalation id");
  auto x = c.Timed("explain", [&] { return c.client().ExplainRouting(a.positional()[0]); });
  if (!x.ok()) return c.Fail(x.status());
  if (c.json) {
    c.PrintJson(*x);
    return kOk;
  }
  c.out << x->escalation_id() << "  policy group " << x->policy_group() << "\n";
  for (const auto& ring : x->rings()) {
    c.out << "  ring " << ring.name() << ": ";
    if (ring.open()) {
      c.out << "open";
    } else {
      c.out << "opens at "
            << absl::FormatTime(
                   "%H:%M:%S UTC",
                   absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(ring.open_time())),
                   absl::UTCTimeZone());
    }
    if (ring.empty()) c.out << ", nobody logged in";
    c.out << "\n";
  }
  if (x->candidates().empty()) c.out << "nobody was considered\n";
  for (const auto& v : x->candidates()) {
    c.out << absl::StrFormat("  %-16s %-16s %-20s %s\n", v.person(), v.verdict(),
                             v.detail().empty() ? "-" : v.detail(),
                             v.ring().empty() ? "-" : v.ring());
  }
  return kOk;
}

// Seconds with one decimal, or "-" when nothing got that far.
std::string StatSeconds(bool set, const google::protobuf::Duration& d) {
  if (!set) return "-";
  return absl::StrFormat("%.1f", TimeUtil::DurationToMilliseconds(d) / 1000.0);
}

int Stats(Cli& c, const Args& a) {
  if (!a.positional().empty()) return c.Usage("stats takes no arguments");
  v1::GetStatsRequest r;
  if (a.Has("window")) {
    absl::Duration window;
    if (!absl::ParseDuration(a.Get("window"), &window) || window <= absl::ZeroDuration()) {
      return c.Usage("--window: a duration such as 1h or 30m");
    }
    *r.mutable_window() = TimeUtil::MillisecondsToDuration(absl::ToInt64Milliseconds(window));
  }
  r.set_site(a.Get("site"));
  auto stats = c.Timed("stats", [&] { return c.client().GetStats(r); });
  if (!stats.ok()) return c.Fail(stats.status());
  if (c.json) {
    c.PrintJson(*stats);
    return kOk;
  }
  size_t width = 12;
  for (const auto& b : stats->by_skill()) width = std::max(width, b.key().size());
  for (const auto& b : stats->by_team()) width = std::max(width, b.key().size());
  const int w = static_cast<int>(width);
  auto time_of = [](const google::protobuf::Timestamp& t) {
    return absl::FormatTime("%Y-%m-%d %H:%M:%S",
                            absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(t)),
                            absl::UTCTimeZone());
  };
  c.out << "from " << time_of(stats->from_time()) << " to " << time_of(stats->to_time())
        << " UTC\n";
  c.out << absl::StrFormat("%-*s %8s %8s %8s %8s %9s %8s %8s %9s %9s %10s %10s\n", w, "key",
                           "created", "offered", "accepted", "resolved", "cancelled", "expired",
                           "waiting", "offer p50", "offer p90", "accept p50", "accept p90");
  auto row = [&](const v1::StatsBucket& b) {
    c.out << absl::StrFormat("%-*s %8d %8d %8d %8d %9d %8d %8d %9s %9s %10s %10s\n", w, b.key(),
                             b.created(), b.offered(), b.accepted(), b.resolved(), b.cancelled(),
                             b.expired(), b.waiting(),
                             StatSeconds(b.has_time_to_offer_p50(), b.time_to_offer_p50()),
                             StatSeconds(b.has_time_to_offer_p90(), b.time_to_offer_p90()),
                             StatSeconds(b.has_time_to_accept_p50(), b.time_to_accept_p50()),
                             StatSeconds(b.has_time_to_accept_p90(), b.time_to_accept_p90()));
  };
  row(stats->total());
  if (!stats->by_skill().empty()) c.out << "by skill (the first required)\n";
  for (const auto& b : stats->by_skill()) row(b);
  if (!stats->by_team().empty()) c.out << "by team (of the requester)\n";
  for (const auto& b : stats->by_team()) row(b);
  if (!stats->knowledge().empty()) {
    c.out << "knowledge-base hits (bot, article: posted, marked helpful / not helpful)\n";
    for (const auto& k : stats->knowledge()) {
      c.out << absl::StrFormat("  %s %s: %d posted, %d / %d  %s\n", k.bot(), k.article_id(),
                               k.posted(), k.helpful(), k.not_helpful(), k.title());
    }
  }
  return kOk;
}

// A thread id, or the thread of an escalation id.
absl::StatusOr<std::string> ThreadOf(Cli& c, const std::string& id) {
  if (!absl::StartsWith(id, "esc-")) return id;
  auto e = c.client().GetEscalation(id);
  if (!e.ok()) return e.status();
  if (e->thread_id().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("escalation ", id, " has no thread yet (it is ", StateName(e->state()), ")"));
  }
  return e->thread_id();
}

int Say(Cli& c, const Args& a) {
  if (a.positional().size() < 2) return c.Usage("say needs a thread (or escalation) id and text");
  std::string text;
  if (a.positional().size() == 2 && a.positional()[1] == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    text = ss.str();
  } else {
    text = absl::StrJoin(a.positional().begin() + 1, a.positional().end(), " ");
  }
  auto thread = ThreadOf(c, a.positional()[0]);
  if (!thread.ok()) return c.Fail(thread.status());
  auto m = c.Timed("say", [&] { return c.client().Post(*thread, text, a.Get("client-msg-id")); });
  if (!m.ok()) return c.Fail(m.status());
  if (c.json) {
    c.PrintJson(*m);
  } else {
    c.out << m->thread_id() << " #" << m->seq() << "\n";
  }
  return kOk;
}

int History(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("history needs a thread (or escalation) id");
  auto thread = ThreadOf(c, a.positional()[0]);
  if (!thread.ok()) return c.Fail(thread.status());
  v1::ListMessagesRequest r;
  r.set_thread_id(*thread);
  int64_t after = 0;
  int limit = 50;
  if ((a.Has("after") && !absl::SimpleAtoi(a.Get("after"), &after)) ||
      (a.Has("limit") && !absl::SimpleAtoi(a.Get("limit"), &limit))) {
    return c.Usage("--after and --limit take numbers");
  }
  r.set_after_seq(after);
  r.set_page_size(limit);
  auto resp = c.Timed("history", [&] { return c.client().ListMessages(r); });
  if (!resp.ok()) return c.Fail(resp.status());
  if (c.json) {
    c.PrintJson(*resp);
    return kOk;
  }
  for (const auto& m : resp->messages()) c.out << MessageLine(m) << "\n";
  return kOk;
}

void PrintThread(Cli& c, const v1::Thread& t) {
  if (c.json) return c.PrintJson(t);
  absl::string_view kind = v1::ThreadKind_Name(t.kind());
  absl::ConsumePrefix(&kind, "THREAD_KIND_");
  c.out << t.id() << "  " << absl::AsciiStrToLower(kind) << "  ";
  if (!t.team().empty()) {
    c.out << "team " << t.team();
  } else {
    c.out << absl::StrJoin(t.participants(), ", ");
  }
  if (!t.escalation_id().empty()) c.out << "  (" << t.escalation_id() << ")";
  c.out << "  " << t.last_seq() << " messages, " << t.unread_count() << " unread\n";
}

int Threads(Cli& c, const Args&) {
  v1::ListThreadsRequest r;
  r.set_page_size(100);
  auto resp = c.Timed("threads", [&] { return c.client().ListThreads(r); });
  if (!resp.ok()) return c.Fail(resp.status());
  if (c.json) {
    c.PrintJson(*resp);
    return kOk;
  }
  if (resp->threads().empty()) c.out << "no threads\n";
  for (const auto& t : resp->threads()) PrintThread(c, t);
  return kOk;
}

int Open(Cli& c, const Args& a) {
  if (a.Has("with") == a.Has("team")) return c.Usage("open needs --with PERSON or --team TEAM");
  auto t = c.Timed("open", [&] {
    return a.Has("with") ? c.client().OpenDirectThread(a.Get("with"))
                         : c.client().OpenTeamThread(a.Get("team"));
  });
  if (!t.ok()) return c.Fail(t.status());
  if (a.Has("quiet")) {
    c.out << t->id() << "\n";
  } else {
    PrintThread(c, *t);
  }
  return kOk;
}

int Join(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("join needs a thread (or escalation) id");
  auto thread = ThreadOf(c, a.positional()[0]);
  if (!thread.ok()) return c.Fail(thread.status());
  auto t = c.Timed("join", [&] { return c.client().JoinThread(*thread); });
  if (!t.ok()) return c.Fail(t.status());
  PrintThread(c, *t);
  return kOk;
}

// `edit THREAD SEQ TEXT...` and `delete THREAD SEQ`.
int ChangeMessage(Cli& c, const Args& a, bool remove) {
  if (a.positional().size() < (remove ? 2u : 3u)) {
    return c.Usage(remove ? "delete needs a thread and a message number"
                          : "edit needs a thread, a message number and the new text");
  }
  int64_t seq = 0;
  if (!absl::SimpleAtoi(a.positional()[1], &seq)) return c.Usage("the message number is #N");
  auto thread = ThreadOf(c, a.positional()[0]);
  if (!thread.ok()) return c.Fail(thread.status());
  const std::string text = absl::StrJoin(a.positional().begin() + 2, a.positional().end(), " ");
  auto m = c.Timed(remove ? "delete" : "edit", [&] {
    return remove ? c.client().DeleteMessage(*thread, seq)
                  : c.client().EditMessage(*thread, seq, text);
  });
  if (!m.ok()) return c.Fail(m.status());
  if (c.json) {
    c.PrintJson(*m);
  } else {
    c.out << m->thread_id() << " #" << m->seq() << (m->deleted() ? " deleted" : " edited") << "\n";
  }
  return kOk;
}

int Edit(Cli& c, const Args& a) { return ChangeMessage(c, a, false); }
int Delete(Cli& c, const Args& a) { return ChangeMessage(c, a, true); }

int Read(Cli& c, const Args& a) {
  if (a.positional().empty() || a.positional().size() > 2) {
    return c.Usage("read needs a thread (or escalation) id, and optionally up to which #N");
  }
  auto thread = ThreadOf(c, a.positional()[0]);
  if (!thread.ok()) return c.Fail(thread.status());
  int64_t seq = 0;
  if (a.positional().size() == 2) {
    if (!absl::SimpleAtoi(a.positional()[1], &seq)) return c.Usage("the message number is #N");
  } else {
    auto t = c.client().GetThread(*thread);
    if (!t.ok()) return c.Fail(t.status());
    seq = t->last_seq();
  }
  auto t = c.Timed("read", [&] { return c.client().MarkRead(*thread, seq); });
  if (!t.ok()) return c.Fail(t.status());
  PrintThread(c, *t);
  return kOk;
}

// Marks a knowledge-base hit helpful or not: `rate THREAD SEQ helpful|not-helpful`.
int Rate(Cli& c, const Args& a) {
  if (a.positional().size() != 3) {
    return c.Usage("rate needs a thread (or escalation) id, the hit's #N and helpful|not-helpful");
  }
  auto thread = ThreadOf(c, a.positional()[0]);
  if (!thread.ok()) return c.Fail(thread.status());
  int64_t seq = 0;
  if (!absl::SimpleAtoi(absl::StripPrefix(a.positional()[1], "#"), &seq)) {
    return c.Usage("the hit's number is #N, as history shows it");
  }
  const std::string& verdict = a.positional()[2];
  if (verdict != "helpful" && verdict != "not-helpful") {
    return c.Usage("say helpful or not-helpful");
  }
  auto r = c.Timed("rate",
                   [&] { return c.client().RateKnowledgeHit(*thread, seq, verdict == "helpful"); });
  if (!r.ok()) return c.Fail(r.status());
  if (c.json) {
    c.PrintJson(*r);
    return kOk;
  }
  c.out << "#" << r->seq() << ": " << r->helpful() << " helpful, " << r->not_helpful()
        << " not helpful\n";
  return kOk;
}

// Prints events of the caller's stream. Stops after --count events, after --for seconds, or at
// the first event of kind --until (exit 8 if it did not come in time). The stream is an
// EventFeed: once connected it reconnects by itself and prints what it missed, once; a server
// that cannot be reached at the start is an error (exit 7).
int Watch(Cli& c, const Args& a) {
  auto limit = ParseSeconds(a, "for", 0);
  if (!limit.ok()) return c.Usage(std::string(limit.status().message()));
  int count = 0;
  if (a.Has("count") && !absl::SimpleAtoi(a.Get("count"), &count)) {
    return c.Usage("--count takes a number");
  }
  const std::string until = a.Get("until");
  if (!until.empty() && until != "offer" && until != "message" && until != "escalation") {
    return c.Usage("--until: offer, message or escalation");
  }
  FeedOptions options;
  options.after_cursor = a.Get("cursor");
  std::unique_ptr<EventFeed> feed = c.client().OpenFeed(options);
  const absl::Time end =
      *limit > absl::ZeroDuration() ? absl::Now() + *limit : absl::InfiniteFuture();
  int seen = 0;
  bool connected = false;
  while (absl::Now() < end) {
    auto item = feed->Next(std::min(end - absl::Now(), absl::Seconds(1)));
    if (!item.ok()) return c.Fail(item.status());
    if (!item->has_value()) continue;
    if ((*item)->is_state()) {
      const FeedStateChange& change = (*item)->state;
      switch (change.state) {
        case FeedState::kConnected:
          if (connected)
            c.err << "backline: connected again; the events missed meanwhile are above\n";
          connected = true;
          break;
        case FeedState::kReconnecting:
          // Never connected: the server is not there (or refuses us); say so now.
          if (!connected) return c.Fail(change.error);
          if (change.attempt == 1) {
            const std::string reason = tray::TransportFailure(change.error.message());
            c.err << "backline: lost the connection to " << c.settings.target << " ("
                  << (reason.empty() ? std::string(change.error.message()) : reason)
                  << "); reconnecting\n";
          }
          break;
        case FeedState::kStopped:
          return c.Fail(change.error);
        case FeedState::kConnecting:
          break;
      }
      continue;
    }
    const v1::Event& e = (*item)->event;
    if (c.timing && e.has_time()) {
      const double ms = absl::ToDoubleMilliseconds(
          absl::Now() - absl::FromUnixMillis(TimeUtil::TimestampToMilliseconds(e.time())));
      c.err << "delivered " << absl::StrFormat("%.2f", ms) << " ms after it was recorded\n";
    }
    const bool match = (until == "offer" && e.has_offer()) ||
                       (until == "message" && e.has_message_posted()) ||
                       (until == "escalation" && e.has_escalation_updated());
    if (a.Has("quiet") && until == "offer") {
      if (match) c.out << e.offer().escalation().id() << "\n";
    } else {
      c.PrintEvent(e);
    }
    ++seen;
    if (match || (count > 0 && seen >= count)) return kOk;
  }
  if (!until.empty()) {
    c.err << "backline: no " << until << " arrived within " << absl::FormatDuration(*limit) << "\n";
    return kTimeout;
  }
  return kOk;
}

int AdminToken(Cli& c, const Args& a) {
  // `--bot NAME` is `--subject NAME --role bot`.
  const bool bot = a.Has("bot");
  if (bot && (a.Has("subject") || a.Has("role"))) {
    return c.Usage("admin token: give --bot NAME, or --subject ID and --role ROLE");
  }
  const std::string subject = bot ? a.Get("bot") : a.Get("subject");
  const v1::Role role = bot ? v1::ROLE_BOT : ParseRole(a.Get("role"));
  if (subject.empty() || role == v1::ROLE_UNSPECIFIED) {
    return c.Usage(
        "admin token needs --subject ID and --role agent|senior|team_leader|"
        "supervisor|bot|admin (or --bot NAME)");
  }
  absl::Duration ttl = absl::Hours(12);
  if (a.Has("ttl") && !absl::ParseDuration(a.Get("ttl"), &ttl)) {
    return c.Usage("--ttl: a duration such as 12h or 30m");
  }
  std::string secret = Env("BACKLINE_TOKEN_SECRET");
  if (!c.settings.secret_file.empty()) {
    auto s = LoadTokenSecret(c.settings.secret_file);
    if (!s.ok()) return c.Fail(s.status());
    secret = *s;
  }
  if (secret.size() < 32) {
    return c.Usage(
        "admin token needs the server's signing secret: --secret-file FILE or "
        "BACKLINE_TOKEN_SECRET");
  }
  auto token = TokenCodec(secret).Issue({subject, role}, ttl, absl::Now());
  if (!token.ok()) return c.Fail(token.status());
  c.out << *token << "\n";
  return kOk;
}

int AdminRosterApply(Cli& c, const Args& a) {
  if (a.positional().size() != 1) return c.Usage("admin roster apply needs a roster file");
  const std::string path = a.positional()[0];
  std::ifstream in(path);
  if (!in) return c.Fail(absl::NotFoundError(absl::StrCat("cannot read ", path)));
  std::stringstream ss;
  ss << in.rdbuf();
  auto file = ParseRosterFile(ss.str());
  if (!file.ok()) {
    return c.Fail(absl::InvalidArgumentError(absl::StrCat(path, " ", file.status().message())));
  }
  file->request.set_dry_run(a.Has("dry-run"));
  auto resp = c.Timed("roster apply", [&] { return c.client().ApplyRoster(file->request); });
  if (!resp.ok()) {
    return c.Fail(absl::Status(resp.status().code(),
                               WithLineNumbers(std::string(resp.status().message()), *file, path)));
  }
  if (c.json) {
    c.PrintJson(*resp);
    return kOk;
  }
  for (const auto& id : resp->added()) c.out << "+ " << id << "\n";
  for (const auto& change : resp->changes()) {
    c.out << "~ " << change.id() << " (" << absl::StrJoin(change.fields(), ", ") << ")\n";
  }
  for (const auto& id : resp->removed()) c.out << "- " << id << "\n";
  c.out << (resp->dry_run() ? "would apply: " : "applied: ") << resp->added_size() << " added, "
        << resp->updated_size() << " updated, " << resp->removed_size() << " removed, "
        << resp->unchanged() << " unchanged\n";
  return kOk;
}

int Tray(Cli& c, const Args& a) {
  if (!a.positional().empty()) return c.Usage("tray takes no arguments");
  tray::ReserveResizeSignal();  // before the client starts its threads
  // Who the token names, and whether the server answers, before taking over the terminal.
  auto me = c.client().GetPresence();
  if (!me.ok()) return c.Fail(me.status());
  auto screen = tray::TrayScreen::Open();
  if (!screen.ok()) {
    c.err << "backline: " << screen.status().message() << "\n";
    return kUsage;
  }
  absl::Status ended = tray::RunTray(c.client(), *me, std::move(*screen));
  if (!ended.ok()) return c.Fail(ended);
  return kOk;
}

int Completion(Cli& c, const Args& a);

const std::vector<Command>& Commands() {
  static const auto* const commands = new std::vector<Command>{
      {"presence set",
       "STATUS [--reason R] [--person ID]",
       "set your status: available, on_call, wrap_up, break, meeting, offline",
       {"reason", "person"},
       {},
       PresenceSet},
      {"presence get",
       "[PERSON]",
       "show a person's presence (yours by default)",
       {},
       {},
       PresenceGet},
      {"presence watch",
       "[--site S] [--team T] [--person ID]... [--for SECONDS]",
       "follow the presence of your site, team or mentor (or those named)",
       {"site", "team", "person", "for"},
       {},
       PresenceWatch},
      {"person", "ID", "show a person of the roster", {}, {}, Person},
      {"people",
       "[--team T] [--site S] [--skill S [--level N]] [--lang L] [--role R]",
       "list people of the roster",
       {"team", "site", "skill", "level", "lang", "role"},
       {},
       People},
      {"who",
       "--skill S [--level N] [--lang L]",
       "who can be offered work now for a skill (and language)",
       {"skill", "level", "lang"},
       {},
       Who},
      {"ask",
       "--skill S[:LEVEL]... --lang L [--priority P] [--tried T] [--call-id C] QUESTION",
       "escalate a question to a senior",
       {"skill", "lang", "priority", "tried", "call-id"},
       {"quiet"},
       Ask},
      {"show", "ESCALATION", "show an escalation", {}, {}, Show},
      {"offers",
       "[--limit N]",
       "the offers waiting for your answer, soonest deadline first",
       {"limit"},
       {},
       Offers},
      {"escalations",
       "[--limit N]",
       "your open escalations: those you asked, help with or were invited to",
       {"limit"},
       {},
       Escalations},
      {"queue",
       "[--limit N]",
       "the open escalations of your site (supervisors) or team (team leaders), oldest first",
       {"limit"},
       {},
       Queue},
      {"accept", "ESCALATION", "accept the offer of an escalation", {}, {"quiet"}, Accept},
      {"decline", "ESCALATION [--reason R]", "decline an offer", {"reason"}, {}, Decline},
      {"cancel", "ESCALATION [--reason R]", "withdraw your escalation", {"reason"}, {}, Cancel},
      {"resolve",
       "ESCALATION [--note N]",
       "mark an accepted escalation solved",
       {"note"},
       {},
       Resolve},
      {"reopen",
       "ESCALATION [--reason R]",
       "reopen a resolved escalation (back to its helper if available)",
       {"reason"},
       {},
       Reopen},
      {"transfer",
       "ESCALATION --skill S[:LEVEL]... [--reason R]",
       "hand your accepted escalation back to the queue, needing other skills",
       {"skill", "reason"},
       {},
       Transfer},
      {"invite",
       "ESCALATION PERSON",
       "bring another expert into an accepted escalation's thread",
       {},
       {},
       Invite},
      {"waiting",
       "[--limit N]",
       "escalations waiting for a helper that you could take (* best match)",
       {"limit"},
       {},
       Waiting},
      {"take",
       "ESCALATION [--quiet]",
       "take a waiting escalation (as if you accepted its offer)",
       {},
       {"quiet"},
       Take},
      {"explain",
       "ESCALATION",
       "who routing considered for an escalation, and why",
       {},
       {},
       Explain},
      {"stats",
       "[--window DURATION] [--site S]",
       "service-level figures per skill and team (supervisors; window e.g. 1h, 30m)",
       {"window", "site"},
       {},
       Stats},
      {"threads", "", "list your threads with unread counts", {}, {}, Threads},
      {"open",
       "--with PERSON | --team TEAM",
       "open a direct thread, or your team's thread",
       {"with", "team"},
       {"quiet"},
       Open},
      {"join",
       "THREAD|ESCALATION",
       "join an escalation thread of your site (supervisors)",
       {},
       {},
       Join},
      {"edit", "THREAD|ESCALATION SEQ TEXT...", "replace the text of your message", {}, {}, Edit},
      {"delete", "THREAD|ESCALATION SEQ", "delete your message", {}, {}, Delete},
      {"read", "THREAD|ESCALATION [SEQ]", "mark the thread read (up to SEQ)", {}, {}, Read},
      {"rate",
       "THREAD|ESCALATION SEQ helpful|not-helpful",
       "mark a knowledge-base hit helpful or not",
       {},
       {},
       Rate},
      {"say",
       "THREAD|ESCALATION TEXT... (or - for stdin)",
       "post a message",
       {"client-msg-id"},
       {},
       Say},
      {"history",
       "THREAD|ESCALATION [--after SEQ] [--limit N]",
       "show a thread's messages",
       {"after", "limit"},
       {},
       History},
      {"watch",
       "[--cursor C] [--for SECONDS] [--count N] [--until offer|message|escalation]",
       "print your events as they happen",
       {"cursor", "for", "count", "until"},
       {"quiet"},
       Watch},
      {"tray",
       "",
       "full-screen tray: live offers with a countdown, threads with unread counts, replies\n"
       "      keys: a accept, d decline, up/down select, Enter open (in a thread: send), Esc\n"
       "      back, 1 available 2 on call 3 wrap-up 4 break 5 meeting 0 offline, r reload, q quit\n"
       "      in an escalation's thread: /resolve [note], /transfer SKILL[:LEVEL]..., /invite "
       "PERSON",
       {},
       {},
       Tray},
      {"completion",
       "bash",
       "print the bash completion script: source <(backline completion bash)",
       {},
       {},
       Completion},
      {"admin token",
       "--subject ID --role ROLE | --bot NAME [--ttl 12h]",
       "issue a token (needs the signing secret)",
       {"subject", "role", "bot", "ttl"},
       {},
       AdminToken},
      {"admin roster apply",
       "FILE [--dry-run]",
       "replace the roster with a JSON Lines file (admins)",
       {},
       {"dry-run"},
       AdminRosterApply},
  };
  return *commands;
}

// Values the completion offers after an option (file names for "FILE").
const std::map<std::string, std::string>& FlagValues() {
  static const auto* const values = new std::map<std::string, std::string>{
      {"role", "agent senior team_leader supervisor bot admin"},
      {"priority", "normal high urgent"},
      {"until", "offer message escalation"},
      {"token-file", "FILE"},
      {"config", "FILE"},
      {"secret-file", "FILE"},
  };
  return *values;
}

// Values the completion offers as a command's first argument.
const std::map<std::string, std::string>& ArgumentValues() {
  static const auto* const values = new std::map<std::string, std::string>{
      {"presence set", "available on_call wrap_up break meeting offline"},
      {"admin roster apply", "FILE"},
      {"completion", "bash"},
  };
  return *values;
}

std::string FlagWords(const std::set<std::string>& flags) {
  std::vector<std::string> words;
  for (const std::string& f : flags) words.push_back("--" + f);
  return absl::StrJoin(words, " ");
}

// `compgen` of a list of words, or of file names for "FILE".
std::string CompgenOf(const std::string& values) {
  return values == "FILE" ? "compgen -f -- \"$cur\""
                          : absl::StrCat("compgen -W \"", values, "\" -- \"$cur\"");
}

// The bash completion script, made from the command table so that it never falls behind:
// command words, each command's options, and the values of options and arguments that have
// a fixed set. It reads the line itself (COMP_LINE), so host:port and --name=value words are
// not split the way bash splits COMP_WORDS.
void PrintBashCompletion(std::ostream& out) {
  std::set<std::string> value_flags = kGlobalValueFlags;
  std::map<std::string, std::set<std::string>> next_words;  // "" -> first words, "admin" -> ...
  for (const Command& cmd : Commands()) {
    value_flags.insert(cmd.value_flags.begin(), cmd.value_flags.end());
    std::vector<std::string> parts = absl::StrSplit(cmd.name, ' ');
    std::string prefix;
    for (const std::string& part : parts) {
      next_words[prefix].insert(part);
      prefix = prefix.empty() ? part : absl::StrCat(prefix, " ", part);
    }
  }
  next_words[""].insert("help");
  std::set<std::string> plain_value_flags = value_flags;
  for (const auto& [flag, values] : FlagValues()) plain_value_flags.erase(flag);

  out << "# bash completion for backline. Load it with: source <(backline completion bash)\n"
         "# or install it: backline completion bash > "
         "/usr/share/bash-completion/completions/backline\n"
         "_backline() {\n"
         "  local line=${COMP_LINE:0:COMP_POINT} cur words=() cmd i w\n"
         "  read -ra words <<<\"$line\"\n"
         "  if [[ $line == *[[:space:]] || ${#words[@]} -le 1 ]]; then cur=''; else\n"
         "    cur=${words[-1]}; unset 'words[-1]'; fi\n"
         "  COMPREPLY=()\n"
         "  [[ $cur == *[=:]* ]] && return 0\n"
         "  local prev=${words[-1]}\n"
         "  case $prev in\n";
  for (const auto& [flag, values] : FlagValues()) {
    out << "    --" << flag << ") COMPREPLY=($(" << CompgenOf(values) << ")); return 0 ;;\n";
  }
  out << "    " << absl::StrJoin(absl::StrSplit(FlagWords(plain_value_flags), ' '), "|")
      << ") return 0 ;;\n"
         "  esac\n"
         "  # The command words typed so far: not options, nor the values of options.\n"
         "  cmd=''\n"
         "  for ((i = 1; i < ${#words[@]}; i++)); do\n"
         "    w=${words[i]}\n"
         "    case $w in\n"
         "      --*=*) ;;\n"
         "      "
      << absl::StrJoin(absl::StrSplit(FlagWords(value_flags), ' '), "|")
      << ") ((i++)) ;;\n"
         "      -*) ;;\n"
         "      *) cmd=${cmd:+$cmd }$w ;;\n"
         "    esac\n"
         "  done\n"
         "  if [[ $cur == -* ]]; then\n"
         "    local flags='"
      << FlagWords(kGlobalValueFlags) << " " << FlagWords(kGlobalBoolFlags)
      << "'\n"
         "    case \"$cmd \" in\n";
  // Longest names first, so that "admin roster apply" wins over "admin".
  std::vector<const Command*> by_length;
  for (const Command& cmd : Commands()) by_length.push_back(&cmd);
  std::stable_sort(by_length.begin(), by_length.end(), [](const Command* a, const Command* b) {
    return a->name.size() > b->name.size();
  });
  for (const Command* cmd : by_length) {
    std::set<std::string> flags = cmd->value_flags;
    flags.insert(cmd->bool_flags.begin(), cmd->bool_flags.end());
    if (flags.empty()) continue;
    out << "      \"" << cmd->name << " \"*) flags+=' " << FlagWords(flags) << "' ;;\n";
  }
  out << "    esac\n"
         "    COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
         "    return 0\n"
         "  fi\n"
         "  case $cmd in\n";
  for (const auto& [prefix, words] : next_words) {
    out << "    \"" << prefix << "\") COMPREPLY=($(compgen -W \"" << absl::StrJoin(words, " ")
        << "\" -- \"$cur\")) ;;\n";
  }
  for (const auto& [command, values] : ArgumentValues()) {
    out << "    \"" << command << "\") COMPREPLY=($(" << CompgenOf(values) << ")) ;;\n";
  }
  out << "  esac\n"
         "  return 0\n"
         "}\n"
         "complete -o filenames -F _backline backline\n";
}

int Completion(Cli& c, const Args& a) {
  if (a.positional().size() != 1 || a.positional()[0] != "bash") {
    return c.Usage("completion needs the shell: backline completion bash");
  }
  PrintBashCompletion(c.out);
  return kOk;
}

void PrintHelp(std::ostream& out) {
  out << "backline — Backline escalation and messaging from the command line\n\n"
         "usage: backline [global options] COMMAND [arguments]\n\ncommands:\n";
  for (const Command& cmd : Commands()) {
    out << "  " << cmd.name << " " << cmd.usage << "\n      " << cmd.summary << "\n";
  }
  out << "\nglobal options:\n"
         "  --target HOST:PORT   server (env BACKLINE_TARGET; default 127.0.0.1:7400)\n"
         "  --token T            bearer token (env BACKLINE_TOKEN)\n"
         "  --token-file F       read the token from a file (env BACKLINE_TOKEN_FILE)\n"
         "  --config F           settings file (env BACKLINE_CONFIG; default\n"
         "                       ~/.config/backline/config with target=, token=, token_file=,\n"
         "                       secret_file= lines)\n"
         "  --secret-file F      signing secret, for admin token (env\n"
         "                       BACKLINE_TOKEN_SECRET_FILE or BACKLINE_TOKEN_SECRET)\n"
         "  --timeout SECONDS    deadline of each call (default 5)\n"
         "  --json               machine-readable output\n"
         "  --timing             print each call's round trip to stderr\n"
         "\nexit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 not authenticated or not allowed,\n"
         "  5 wrong state (conflict), 6 invalid input, 7 server unreachable or too slow,\n"
         "  8 waited in vain\n";
}

}  // namespace

int RunCli(const std::vector<std::string>& words, std::ostream& out, std::ostream& err) {
  Cli cli(out, err);
  // Find the longest command name that the leading positional words spell. Words that are the
  // values of options are not positional.
  std::set<std::string> any_value_flag = kGlobalValueFlags;
  for (const Command& cmd : Commands()) {
    any_value_flag.insert(cmd.value_flags.begin(), cmd.value_flags.end());
  }
  std::vector<std::string> positional;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (!absl::StartsWith(w, "--")) {
      positional.push_back(w);
    } else if (w.find('=') == std::string::npos && any_value_flag.count(w.substr(2)) > 0) {
      ++i;
    }
  }
  const Command* match = nullptr;
  size_t match_words = 0;
  for (const Command& cmd : Commands()) {
    std::vector<std::string> parts = absl::StrSplit(cmd.name, ' ');
    if (parts.size() <= positional.size() && parts.size() > match_words &&
        std::equal(parts.begin(), parts.end(), positional.begin())) {
      match = &cmd;
      match_words = parts.size();
    }
  }
  const bool wants_help = std::find(words.begin(), words.end(), "--help") != words.end() ||
                          std::find(words.begin(), words.end(), "-h") != words.end() ||
                          words.empty() || (positional.size() == 1 && positional[0] == "help");
  if (match == nullptr) {
    if (wants_help) {
      PrintHelp(out);
      return kOk;
    }
    err << "backline: unknown command \"" << absl::StrJoin(positional, " ")
        << "\" (run backline --help for the list)\n";
    return kUsage;
  }
  if (wants_help) {
    out << "usage: backline " << match->name << " " << match->usage << "\n  " << match->summary
        << "\n";
    return kOk;
  }
  std::set<std::string> value_flags = kGlobalValueFlags;
  value_flags.insert(match->value_flags.begin(), match->value_flags.end());
  std::set<std::string> bool_flags = kGlobalBoolFlags;
  bool_flags.insert(match->bool_flags.begin(), match->bool_flags.end());
  // Drop the command words from the positional arguments.
  std::vector<std::string> rest;
  size_t skipped = 0;
  bool in_value = false;
  for (const std::string& w : words) {
    if (in_value) {
      rest.push_back(w);
      in_value = false;
      continue;
    }
    if (absl::StartsWith(w, "--")) {
      rest.push_back(w);
      in_value = w.find('=') == std::string::npos && value_flags.count(w.substr(2)) > 0;
      continue;
    }
    if (skipped < match_words) {
      ++skipped;
      continue;
    }
    rest.push_back(w);
  }
  auto args = Args::Parse(rest, value_flags, bool_flags);
  if (!args.ok()) return cli.Usage(std::string(args.status().message()));
  if (absl::Status st = cli.Configure(*args); !st.ok()) return cli.Usage(std::string(st.message()));
  return match->run(cli, *args);
}

}  // namespace backline::cli
