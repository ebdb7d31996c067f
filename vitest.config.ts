import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Ensures the wasmtime engine exists (and reports the cross-engine comparisons at the end);
    // builds every policy and test policy once, with the real toolchain, before any test runs.
    globalSetup: ["tests/setup/wasmtime.ts", "tests/setup/build-modules.ts"],
    pool: "forks",
    // Node 20's WASI fast API calls can crash a process that runs many instances (nodejs/node#46777).
    execArgv: ["--no-turbo-fast-api-calls", "--disable-warning=ExperimentalWarning"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
