/**
 * `audit` tunes V8 for a short run (src/toolchain/v8-tiering.ts, one call that
 * sets both flags). The modules run on V8's baseline wasm compiler only: V8's
 * own trace of the audit process lists every module function compiled with
 * Liftoff and none with TurboFan, while the audit still judges what the
 * policies' JavaScript judges. A control shows the trace does name TurboFan
 * when V8 tiers a hot function up, so the absence is not the trace's silence.
 * And JavaScript waits four times longer for TurboFan: the same hot function,
 * traced, is marked for optimization after ~4× the calls once the call is made.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, wasmPath } from "../helpers.js";
import { SHORT_RUN_INTERRUPT_BUDGET } from "../../src/toolchain/v8-tiering.js";

let scratch: string;
beforeAll(() => (scratch = mkdtempSync(join(tmpdir(), "lpp-baseline-"))));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Lines of V8's compilation trace ("Compiled function …#N using Liftoff|TurboFan, took …"), by compiler. */
function compiledWith(trace: string): { liftoff: number; turbofan: number } {
  const lines = trace.split("\n").filter((l) => l.startsWith("Compiled function "));
  return { liftoff: lines.filter((l) => / using Liftoff,/.test(l)).length, turbofan: lines.filter((l) => / using TurboFan,/.test(l)).length };
}

describe("audit compiles the modules with V8's baseline compiler only", () => {
  it("no module function is compiled by TurboFan, and the policies' JavaScript still judges every object", () => {
    const report = join(scratch, "report.json");
    // The report goes to a file: V8 writes its trace to stdout.
    const r = spawnSync(process.execPath, ["--trace-wasm-compilation-times", join(ROOT, "bin", "loopback-probes.js"), "audit", "--policy", wasmPath("reject-loopback-probes"), "-f", "json", "-o", report, join(ROOT, "examples")], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.status, r.stderr).toBe(1);
    const compiled = compiledWith(r.stdout);
    // V8 compiles a function when it first runs: how many depends on what ran (82 and 130 seen), never none.
    expect(compiled.liftoff).toBeGreaterThan(0);
    expect(compiled.turbofan).toBe(0);
    // Findings come from the JavaScript analysis (the native pre-check only ever accepts): it ran.
    const json = JSON.parse(readFileSync(report, "utf8")) as { summary: { fail: number } };
    expect(json.summary.fail).toBeGreaterThan(0);
  });

  it("control: the same trace names TurboFan when V8 tiers up a hot function in a process that does not ask otherwise", () => {
    // (func (export "f") (param i32) (result i32) (local i32) sum of n..1 in a loop), called until V8 tiers it up.
    const module = [
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x23, 0x01, 0x21, 0x01, 0x01,
      0x7f, 0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x45, 0x0d, 0x01, 0x20, 0x01, 0x20, 0x00, 0x6a, 0x21, 0x01, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x01, 0x0b,
    ];
    const script = `
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(${JSON.stringify(module)})));
      if (exports.f(4) !== 10) throw new Error("the control module computes the wrong sum");
      const until = Date.now() + 500;
      // Hot until its TurboFan code is in (the trace line is printed when the background compile ends).
      const tick = () => { for (let i = 0; i < 50; i++) exports.f(100000); if (Date.now() < until) setTimeout(tick, 1); };
      tick();`;
    const r = spawnSync(process.execPath, ["--trace-wasm-compilation-times", "-e", script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(compiledWith(r.stdout).turbofan).toBeGreaterThan(0);
  });
});

describe("JavaScript is optimized later (the interrupt budget)", () => {
  /** Calls of a small hot function made before V8's trace marks it for TurboFan (counted in steps of 250). */
  const callsBeforeMarking = (tune: boolean): number => {
    const tiering = JSON.stringify(join(ROOT, "src", "toolchain", "v8-tiering.ts"));
    const script = `
      ${tune ? `(await import(${tiering})).tierForShortRuns();` : ""}
      function hot(a) { let s = 0; s += a * 3; s ^= a >> 1; s += (a & 7) * 11; s -= a % 5; return s + 1; }
      let total = 0;
      for (let i = 1; i <= 40000; i++) { total += hot(i); if (i % 250 === 0) console.log("calls " + i); }`;
    // No on-stack replacement: the loop around the calls is not what the trace should show.
    const r = spawnSync(process.execPath, ["--import", "tsx", "--trace-opt", "--no-use-osr", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    let calls = 0;
    for (const line of r.stdout.split("\n")) {
      if (line.startsWith("calls ")) calls = Number(line.slice(6));
      else if (/^\[marking .*<JSFunction hot /.test(line)) return calls;
    }
    throw new Error(`the trace never marked the function:\n${r.stdout.slice(-2000)}`);
  };

  it("the hot function is marked after about 4× the calls (1,000 → 4,500 seen)", () => {
    expect(SHORT_RUN_INTERRUPT_BUDGET).toBe(4 * 67584);
    const before = callsBeforeMarking(false);
    const after = callsBeforeMarking(true);
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThanOrEqual(3 * before);
  });
});
