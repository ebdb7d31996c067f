/**
 * Just enough of the WebAssembly binary format to read imports and exports,
 * keep a subset of exports, and read or append custom sections — without
 * loading a whole toolchain library for three small jobs.
 */

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const SECTION_CUSTOM = 0;
const SECTION_IMPORT = 2;
const SECTION_EXPORT = 7;
const EXTERNAL_KINDS = ["func", "table", "memory", "global", "tag"] as const;

export type ExternalKind = (typeof EXTERNAL_KINDS)[number];

export interface Section {
  id: number;
  /** Offset of the section id byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the section. */
  end: number;
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}
  byte(): number {
    if (this.at >= this.bytes.length) throw new Error("unexpected end of WebAssembly module");
    return this.bytes[this.at++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new Error("malformed LEB128 integer");
    }
  }
  name(): string {
    const len = this.u32();
    const slice = this.bytes.subarray(this.at, this.at + len);
    this.at += len;
    return new TextDecoder("utf-8", { fatal: true }).decode(slice);
  }
}

export function encodeU32(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function encodeName(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [...encodeU32(bytes.length), ...bytes];
}

export function isWasm(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && MAGIC.every((b, i) => bytes[i] === b);
}

export function sections(bytes: Uint8Array): Section[] {
  if (!isWasm(bytes)) throw new Error("not a WebAssembly module (missing \\0asm header)");
  const r = new Reader(bytes, 8);
  const out: Section[] = [];
  while (r.at < bytes.length) {
    const start = r.at;
    const id = r.byte();
    const size = r.u32();
    const contentStart = r.at;
    const end = contentStart + size;
    if (end > bytes.length) throw new Error("truncated WebAssembly section");
    out.push({ id, start, contentStart, end });
    r.at = end;
  }
  return out;
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: ExternalKind;
}

interface RawImport extends ImportEntry {
  /** The encoded type description that follows the kind byte. */
  description: Uint8Array;
}

/** Read every entry of every section with this id (import and export sections are vectors). */
function sectionEntries<T>(bytes: Uint8Array, id: number, readEntry: (r: Reader) => T): T[] {
  const out: T[] = [];
  for (const s of sections(bytes)) {
    if (s.id !== id) continue;
    const r = new Reader(bytes, s.contentStart);
    const count = r.u32();
    for (let i = 0; i < count; i++) out.push(readEntry(r));
  }
  return out;
}

function externalKind(r: Reader, what: string): ExternalKind {
  const kindByte = r.byte();
  const kind = EXTERNAL_KINDS[kindByte];
  if (!kind) throw new Error(`unknown ${what} kind ${kindByte}`);
  return kind;
}

function rawImports(bytes: Uint8Array): RawImport[] {
  return sectionEntries(bytes, SECTION_IMPORT, (r) => {
    const module = r.name();
    const name = r.name();
    const kind = externalKind(r, "import");
    const descStart = r.at;
    if (kind === "func") r.u32();
    else if (kind === "tag") {
      r.byte();
      r.u32();
    } else if (kind === "table") {
      r.byte(); // reftype (single-byte forms only: funcref/externref)
      skipLimits(r);
    } else if (kind === "memory") skipLimits(r);
    else {
      r.byte(); // valtype
      r.byte(); // mutability
    }
    return { module, name, kind, description: bytes.subarray(descStart, r.at) };
  });
}

export function imports(bytes: Uint8Array): ImportEntry[] {
  return rawImports(bytes).map(({ module, name, kind }) => ({ module, name, kind }));
}

/** A copy of the module in which the matching imports (of `kind`, when given) come from module `to` instead. */
export function renameImportModule(bytes: Uint8Array, from: string, names: readonly string[], to: string, kind?: ExternalKind): Uint8Array {
  const entries = rawImports(bytes);
  const content: number[] = [...encodeU32(entries.length)];
  for (const e of entries) {
    const module = e.module === from && names.includes(e.name) && (kind === undefined || e.kind === kind) ? to : e.module;
    content.push(...encodeName(module), ...encodeName(e.name), EXTERNAL_KINDS.indexOf(e.kind), ...e.description);
  }
  return replaceSection(bytes, SECTION_IMPORT, Uint8Array.from(content));
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

export interface ExportEntry {
  name: string;
  kind: ExternalKind;
  index: number;
}

export function exports(bytes: Uint8Array): ExportEntry[] {
  return sectionEntries(bytes, SECTION_EXPORT, (r) => ({ name: r.name(), kind: externalKind(r, "export"), index: r.u32() }));
}

function section(id: number, content: number[] | Uint8Array): Uint8Array {
  const head = [id, ...encodeU32(content.length)];
  const out = new Uint8Array(head.length + content.length);
  out.set(head, 0);
  out.set(content, head.length);
  return out;
}

/** The parts back to back in one new array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A copy of the module whose export section holds only the named exports. */
export function keepExports(bytes: Uint8Array, keep: readonly string[]): Uint8Array {
  const kept = exports(bytes).filter((e) => keep.includes(e.name));
  const missing = keep.filter((k) => !kept.some((e) => e.name === k));
  if (missing.length > 0) throw new Error(`module does not export ${missing.join(", ")}`);
  const content: number[] = [...encodeU32(kept.length)];
  for (const e of kept) content.push(...encodeName(e.name), EXTERNAL_KINDS.indexOf(e.kind), ...encodeU32(e.index));
  return replaceSection(bytes, SECTION_EXPORT, Uint8Array.from(content));
}

function replaceSection(bytes: Uint8Array, id: number, content: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  for (const s of sections(bytes)) parts.push(s.id === id ? section(id, content) : bytes.subarray(s.start, s.end));
  return concat(parts);
}

export function customSections(bytes: Uint8Array, name: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of sections(bytes).filter((x) => x.id === SECTION_CUSTOM)) {
    const r = new Reader(bytes, s.contentStart);
    if (r.name() === name) out.push(bytes.slice(r.at, s.end));
  }
  return out;
}

export function appendCustomSection(bytes: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  sections(bytes); // validates the framing before we extend it
  const content = concat([Uint8Array.from(encodeName(name)), payload]);
  return concat([bytes, section(SECTION_CUSTOM, content)]);
}

const SECTION_GLOBAL = 6;

/**
 * A copy of the module that also exports every mutable global it defines, as
 * `<prefix><index>`: a host that reuses an instance must put them back to their
 * initial values between runs. Only simple constant initialisers are expected
 * (what Wizer and wasm-opt emit); anything else is refused.
 */
export function exportMutableGlobals(bytes: Uint8Array, prefix: string): Uint8Array {
  const importedGlobals = imports(bytes).filter((i) => i.kind === "global").length;
  const mutable: number[] = [];
  sectionEntries(bytes, SECTION_GLOBAL, (r) => {
    r.byte(); // valtype
    const mut = r.byte();
    // init expression: one constant instruction, then `end`
    const op = r.byte();
    if (op === 0x41 || op === 0x42) {
      while (r.byte() & 0x80); // signed LEB128
    } else if (op === 0x43) r.at += 4;
    else if (op === 0x44) r.at += 8;
    else if (op === 0x23) r.u32();
    else throw new Error(`unsupported global initialiser opcode 0x${op.toString(16)}`);
    if (r.byte() !== 0x0b) throw new Error("unsupported global initialiser (more than one instruction)");
    return mut;
  }).forEach((mut, i) => {
    if (mut === 1) mutable.push(importedGlobals + i);
  });
  const existing = exports(bytes);
  const content: number[] = [...encodeU32(existing.length + mutable.length)];
  for (const e of existing) content.push(...encodeName(e.name), EXTERNAL_KINDS.indexOf(e.kind), ...encodeU32(e.index));
  for (const index of mutable) content.push(...encodeName(`${prefix}${index}`), EXTERNAL_KINDS.indexOf("global"), ...encodeU32(index));
  return replaceSection(bytes, SECTION_EXPORT, Uint8Array.from(content));
}

const SECTION_DATA = 11;

/** Skip a constant expression up to and including its `end` (the forms data offsets use, extended-const included). */
function skipConstExpr(r: Reader): void {
  for (;;) {
    const op = r.byte();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x42) while (r.byte() & 0x80); // i32/i64.const: signed LEB128
    else if (op === 0x23) r.u32(); // global.get
    else if (op === 0x6a || op === 0x6b || op === 0x6c || op === 0x7c || op === 0x7d || op === 0x7e) continue; // extended-const add/sub/mul
    else throw new Error(`unsupported opcode 0x${op.toString(16)} in a data segment offset`);
  }
}

/** The bytes of every data segment, in order (active and passive alike): what the module's memory starts with. */
export function dataSegments(bytes: Uint8Array): Uint8Array[] {
  return sectionEntries(bytes, SECTION_DATA, (r) => {
    const flags = r.u32();
    if (flags === 2) r.u32(); // memory index
    if (flags === 0 || flags === 2) skipConstExpr(r);
    else if (flags !== 1) throw new Error(`unknown data segment flags ${flags}`);
    const len = r.u32();
    if (r.at + len > bytes.length) throw new Error("truncated data segment");
    const data = bytes.subarray(r.at, r.at + len);
    r.at += len;
    return data;
  });
}
