// The floor for benchmarks: the same protocol layer (read stdin, guard, parse,
// settings, answer) with a policy that decides nothing. A real policy's cost
// above this is the cost of its own logic.
import { definePolicy } from "../../kubewarden/policy.js";
import { accept } from "../../kubewarden/protocol.js";

definePolicy<Record<string, never>>({
  parseSettings: () => ({ ok: true, settings: {} }),
  validate: () => accept(),
});
