/**
 * Conditions the pod spec decides: `test` / `[ … ]` (POSIX, with `!`, `-a`, `-o`
 * and parentheses) and bash's `[[ … ]]` (with `&&`, `||` and glob patterns), on
 * values the expansion knows. Anything that depends on the running container —
 * files, unknown values, regexes — is undecided (null): both ways are possible.
 */
import { expandPattern, expandString, matchPattern, type ExpandScope, type Scalar } from "./expand.js";
import type { TestExpr } from "./syntax.js";

/** true, false, or null when the manifest does not decide it. */
export type Tri = boolean | null;

export function not(a: Tri): Tri {
  return a === null ? null : !a;
}
export function and(a: Tri, b: () => Tri): Tri {
  if (a === false) return false;
  const r = b();
  if (r === false) return false;
  return a === true && r === true ? true : null;
}
export function or(a: Tri, b: () => Tri): Tri {
  if (a === true) return true;
  const r = b();
  if (r === true) return true;
  return a === false && r === false ? false : null;
}

const UNARY = new Set(["-n", "-z", "-e", "-f", "-d", "-r", "-w", "-x", "-s", "-L", "-h", "-p", "-S", "-b", "-c", "-g", "-u", "-k", "-O", "-G", "-N", "-t", "-v", "-R", "-a", "-o"]);
const BINARY = new Set(["=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef"]);

function nonEmpty(v: Scalar): Tri {
  return typeof v === "string" ? v.length > 0 : null;
}

function unary(op: string, v: Scalar): Tri {
  if (op === "-n") return nonEmpty(v);
  if (op === "-z") return not(nonEmpty(v));
  return null; // files, terminals, variables set: the running container decides
}

/** A decimal integer as test(1) reads it (blanks around, an optional sign), or null. */
function integer(v: Scalar): number | null {
  if (typeof v !== "string") return null;
  const t = v.trim();
  if (!/^[+-]?[0-9]{1,15}$/.test(t)) return null;
  return Number(t);
}

function binary(op: string, l: Scalar, r: Scalar): Tri {
  if (op === "-nt" || op === "-ot" || op === "-ef") return null;
  if (op.length === 3 && op.charCodeAt(0) === 45) {
    const a = integer(l);
    const b = integer(r);
    if (a === null || b === null) return null;
    switch (op) {
      case "-eq": return a === b;
      case "-ne": return a !== b;
      case "-lt": return a < b;
      case "-le": return a <= b;
      case "-gt": return a > b;
      default: return a >= b;
    }
  }
  if (typeof l !== "string" || typeof r !== "string") return null;
  switch (op) {
    case "=":
    case "==": return l === r;
    case "!=": return l !== r;
    case "<": return l < r;
    default: return l > r;
  }
}

/** `test ARGS` / `[ ARGS ]` (without the closing `]`), as POSIX test decides by the number of arguments. */
export function evalTest(args: readonly Scalar[]): Tri {
  const text = (i: number) => (typeof args[i] === "string" ? (args[i] as string) : null);
  switch (args.length) {
    case 0:
      return false;
    case 1:
      return nonEmpty(args[0]!);
    case 2:
      if (text(0) === "!") return not(nonEmpty(args[1]!));
      if (text(0) !== null && UNARY.has(text(0)!)) return unary(text(0)!, args[1]!);
      return null;
    case 3:
      if (text(1) !== null && BINARY.has(text(1)!)) return binary(text(1)!, args[0]!, args[2]!);
      if (text(1) === "-a") return and(nonEmpty(args[0]!), () => nonEmpty(args[2]!));
      if (text(1) === "-o") return or(nonEmpty(args[0]!), () => nonEmpty(args[2]!));
      if (text(0) === "!") return not(evalTest(args.slice(1)));
      if (text(0) === "(" && text(2) === ")") return nonEmpty(args[1]!);
      return null;
    case 4:
      if (text(0) === "!") return not(evalTest(args.slice(1)));
      if (text(0) === "(" && text(3) === ")") return evalTest(args.slice(1, 3));
      break;
  }
  const p = new TestParser(args);
  const r = p.or();
  return p.done() ? r : null;
}

class TestParser {
  private i = 0;
  constructor(private readonly args: readonly Scalar[]) {}
  done(): boolean {
    return this.i === this.args.length;
  }
  private peek(k = 0): string | null {
    const v = this.args[this.i + k];
    return typeof v === "string" ? v : null;
  }
  or(): Tri {
    let r = this.and();
    while (this.peek() === "-o") {
      this.i++;
      const rhs = this.and();
      r = or(r, () => rhs);
    }
    return r;
  }
  private and(): Tri {
    let r = this.not();
    while (this.peek() === "-a") {
      this.i++;
      const rhs = this.not();
      r = and(r, () => rhs);
    }
    return r;
  }
  private not(): Tri {
    if (this.peek() === "!" && this.i + 1 < this.args.length) {
      this.i++;
      return not(this.not());
    }
    return this.primary();
  }
  private primary(): Tri {
    if (this.i >= this.args.length) return null;
    if (this.peek() === "(") {
      this.i++;
      const r = this.or();
      if (this.peek() !== ")") return null;
      this.i++;
      return r;
    }
    const op = this.peek(1);
    if (op !== null && BINARY.has(op) && this.i + 2 < this.args.length) {
      const r = binary(op, this.args[this.i]!, this.args[this.i + 2]!);
      this.i += 3;
      return r;
    }
    const first = this.peek();
    if (first !== null && UNARY.has(first) && first !== "-a" && first !== "-o" && this.i + 1 < this.args.length) {
      const r = unary(first, this.args[this.i + 1]!);
      this.i += 2;
      return r;
    }
    return nonEmpty(this.args[this.i++]!);
  }
}

/** bash `[[ … ]]`: no field splitting; the right side of `==`/`!=` is a glob pattern where unquoted. */
export function evalDoubleBracket(e: TestExpr, scope: ExpandScope): Tri {
  switch (e.k) {
    case "and":
      return and(evalDoubleBracket(e.l, scope), () => evalDoubleBracket(e.r, scope));
    case "or":
      return or(evalDoubleBracket(e.l, scope), () => evalDoubleBracket(e.r, scope));
    case "not":
      return not(evalDoubleBracket(e.e, scope));
    case "word":
      return nonEmpty(expandString(e.w, scope));
    case "unary":
      return unary(e.op, expandString(e.w, scope));
    case "binary": {
      const l = expandString(e.l, scope);
      if (e.op === "==" || e.op === "=" || e.op === "!=") {
        const pattern = expandPattern(e.r, scope);
        if (pattern === null || typeof l !== "string") return null;
        const m = matchPattern(pattern, l, scope);
        return e.op === "!=" ? not(m) : m;
      }
      if (e.op === "=~") return null;
      return binary(e.op, l, expandString(e.r, scope));
    }
  }
}
