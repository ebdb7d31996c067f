import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** A digest of every file under the given paths (names and contents), to tell when a build is stale. */
export function sourceHash(root: string, paths: string[]): string {
  const hash = createHash("sha256");
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name));
      return;
    }
    hash.update(relative(root, p)).update(readFileSync(p));
  };
  for (const p of paths) walk(join(root, p));
  return hash.digest("hex");
}
