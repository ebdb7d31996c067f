import { describe, expect, it } from "vitest";
import { inTurns } from "../../src/bench/turns.js";

describe("inTurns", () => {
  it("runs every module once per round, each round starting with the next one, and keeps only the rounds after the warm-up", async () => {
    const calls: string[] = [];
    let n = 0;
    const run = (name: string) => async () => {
      calls.push(name);
      return `${name}${n++}`;
    };
    const out = await inTurns([run("a"), run("b"), run("c")], 2, 1);
    expect(calls).toEqual(["a", "b", "c", "b", "c", "a", "c", "a", "b"]);
    expect(out.map((o) => o.results)).toEqual([["a5", "a7"], ["b3", "b8"], ["c4", "c6"]]);
    expect(out.every((o) => !o.stopped)).toBe(true);
  });

  it("does not run a module again once it answered stop, and the others go on", async () => {
    const calls: string[] = [];
    let slow = 0;
    const out = await inTurns(
      [
        async () => {
          calls.push("slow");
          return ++slow === 2 ? ("stop" as const) : slow;
        },
        async () => {
          calls.push("fast");
          return 1;
        },
      ],
      3,
      0,
    );
    expect(calls.filter((c) => c === "slow")).toHaveLength(2);
    expect(out[0]).toEqual({ results: [1], stopped: true });
    expect(out[1]).toEqual({ results: [1, 1, 1], stopped: false });
  });
});
