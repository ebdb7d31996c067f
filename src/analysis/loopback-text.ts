/**
 * Text from which the analysis could read a loopback address, as the native
 * pre-check looks for it (clean-object.ts): the triggers, matched case-insensitively
 * while ignoring the characters shell quoting removes. Here so the analysis can ask
 * the same question of one container (reachability.ts: a work bound hit in a
 * container whose text names no loopback address changes no verdict, so it is not
 * worth a warning, and the pre-check, which never runs the analysis, agrees).
 */

/**
 * Short texts that cover every program and image name whose default binds
 * loopback (programs-knowledge/index.ts loopbackDefaultTriggers: each of those
 * names contains one of these). Short on purpose: the glue's trigger automaton
 * holds at most 255 states, and a trigger that also matches other names only
 * sends those requests to the JS.
 */
export const PROGRAM_TRIGGERS: readonly string[] = [
  "alloy", "grafana-agent", "grafana/agent", "synthetic", "pilot-agent", "proxyv2", "kube-proxy", "oauth2", "sql-proxy", "consul", "etcd", "daphne",
  "django", "manage.py", "vault", "hugo", "hypercorn", "kubectl", "kubelet", "mlflow", "mongo", "nomad", "opa", "tensorboard", "uvicorn",
];

/**
 * Texts whose presence may spell loopback in some form classifyHost reads, or name a
 * program whose default bind is loopback (see clean-object.ts).
 */
export const LOOPBACK_TRIGGERS: readonly string[] = ["127", "177", "0x", "::", "localhost", "loopback", "ip6-", "$", "%", ...PROGRAM_TRIGGERS];

export const CLEAN_STRING_LIMITS = { transparent: "'`", maxDigitRun: 9, maxColons: 6 } as const;

/**
 * Could `text` name a loopback address? True only where the native pre-check also
 * finds trigger text in the same string (it may find more: it also skips `\/` and
 * treats any `\u` escape as a trigger). Skipped, as the pre-check skips them: the
 * transparent quotes, and the characters JSON always escapes (`"`, `\`, controls)
 * or sends as UTF-8 (non-ASCII), which the pre-check passes over without matching.
 */
export function mayNameLoopback(text: string): boolean {
  // Native passes only (a character loop costs QuickJS thousands of instructions per character):
  // drop the skipped characters, then look for the triggers, a long digit run, many colons.
  const compact = SKIPPED.test(text) ? text.replace(SKIPPED_ALL, "") : text;
  const lower = compact.toLowerCase();
  for (let t = 0; t < LOOPBACK_TRIGGERS.length; t++) if (lower.indexOf(LOOPBACK_TRIGGERS[t]!) >= 0) return true;
  if (LONG_DIGIT_RUN.test(compact)) return true;
  let colons = 0;
  for (let at = compact.indexOf(":"); at >= 0; at = compact.indexOf(":", at + 1)) if (++colons > CLEAN_STRING_LIMITS.maxColons) return true;
  return false;
}

/** The characters skipped: controls, `"`, `\`, the transparent quotes, non-ASCII (single classes: no backtracking). */
const SKIPPED = /[\u0000-\u001f"\\'`\u0080-\uffff]/;
const SKIPPED_ALL = /[\u0000-\u001f"\\'`\u0080-\uffff]/g;
/** More than maxDigitRun digits in a row. */
const LONG_DIGIT_RUN = new RegExp(`[0-9]{${CLEAN_STRING_LIMITS.maxDigitRun + 1}}`);

/**
 * Could any string of the container's command, args, env values or image name a loopback
 * address (the image: its entrypoint's default bind, as the pre-check scans `image`)?
 */
export function containerMayNameLoopback(container: { command?: unknown; args?: unknown; env?: unknown; image?: unknown }): boolean {
  if (typeof container.image === "string" && mayNameLoopback(container.image)) return true;
  const lists: unknown[] = [container.command, container.args];
  for (const list of lists) if (Array.isArray(list)) for (const w of list) if (typeof w === "string" && mayNameLoopback(w)) return true;
  if (Array.isArray(container.env))
    for (const e of container.env) {
      const value: unknown = typeof e === "object" && e !== null ? (e as { value?: unknown }).value : undefined;
      if (typeof value === "string" && mayNameLoopback(value)) return true;
    }
  return false;
}
