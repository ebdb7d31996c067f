/**
 * A policy group evaluated as policy-server and `kwctl run` evaluate it
 * (crates/policy-evaluator/src/policy_group_evaluator/evaluator.rs):
 *
 * - settings: every member's validate-settings ("<group>/<member>: settings not
 *   valid: Policy settings are invalid: …") and the expression with every member
 *   accepting ("<group>: …"), joined with ", ";
 * - a request: the expression decides, members run as it calls them; a member
 *   that mutates counts as rejecting ("mutation is not allowed inside of policy
 *   group"); a rejection carries the group's message and, as
 *   status.details.causes, the message of every member that ran and rejected
 *   (field "spec.policies.<member>"), in member-name order.
 *
 * The group's own mode then applies like a policy's (evaluate.ts applyPolicyConfiguration).
 */
import type { SettingsValidationResponse } from "../kubewarden/protocol.js";
import type { AdmissionResponse, StatusCause } from "./evaluate.js";
import { evaluateGroupExpression, GroupExpressionError, parseGroupExpression } from "./group-expression.js";
import type { PolicyGroup } from "./policy-definition.js";

/** Runs one member: its own settings, context, deadline and host capabilities. */
export interface GroupMemberRunner {
  validateSettings(member: string): Promise<SettingsValidationResponse>;
  /** The member's answer, before any mode or mutation rule. */
  validate(member: string): Promise<AdmissionResponse>;
}

const memberNames = (group: PolicyGroup) => group.members.map(([name]) => name);

export async function validateGroupSettings(group: PolicyGroup, runner: GroupMemberRunner): Promise<SettingsValidationResponse> {
  const errors: string[] = [];
  for (const name of memberNames(group)) {
    const verdict = await runner.validateSettings(name);
    if (!verdict.valid) errors.push(`${group.name}/${name}: settings not valid: Policy settings are invalid: ${verdict.message ?? "no message"}`);
  }
  try {
    parseGroupExpression(group.expression, memberNames(group));
  } catch (e) {
    if (!(e instanceof GroupExpressionError)) throw e;
    errors.push(`${group.name}: ${e.message}`);
  }
  return errors.length === 0 ? { valid: true } : { valid: false, message: errors.join(", ") };
}

/** The group's answer to a request (uid from the request), before the group's mode applies. */
export async function evaluateGroup(group: PolicyGroup, uid: string, runner: GroupMemberRunner): Promise<AdmissionResponse> {
  let tree;
  try {
    tree = parseGroupExpression(group.expression, memberNames(group));
  } catch (e) {
    if (!(e instanceof GroupExpressionError)) throw e;
    return { uid, allowed: false, status: { message: `error evaluating policy group expression: ${e.message}`, code: 500 } };
  }
  const results = new Map<string, { allowed: boolean; message: string | null }>();
  const allowed = await evaluateGroupExpression(tree, async (name) => {
    const response = await runner.validate(name);
    if (response.patch !== undefined) {
      results.set(name, { allowed: false, message: "mutation is not allowed inside of policy group" });
      return false;
    }
    results.set(name, { allowed: response.allowed, message: response.status?.message ?? null });
    return response.allowed;
  });
  if (allowed) return { uid, allowed: true };
  const causes: StatusCause[] = [];
  for (const name of memberNames(group)) {
    const r = results.get(name);
    if (r && !r.allowed) causes.push({ reason: null, message: r.message, field: `spec.policies.${name}` });
  }
  return { uid, allowed: false, status: { message: group.message, details: { causes } } };
}
