/**
 * The modules the benchmarks measure, built with the project's toolchain and
 * cached in .cache/bench/ (keyed by the module sources): the policy, the same
 * policy in Javy semantics (its top level runs in every _start instead of at
 * build time) and the floor (the protocol layer with an empty policy).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { buildPolicy } from "../toolchain/build.js";
import { sourceHash } from "../toolchain/source-hash.js";

export const ROOT = resolve(import.meta.dirname, "..", "..");
const CACHE = join(ROOT, ".cache", "bench");
const FLOOR_DIR = join(ROOT, "src", "toolchain", "floor-policy");
/** Real manifests the traffic mix and the corpus run read when present (the project's corpus, beside the clone). */
export const DEFAULT_CORPUS_DIR = join(ROOT, "..", "shared", "corpus");

export interface Variant {
  label: string;
  path: string;
}

const moduleSourcesHash = (): string => sourceHash(ROOT, ["src/analysis", "src/kubewarden", "src/toolchain", "policies", "package-lock.json"]);

/** The policy, its Javy-semantics build and the floor, in that order. */
export async function buildVariants(policyDir: string, log: (s: string) => void): Promise<[Variant, Variant, Variant]> {
  mkdirSync(CACHE, { recursive: true });
  const name = basename(policyDir);
  const hash = moduleSourcesHash();
  const stampPath = join(CACHE, `${name}.sha256`);
  const variants: (Variant & { dir: string; mode: "preevaluated" | "javy" })[] = [
    { label: `${name}`, path: join(CACHE, "pre", `${name}.wasm`), dir: policyDir, mode: "preevaluated" },
    { label: `${name} (javy semantics)`, path: join(CACHE, "javy", `${name}.wasm`), dir: policyDir, mode: "javy" },
    { label: "floor (empty policy)", path: join(CACHE, "pre", "floor-policy.wasm"), dir: FLOOR_DIR, mode: "preevaluated" },
  ];
  const fresh = existsSync(stampPath) && readFileSync(stampPath, "utf8") === hash && variants.every((v) => existsSync(v.path));
  if (!fresh) {
    for (const v of variants) {
      log(`building ${v.label}…`);
      mkdirSync(join(v.path, ".."), { recursive: true });
      await buildPolicy(v.dir, join(v.path, ".."), { mode: v.mode });
    }
    writeFileSync(stampPath, hash);
  }
  const [policy, javy, floor] = variants.map(({ label, path }) => ({ label, path }));
  return [policy!, javy!, floor!];
}

/** Just the policy module (no Javy-semantics or floor variants), cached like buildVariants'. */
export async function buildPolicyOnly(policyDir: string, log: (s: string) => void): Promise<string> {
  const name = basename(policyDir);
  const dir = join(CACHE, "worst-case");
  const path = join(dir, `${name}.wasm`);
  const stampPath = join(dir, `${name}.sha256`);
  const hash = moduleSourcesHash();
  if (!(existsSync(path) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === hash)) {
    log(`building ${name}…`);
    mkdirSync(dir, { recursive: true });
    await buildPolicy(policyDir, dir);
    writeFileSync(stampPath, hash);
  }
  return path;
}
