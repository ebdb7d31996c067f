/**
 * `bench --worst-case`: every adversarial shape of worst-case.ts at the API
 * server's request limit, under wasmtime as policy-server runs it. Instructions
 * come from a fuel run (exact, machine-independent); wall time and the deadline
 * from a run with the epoch deadline and no fuel, as policy-server configures wasmtime.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { MAX_ANSWER_BYTES } from "../kubewarden/bounded.js";
import { runWasmtime, WASMTIME_VERSION } from "../toolchain/wasmtime-runner.js";
import { buildPolicyOnly } from "./modules.js";
import { shapeCase } from "./worst-case.js";

/** Every shape in `selected` grown to `targetBytes`, under each policy of `policyDirs`; exit code 1 when one missed the deadline or answered over the limit. */
export async function benchWorstCase(policyDirs: readonly string[], selected: readonly string[], targetBytes: number, timeoutSeconds: number | null): Promise<number> {
  const modules: { name: string; bytes: Uint8Array }[] = [];
  for (const dir of policyDirs) modules.push({ name: basename(dir), bytes: new Uint8Array(readFileSync(await buildPolicyOnly(dir, (s) => console.error(s)))) });
  const deadline = timeoutSeconds === null ? "no deadline" : `${timeoutSeconds} s deadline`;
  console.log(`worst-case requests of at most ${targetBytes} bytes under wasmtime ${WASMTIME_VERSION}, ${deadline} (an interrupt after ${timeoutSeconds === null ? "—" : `${Math.max(0, timeoutSeconds - 1)}–${timeoutSeconds} s`}); answers limited to ${MAX_ANSWER_BYTES} bytes`);
  const header = `  ${"shape".padEnd(22)} ${"request B".padStart(9)} ${"instructions".padStart(15)} ${"instr/B".padStart(7)} ${"wall ms".padStart(8)} ${"answer B".padStart(8)}  ${"answer".padEnd(8)} deadline`;
  let failed = 0;
  for (const module of modules) {
    console.log(`\n${module.name}`);
    console.log(header);
    // Compile (cached) and warm up on a small request, so no row pays for it.
    await runWasmtime(module.bytes, "validate", shapeCase(selected[0]!, 2000).stdin, { timeoutSeconds });
    for (const shape of selected) {
      const { stdin } = shapeCase(shape, targetBytes);
      const counted = await runWasmtime(module.bytes, "validate", stdin, { fuel: true });
      const timed = await runWasmtime(module.bytes, "validate", stdin, { timeoutSeconds });
      const outOfFuel = counted.fuel === null || (counted.trap !== undefined && /fuel/i.test(counted.trap));
      const instructions = outOfFuel ? "> fuel budget" : counted.fuel!.toLocaleString("en-US");
      const perByte = outOfFuel ? "—" : (counted.fuel! / stdin.length).toFixed(0);
      // The answer as the fuel run gave it (no deadline): what policy-server would get in time on a faster machine.
      const answered = outOfFuel ? timed : counted;
      let verdict = "—";
      if (!answered.interrupted && answered.exitCode === 0) {
        try {
          const answer = JSON.parse(new TextDecoder().decode(answered.stdout)) as { accepted?: boolean; mutated_object?: unknown };
          verdict = answer.accepted === false ? "rejected" : answer.mutated_object !== undefined ? "mutated" : "accepted";
        } catch {
          verdict = "not JSON";
        }
      }
      const met = !timed.interrupted && timed.exitCode === 0 && timed.trap === undefined;
      const tooLarge = answered.stdout.length > MAX_ANSWER_BYTES;
      if (!met || tooLarge) failed++;
      const answerBytes = verdict === "—" ? "—" : String(answered.stdout.length);
      const status = timed.interrupted ? "MISSED: interrupted, policy-server answers 500" : met ? "met" : `FAILED: ${timed.trap ?? `exit ${timed.exitCode}`}`;
      console.log(`  ${shape.padEnd(22)} ${String(stdin.length).padStart(9)} ${instructions.padStart(15)} ${perByte.padStart(7)} ${timed.startMs.toFixed(0).padStart(8)} ${answerBytes.padStart(8)}${tooLarge ? "!" : " "} ${verdict.padEnd(8)} ${status}`);
    }
  }
  return failed === 0 ? 0 : 1;
}
