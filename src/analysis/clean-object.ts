/**
 * When the analysis provably has nothing to say about an object, stated as
 * conditions on its JSON text (the input of a native pre-check).
 *
 * Every finding needs a loopback host, read from a container's command/args,
 * an env value or a probe's `host`; every malformed-object answer needs a
 * field of the wrong type among those podSpecShapeProblems reads; every
 * unresolvable-port finding needs a probe port that is neither a plain 1..65535
 * integer nor the name of one of its container's ports. So an object is clean when:
 * - the fields the shape check reads have the types it accepts, wherever they
 *   appear (stricter than the check, which only looks inside pod specs);
 * - every probe-like `port` is a plain integer 1..65535, or a plain port name
 *   (a lowercase letter, then [a-z0-9-]) that a `ports[].name` of the same
 *   container spells byte for byte; a `port` name outside a container, a
 *   container with two `ports` keys or a port with two `name` keys (JSON.parse
 *   keeps only the last) fall back, and so does a name in `grpc.port`, which
 *   the shape check requires to be a number. The pre-check resolves names
 *   itself (rule roles);
 * - no opt-out annotation (the answer then says which probes were not checked);
 *   the glue gives up on any escape in a key, so an escaped spelling of the
 *   annotation key (`…kubewarden.io\/skip-containers`) falls back too;
 * - at most MAX_CHECKED_CONTAINERS containers and init containers per list
 *   (beyond, the answer says the object was not checked);
 * - the object has no network probe (no `httpGet`, `tcpSocket` or `grpc` member
 *   anywhere), or no string under command, args, value, host or image contains
 *   text from which classifyHost could read loopback in any spelling: `127`, `177`
 *   (octal 0177), `0x` (hex), `::` or more than six colons (IPv6), ten or more
 *   digits (32-bit decimal), localhost, loopback, `ip6-`, and `$` (any
 *   expansion) or `%` (escapes) — nor names a program or image whose default
 *   binds loopback with nothing in the manifest saying so (PROGRAM_TRIGGERS in
 *   loopback-text.ts: a `uvicorn`, a `kubelet`, a grafana/alloy image; the
 *   knowledge base derives the names, programs-knowledge/index.ts
 *   loopbackDefaultTriggers, and a unit test holds the list to them). Shell quotes are ignored while matching
 *   (`1'2'7`), and so are the JSON escapes (`\"`, `\\`, `\n`: `1\27`, `1""27`,
 *   a line continuation `12\<newline>7`). That covers every spelling the shell
 *   model (shell/) can read as an address: it removes only quotes, backslashes and
 *   line continuations from a word, builds a word from other text only through `$`
 *   (`$'\x37'`, `${V:-…}`, `"$@"`, `eval "$X"`, Kubernetes `$(VAR)`), splits words
 *   (never joins them), and does no brace expansion (`1{2,}7` stays as written).
 *   Binds matter only to a probe that dials a port, and the analysis
 *   reads no binds at all without one (templateFindings), so a job's
 *   `--listen-address=127.0.0.1:8080` changes nothing.
 * The rules other than the triggers are relied on alone too: when every rule held
 * and only trigger text sent a request to JS, the policies tell the analysis that
 * the types are verified (`typesVerified`) and it skips podSpecShapeProblems.
 * Keep this in step with shape.ts, probes.ts, listeners.ts and host.ts: the
 * differential tests (pre-check on vs off) fail when it is not.
 */
import { SKIP_CONTAINERS_ANNOTATION } from "./opt-out.js";
import { MAX_CHECKED_CONTAINERS } from "./reachability.js";

// Plain data, typed where the policies hand it to the glue (policies/shared/precheck.ts
// checks it against PrecheckRule): the analysis states the conditions, it does not
// depend on the pre-check's contract.
export const CLEAN_OBJECT_RULES = [
  { key: "hostNetwork", types: ["boolean", "null"] },
  { key: "containers", types: ["array", "null"], elements: ["object"], requiredKey: "name", maxElements: MAX_CHECKED_CONTAINERS, role: "scope-list" },
  { key: "initContainers", types: ["array", "null"], elements: ["object"], requiredKey: "name", maxElements: MAX_CHECKED_CONTAINERS, role: "scope-list" },
  { key: "name", types: ["string"], role: "name" },
  { key: "command", types: ["array", "null"], elements: ["string"], scan: true },
  { key: "args", types: ["array", "null"], elements: ["string"], scan: true },
  { key: "env", types: ["array", "null"], elements: ["object"], requiredKey: "name" },
  { key: "value", types: ["string", "null"], scan: true },
  { key: "ports", types: ["array", "null"], elements: ["object"], requiredKey: "containerPort", role: "name-list" },
  { key: "containerPort", types: ["number"] },
  { key: "livenessProbe", types: ["object", "null"] },
  { key: "readinessProbe", types: ["object", "null"] },
  { key: "startupProbe", types: ["object", "null"] },
  { key: "httpGet", types: ["object", "null"], requiredKey: "port", armsTriggers: true },
  { key: "tcpSocket", types: ["object", "null"], requiredKey: "port", armsTriggers: true },
  { key: "grpc", types: ["object", "null"], requiredKey: "port", role: "no-references", armsTriggers: true },
  { key: "port", types: ["port", "string"], role: "reference" },
  { key: "host", types: ["string", "null"], scan: true },
  // The image decides the program when `command` is absent (its entrypoint), and with it the default binds.
  { key: "image", types: ["string", "null"], scan: true },
  { key: SKIP_CONTAINERS_ANNOTATION, types: [] },
] as const;

export { CLEAN_STRING_LIMITS, LOOPBACK_TRIGGERS, PROGRAM_TRIGGERS } from "./loopback-text.js";
