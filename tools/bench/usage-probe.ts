// Preloaded into a measured tick (`node --import`): when the process exits, it writes its peak
// resident set size (getrusage's ru_maxrss, KiB) and the CPU time it used (user + system, µs)
// to file descriptor 3, a pipe the benchmark opened for it. Nothing else of the tick changes,
// and its stdout and stderr stay its own.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const usage = process.resourceUsage();
  try {
    writeSync(
      3,
      JSON.stringify({ maxRssKb: usage.maxRSS, cpuUs: usage.userCPUTime + usage.systemCPUTime }),
    );
  } catch {
    // No fd 3: the process was not started by the benchmark, which is not an error.
  }
});
