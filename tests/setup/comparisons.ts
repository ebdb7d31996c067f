/** Where test processes record cross-engine comparisons (one byte each) and where the total goes. */
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..", "..");
export const COMPARISONS_DIR = join(ROOT, ".cache", "cross-engine");
export const COMPARISONS_TOTAL = join(ROOT, ".cache", "cross-engine-comparisons.txt");
