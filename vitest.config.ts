import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // 1. the wasmtime engine (created when missing; reports the cross-engine comparisons at the end),
    // 2. the other non-npm prerequisites (stops at once with the exact install commands),
    // 3. every policy and test policy built once, with the real toolchain, before any test runs.
    globalSetup: ["tests/setup/wasmtime.ts", "tests/setup/prerequisites.ts", "tests/setup/build-modules.ts"],
    pool: "forks",
    // One test file per core. Vitest's default is one fewer (a single file at a time on CI's
    // 2 cores), while the slow end-to-end files mostly wait on the processes they start (the
    // CLI, npm, registries, wasmtime): two at a time keep both cores busy. Each file has its own
    // temporary folders, ports and copies (package.test.ts packs a copy of the tree).
    maxWorkers: availableParallelism(),
    // Node 20's WASI fast API calls can crash a process that runs many instances (nodejs/node#46777).
    execArgv: ["--no-turbo-fast-api-calls", "--disable-warning=ExperimentalWarning"],
    // The long profile (npm run fuzz: FUZZ_RUNS=100000) runs for tens of minutes per property.
    testTimeout: process.env.FUZZ_RUNS === undefined ? 120_000 : 4 * 3600_000,
    hookTimeout: 300_000,
  },
});
