// Preloaded (node --import) into a process `bench --corpus` starts, as a user
// runs the CLI: at exit, the main thread writes the process's peak resident set
// (getrusage maxrss, in KiB) to the file named by LPP_BENCH_PEAK_RSS_FILE.
// Node gives no child's rusage to its parent, and /usr/bin/time is not everywhere.
import { writeFileSync } from "node:fs";
import { isMainThread } from "node:worker_threads";

const file = process.env.LPP_BENCH_PEAK_RSS_FILE;
if (isMainThread && file) process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
