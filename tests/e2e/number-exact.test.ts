/**
 * mutated_object keeps every value the rewrite did not touch byte for byte
 * (policy-server diffs it against the request with serde: a parse/stringify
 * round trip would patch fields nobody changed). Raw bytes in, raw bytes out,
 * through the built module.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runRaw } from "../helpers.js";

const dataFile = (name: string) => readFileSync(join(ROOT, "policies", "rewrite-loopback-probes", "test_data", name), "utf8");
/** The value text of `"object": …` in a request file (two-space JSON as written by the generator). */
const objectTextOf = (mutatedAnswer: string) => mutatedAnswer.slice(mutatedAnswer.indexOf('"mutated_object":') + '"mutated_object":'.length, -1);

describe("rewrite-loopback-probes: untouched values stay as written", () => {
  it("an int64 beyond 2^53 in a Job survives the rewrite", async () => {
    const request = dataFile("job-big-numbers.json");
    const r = await runRaw("rewrite-loopback-probes", "validate", `{"request": ${request}, "settings": {}}`);
    expect(r.json.accepted).toBe(true);
    const mutated = objectTextOf(r.text);
    expect(mutated.match(/9007199254740993/g)).toHaveLength(2);
    expect(mutated).not.toContain("9007199254740992");
    // Everything before the rewritten probe is the request's own text, whitespace included.
    const start = request.indexOf('"object": ') + '"object": '.length;
    const head = request.slice(start, request.indexOf('"livenessProbe"', start));
    expect(mutated.startsWith(head)).toBe(true);
    expect(mutated).toContain('"activeDeadlineSeconds": 9007199254740993');
    expect(mutated).toContain("exec wget -q -O /dev/null http://127.0.0.1:9100/");
  });

  it("1e400, -0 and exponents elsewhere in the object are not re-spelled", async () => {
    const request = dataFile("argo-rollout-reloader-loopback.json")
      .replace('"setWeight": 20', '"setWeight": -0')
      .replace('"replicas": 2', '"replicas": 2, "x-huge": 1e400, "x-exp": 1.0E+2, "x-frac": 0.10');
    const r = await runRaw("rewrite-loopback-probes", "validate", `{"request": ${request}, "settings": {}}`);
    expect(r.json.accepted).toBe(true);
    const mutated = objectTextOf(r.text);
    for (const raw of ['"setWeight": -0', '"x-huge": 1e400', '"x-exp": 1.0E+2', '"x-frac": 0.10']) expect(mutated).toContain(raw);
    expect(mutated).toContain("exec curl --fail --globoff http://localhost:8080/healthz");
  });

  it("the answer is one JSON document and the probes really changed", async () => {
    const request = dataFile("job-big-numbers.json");
    const r = await runRaw("rewrite-loopback-probes", "validate", `{"request": ${request}, "settings": {}}`);
    const mutated = JSON.parse(objectTextOf(r.text));
    expect(mutated.spec.template.spec.containers[0].livenessProbe.exec.command[0]).toBe("sh");
  });
});
