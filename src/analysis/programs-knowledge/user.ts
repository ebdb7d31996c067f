/**
 * Programs of the user's own (settings `programs`), turned into knowledge-base
 * rows and consulted before the built-in ones. Built once per settings object.
 */
import { parseImage, pathEndsWith } from "./index.js";
import type { BindRow, ClientEntry, ImageEntry, ServerEntry, SettingSource } from "./types.js";

/** The settings' shape (settings.schema.json `program`), restated here: the analysis does not import the policies. */
export interface UserProgram {
  name: string;
  images?: readonly string[];
  client?: boolean;
  listeners?: readonly {
    flag?: string;
    env?: string;
    form?: "address" | "url";
    default?: string;
    portFlag?: string;
    defaultPort?: number;
  }[];
}

export interface UserKnowledge {
  servers: ReadonlyMap<string, ServerEntry>;
  clients: ReadonlyMap<string, ClientEntry>;
  /** Image repository paths (as parseImage splits them) → the program their entrypoint runs. */
  images: readonly { path: string[]; entry: ImageEntry }[];
}

const SOURCE = [{ ref: "settings: programs" }];

export function userKnowledge(programs: readonly UserProgram[]): UserKnowledge {
  const servers = new Map<string, ServerEntry>();
  const clients = new Map<string, ClientEntry>();
  const images: { path: string[]; entry: ImageEntry }[] = [];
  for (const p of programs) {
    if (p.client === true) clients.set(p.name, { names: [p.name], kind: "client (settings)" });
    else {
      const binds: BindRow[] = [];
      for (const l of p.listeners ?? []) {
        const address: SettingSource[] = [];
        if (l.flag !== undefined) address.push({ flag: l.flag });
        if (l.env !== undefined) address.push({ env: l.env });
        if (l.default !== undefined) address.push({ value: l.default });
        if (address.length === 0) continue;
        const port: SettingSource[] = [];
        if (l.portFlag !== undefined) port.push({ flag: l.portFlag });
        if (l.defaultPort !== undefined) port.push({ value: String(l.defaultPort) });
        binds.push({ form: l.form ?? "address", address, ...(port.length > 0 ? { port } : {}) });
      }
      servers.set(p.name, { names: [p.name], syntax: "go", generic: true, binds, sources: SOURCE });
    }
    for (const image of p.images ?? []) {
      const ref = parseImage(image);
      if (ref) images.push({ path: ref.path, entry: { repositories: [image], program: p.name, kind: "binary", sources: SOURCE } });
    }
  }
  return { servers, clients, images };
}

/** The user's image row for an image, matched like the built-in ones (the image's path ends with the row's). */
export function userImage(user: UserKnowledge, image: string): { entry: ImageEntry; tag: string } | undefined {
  if (user.images.length === 0) return undefined;
  const ref = parseImage(image);
  if (!ref) return undefined;
  for (const { path, entry } of user.images) if (pathEndsWith(ref.path, path)) return { entry, tag: ref.tag };
  return undefined;
}
