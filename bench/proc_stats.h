// What a process costs, read from /proc/<pid>: resident memory, CPU time and threads. Used to
// report the servers' (and the load generator's own) memory and CPU next to the latencies.
#pragma once

#include <string>

namespace backline::bench {

// Resident set size now, and its peak (VmHWM), in KiB; 0 when the process is gone.
long ResidentKiB(int pid);
long PeakResidentKiB(int pid);
// CPU time (user + system) the process used so far, in seconds.
double CpuSeconds(int pid);
// Threads of the process now.
int ThreadCount(int pid);

// CPU time of the whole machine so far, in seconds, from /proc/stat: busy is every process
// (user, nice, system), interrupts (irq, softirq) and steal; steal alone is the time the
// hypervisor gave this machine's cores to other machines while it had work to run.
struct MachineCpu {
  double busy = 0;
  double steal = 0;
};
MachineCpu MachineCpuSeconds();
int Cores();

// A process watched over a window: CPU share of one core and memory at its end.
struct ProcessUsage {
  std::string label;
  int pid = 0;
  double cpu_start = 0;
  double cpu_end = 0;
  double seconds = 0;       // wall time of the window
  long rss_before_kib = 0;  // before the scenario connected anyone
  long rss_kib = 0;         // at the end of the window
  long peak_rss_kib = 0;
  int threads = 0;
  double CpuShare() const { return seconds > 0 ? (cpu_end - cpu_start) / seconds : 0; }
};

}  // namespace backline::bench
