/**
 * Timing modules against each other in turns: round i runs every module once
 * before round i + 1 runs any, starting with a different module each round, so
 * a slow or fast stretch of the machine (frequency, a neighbour's load) falls on
 * all of them alike and their ratios hold. Measured one module after the other,
 * the same modules' wasmtime ratio moved between 1.3× and 3.6× from run to run.
 */

/**
 * `warmup + rounds` rounds of `runs`; per run, its results after the warm-up
 * rounds. A run that answers "stop" (it hit a deadline) is not run again.
 */
export async function inTurns<R>(runs: readonly (() => Promise<R | "stop">)[], rounds: number, warmup: number): Promise<{ results: R[]; stopped: boolean }[]> {
  const out = runs.map(() => ({ results: [] as R[], stopped: false }));
  for (let i = 0; i < warmup + rounds; i++)
    for (let k = 0; k < runs.length; k++) {
      const j = (i + k) % runs.length;
      if (out[j]!.stopped) continue;
      const r = await runs[j]!();
      if (r === "stop") out[j]!.stopped = true;
      else if (i >= warmup) out[j]!.results.push(r);
    }
  return out;
}
