/**
 * A policy group's `spec.expression`, e.g. `probes() && (listenlocal() || !strict())`.
 *
 * policy-server evaluates it with Rhai (`Engine::new_raw().eval_expression`,
 * crates/policy-evaluator/src/policy_group_evaluator/evaluator.rs): each member
 * is a function of no arguments returning whether it accepted, `&&` and `||`
 * short-circuit, so a member whose answer cannot change the result is never
 * run. The controller admits only what CEL compiles with the same member
 * functions and the operators `==`, `!=`, `&&`, `||`, `!`
 * (api/policies/v1/policygroup_validation.go). This module evaluates exactly
 * that common subset — member calls, `true`, `false`, parentheses and those
 * five operators, with Rhai's precedence (`!` > `==` `!=` > `&&` > `||`) — and
 * says plainly what else an expression holds instead of guessing.
 */

export type GroupExpression =
  | { op: "call"; member: string }
  | { op: "const"; value: boolean }
  | { op: "not"; operand: GroupExpression }
  | { op: "and" | "or" | "eq" | "ne"; left: GroupExpression; right: GroupExpression };

export class GroupExpressionError extends Error {}

/** Longest expression and deepest nesting read: a policy file is small, and the parser must stay bounded. */
const MAX_LENGTH = 4096;
const MAX_DEPTH = 200;

type Token = { kind: "ident"; text: string; at: number } | { kind: "punct"; text: string; at: number };

const isIdentStart = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
const isIdentPart = (c: string) => isIdentStart(c) || (c >= "0" && c <= "9");

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (isIdentStart(c)) {
      const start = i;
      while (i < text.length && isIdentPart(text[i]!)) i++;
      tokens.push({ kind: "ident", text: text.slice(start, i), at: start });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === "&&" || two === "||" || two === "==" || two === "!=") {
      tokens.push({ kind: "punct", text: two, at: i });
      i += 2;
      continue;
    }
    if (c === "!" || c === "(" || c === ")") {
      tokens.push({ kind: "punct", text: c, at: i });
      i++;
      continue;
    }
    throw new GroupExpressionError(`${JSON.stringify(c)} at position ${i + 1} is not part of what a policy group expression may use here (member calls, true, false, !, &&, ||, ==, !=, parentheses)`);
  }
  return tokens;
}

/** Parse an expression; member names are checked against the group's. */
export function parseGroupExpression(text: string, members: readonly string[]): GroupExpression {
  if (text.length > MAX_LENGTH) throw new GroupExpressionError(`the expression is longer than ${MAX_LENGTH} characters`);
  if (text.trim() === "") throw new GroupExpressionError("the expression is empty");
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const where = () => (peek() ? `position ${peek()!.at + 1}` : "the end");
  const expect = (t: string) => {
    const tok = peek();
    if (!tok || tok.kind !== "punct" || tok.text !== t) throw new GroupExpressionError(`expected "${t}" at ${where()}`);
    pos++;
  };
  const binary = (next: (depth: number) => GroupExpression, ops: Record<string, "and" | "or" | "eq" | "ne">) => (depth: number): GroupExpression => {
    let left = next(depth);
    for (let tok = peek(); tok && tok.kind === "punct" && Object.hasOwn(ops, tok.text); tok = peek()) {
      pos++;
      left = { op: ops[tok.text]!, left, right: next(depth) };
    }
    return left;
  };
  const unary = (depth: number): GroupExpression => {
    if (depth > MAX_DEPTH) throw new GroupExpressionError(`the expression nests deeper than ${MAX_DEPTH} levels`);
    const tok = peek();
    if (!tok) throw new GroupExpressionError("the expression ends where an operand is expected");
    if (tok.kind === "punct" && tok.text === "!") {
      pos++;
      return { op: "not", operand: unary(depth + 1) };
    }
    if (tok.kind === "punct" && tok.text === "(") {
      pos++;
      const inner = or(depth + 1);
      expect(")");
      return inner;
    }
    if (tok.kind === "ident") {
      pos++;
      if (tok.text === "true" || tok.text === "false") return { op: "const", value: tok.text === "true" };
      expect("(");
      expect(")");
      if (!members.includes(tok.text)) throw new GroupExpressionError(`${tok.text}() at position ${tok.at + 1} is not a member of the group (members: ${members.join(", ")})`);
      return { op: "call", member: tok.text };
    }
    throw new GroupExpressionError(`unexpected "${tok.text}" at position ${tok.at + 1}`);
  };
  const equality = binary(unary, { "==": "eq", "!=": "ne" });
  const and = binary(equality, { "&&": "and" });
  const or: (depth: number) => GroupExpression = binary(and, { "||": "or" });
  const tree = or(0);
  if (pos < tokens.length) throw new GroupExpressionError(`unexpected "${tokens[pos]!.text}" at position ${tokens[pos]!.at + 1}`);
  return tree;
}

/** Evaluate with short-circuit `&&` / `||`, calling each member at most once (its answer is kept). */
export async function evaluateGroupExpression(tree: GroupExpression, call: (member: string) => Promise<boolean>): Promise<boolean> {
  const answers = new Map<string, Promise<boolean>>();
  const member = (name: string) => {
    let answer = answers.get(name);
    if (!answer) answers.set(name, (answer = call(name)));
    return answer;
  };
  const walk = async (node: GroupExpression): Promise<boolean> => {
    switch (node.op) {
      case "const":
        return node.value;
      case "call":
        return member(node.member);
      case "not":
        return !(await walk(node.operand));
      case "and":
        return (await walk(node.left)) && walk(node.right);
      case "or":
        return (await walk(node.left)) || walk(node.right);
      case "eq":
        return (await walk(node.left)) === (await walk(node.right));
      case "ne":
        return (await walk(node.left)) !== (await walk(node.right));
    }
  };
  return walk(tree);
}
