#include "bench/proc_stats.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace backline::bench {
namespace {

// The number after `field` in /proc/<pid>/status (kB for memory fields), 0 if absent.
long StatusField(int pid, const std::string& field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) {
      long value = 0;
      std::istringstream(line.substr(field.size())) >> value;
      return value;
    }
  }
  return 0;
}

}  // namespace

long ResidentKiB(int pid) { return StatusField(pid, "VmRSS:"); }
long PeakResidentKiB(int pid) { return StatusField(pid, "VmHWM:"); }
int ThreadCount(int pid) { return static_cast<int>(StatusField(pid, "Threads:")); }

double CpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) stime = std::stol(f);
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

MachineCpu MachineCpuSeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  if (cpu != "cpu") return {};
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return {(user + nice + system + irq + softirq + steal) / tick, steal / tick};
}

int Cores() { return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)); }

}  // namespace backline::bench
