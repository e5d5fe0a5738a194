// Minimal structured logging to stderr: one line per record with time, level and message.
//
//   BL_LOG(INFO) << "listening on " << address;
#pragma once

#include <sstream>

namespace backline {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Records below this level are dropped (default kInfo; BACKLINE_LOG_LEVEL=debug|info|warning|
// error overrides it at start).
void SetMinLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);

class LogRecord {
 public:
  LogRecord(LogLevel level, const char* file, int line);
  ~LogRecord();
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

// Lets BL_LOG be one expression (safe in an unbraced if/else).
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace backline

#define BL_LOG_LEVEL_DEBUG ::backline::LogLevel::kDebug
#define BL_LOG_LEVEL_INFO ::backline::LogLevel::kInfo
#define BL_LOG_LEVEL_WARNING ::backline::LogLevel::kWarning
#define BL_LOG_LEVEL_ERROR ::backline::LogLevel::kError
#define BL_LOG(level)                           \
  !::backline::LogEnabled(BL_LOG_LEVEL_##level) \
      ? (void)0                                 \
      : ::backline::LogVoidify() &              \
            ::backline::LogRecord(BL_LOG_LEVEL_##level, __FILE__, __LINE__).stream()
