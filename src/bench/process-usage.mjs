// Preloaded (node --import) into a process `bench --corpus` starts, as a user
// runs the CLI: at exit, the main thread writes the process's peak resident set
// (getrusage maxrss, KiB) and the CPU time of all its threads so far (user +
// system, µs: worker threads and V8's own threads included, ended ones too) to
// the file named by LPP_BENCH_USAGE_FILE, as JSON. Node gives no child's
// rusage to its parent, and /usr/bin/time is not everywhere.
import { writeFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";

const file = process.env.LPP_BENCH_USAGE_FILE;
if (isMainThread && file)
  process.on("exit", () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKiB: usage.maxRSS, cpuMicroseconds: usage.userCPUTime + usage.systemCPUTime }));
  });
