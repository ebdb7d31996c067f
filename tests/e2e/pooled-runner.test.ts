/**
 * The pooled runner (instance reuse with memory and globals restored) must
 * answer exactly as the reference node:wasi runner with a fresh instance per
 * evaluation, including after runs that trap, exit or grow memory (those
 * instances are discarded, never restored).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compilePooled, PooledModule } from "../../src/toolchain/pooled-runner.js";
import { compileModule, runWasi } from "../../src/toolchain/wasi-runner.js";
import { ROOT, wasmBytes } from "../helpers.js";

const decoder = new TextDecoder();
const POLICIES = ["reject-loopback-probes", "rewrite-loopback-probes"] as const;

function inputs(policy: string): { label: string; action: string; stdin: Uint8Array }[] {
  const enc = (s: string) => new TextEncoder().encode(s);
  const dir = join(ROOT, "policies", policy, "test_data");
  const out = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => ({ label: f, action: "validate", stdin: enc(JSON.stringify({ request: JSON.parse(readFileSync(join(dir, f), "utf8")) as unknown, settings: {} })) }));
  out.push(
    { label: "bad settings", action: "validate-settings", stdin: enc('{"bogus":1}') },
    { label: "good settings", action: "validate-settings", stdin: enc("{}") },
    { label: "not JSON", action: "validate", stdin: enc("{") },
    { label: "empty", action: "validate", stdin: enc("") },
    { label: "unknown action", action: "frobnicate", stdin: enc("{}") },
    // A 4 MB string makes the engine grow memory: that instance must be discarded.
    { label: "memory growth", action: "validate", stdin: enc(JSON.stringify({ request: { uid: "u", operation: "CREATE", object: { kind: "Pod", metadata: { name: "x".repeat(4 << 20) }, spec: {} } } })) },
  );
  return out;
}

describe("pooled runner", () => {
  for (const policy of POLICIES) {
    it(`${policy}: same answers as fresh node:wasi instances, in order and shuffled, over reused instances`, async () => {
      const fresh = await compileModule(wasmBytes(policy));
      const pooled = new PooledModule(await compilePooled(wasmBytes(policy)));
      const cases = inputs(policy);
      const expected = new Map<string, string>();
      for (const c of cases) {
        const r = await runWasi(fresh, c.action, c.stdin);
        expected.set(c.label, `${r.exitCode}|${decoder.decode(r.stdout)}`);
      }
      // Twice through, the second time reversed: state left by one run must never leak into the next.
      let reused = 0;
      for (const c of [...cases, ...[...cases].reverse()]) {
        const r = pooled.run(c.action, c.stdin);
        if (r.reused) reused++;
        expect(`${r.exitCode}|${decoder.decode(r.stdout)}`, c.label).toBe(expected.get(c.label));
      }
      expect(reused).toBeGreaterThan(cases.length);
      // The memory-growth run forces a new instance after it, each time.
      expect(pooled.instantiations).toBeGreaterThanOrEqual(3);
    });
  }
});
