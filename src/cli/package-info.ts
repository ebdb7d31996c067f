/**
 * The CLI's own package: its root folder, package.json and whether this is a
 * source checkout. Apart from module-source.ts (registries, signatures) so that
 * every command, --version and --help start without loading those.
 *
 * The same code runs as TypeScript in a checkout (src/cli/) and bundled in the
 * npm package (lib/), so the package root is found by walking up to our
 * package.json rather than by a fixed number of "..".
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const PACKAGE_NAME = "loopback-probe-policies";

/** The folder holding our package.json (the repository root in a checkout). */
export const packageRoot: string = (() => {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, "utf8")) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours (or unreadable): keep walking up
      }
    }
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package.json above ${import.meta.dirname}`);
  }
})();

export const packageJson = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
  name: string;
  version: string;
  description: string;
  license: string;
  homepage?: string;
};

/**
 * A source checkout (policy sources, build toolchain as dev dependencies), as
 * opposed to the installed npm package, which ships lib/ and dist/ only.
 */
export const isCheckout: boolean = existsSync(join(packageRoot, "src", "cli", "main.ts")) && existsSync(join(packageRoot, "policies"));
