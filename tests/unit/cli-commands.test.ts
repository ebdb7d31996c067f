/**
 * The CLI loads a command only when it runs (src/cli/main.ts), so the overview's
 * summaries are written there: each must stay the command's own, under its name.
 */
import { describe, expect, it } from "vitest";
import { commands } from "../../src/cli/main.js";

describe("the command table", () => {
  it("each entry loads the command of its name, with that command's summary and help", async () => {
    expect(commands.map((c) => c.name)).toEqual(["build", "run", "audit", "push", "pull", "publish", "sign", "verify", "sbom", "scaffold", "bench", "version"]);
    for (const entry of commands) {
      const command = await entry.load();
      expect(command.name, entry.name).toBe(entry.name);
      expect(entry.summary, entry.name).toBe(command.summary);
      if (entry.help) expect(await entry.help(), entry.name).toBe(command.help);
    }
  });
});
