// The parsed form of a Packages index kept in the cache, so a warm run never re-parses ~50 MB of
// deb822 text. Tab-separated text, read lazily: loading only finds line starts and package names;
// a record is decoded when resolution asks for that name. A provides section makes virtual-package
// lookups as cheap. Layout:
//   line 1:   {"format":"mkimage-packages","version":2,"sha256":"<index sha256>","records":N}
//   N lines:  name \t version \t arch \t filename \t size \t sha256 \t depends \t pre-depends \t provides
//   then:     virtual-name \t record-number \t provided-version (empty when unversioned)
import type { PackageRecord } from './packages-index.js';
import { parseRelations } from './relation.js';

export const COMPACT_FORMAT = 'mkimage-packages';
export const COMPACT_VERSION = 2;

// Column order of a record line; this one table drives both encode and decode.
const COLUMNS = ['name', 'version', 'arch', 'filename', 'size', 'sha256', 'depends', 'preDepends', 'provides'] as const;

/** What a package index answers: records by name and providers of a (virtual) name. */
export interface PackageIndexView {
  byName(name: string): PackageRecord[];
  providers(name: string): { record: PackageRecord; version?: string }[];
}

/** Encodes records (any order) into the compact text. Tabs and newlines cannot occur in these fields. */
export function encodeCompact(records: PackageRecord[], sha256: string): string {
  const sorted = [...records].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines = [JSON.stringify({ format: COMPACT_FORMAT, version: COMPACT_VERSION, sha256, records: sorted.length })];
  for (const r of sorted) lines.push(COLUMNS.map((c) => String(r[c] ?? '')).join('\t'));
  sorted.forEach((r, i) => {
    if (!r.provides) return;
    for (const clause of parseRelations(r.provides)) {
      for (const alt of clause) lines.push(`${alt.name}\t${i}\t${alt.op === '=' && alt.version ? alt.version : ''}`);
    }
  });
  return lines.join('\n') + '\n';
}

/** A lazily decoded compact index. */
export class CompactIndex implements PackageIndexView {
  private readonly starts: number[] = [];
  /** name -> [first record number, count] (records are sorted by name). */
  private readonly names = new Map<string, [number, number]>();
  private readonly provides = new Map<string, { n: number; version: string }[]>();
  private readonly decoded = new Map<number, PackageRecord>();

  private constructor(private readonly text: string) {}

  /** Parses the header and line offsets; undefined when the text is not this format and version or not for `sha256`. */
  static load(text: string, sha256: string): CompactIndex | undefined {
    const nl = text.indexOf('\n');
    let header: { format?: string; version?: number; sha256?: string; records?: number };
    try {
      header = JSON.parse(text.slice(0, nl)) as typeof header;
    } catch {
      return undefined;
    }
    if (header.format !== COMPACT_FORMAT || header.version !== COMPACT_VERSION || header.sha256 !== sha256) return undefined;
    const idx = new CompactIndex(text);
    const count = header.records ?? 0;
    let pos = nl + 1;
    for (let i = 0; i < count; i++) {
      const tab = text.indexOf('\t', pos);
      const name = text.slice(pos, tab);
      idx.starts.push(pos);
      const hit = idx.names.get(name);
      if (hit) hit[1]++;
      else idx.names.set(name, [i, 1]);
      pos = text.indexOf('\n', tab) + 1;
    }
    while (pos < text.length) {
      const end = text.indexOf('\n', pos);
      const [name, n, version] = text.slice(pos, end).split('\t');
      const list = idx.provides.get(name!);
      const p = { n: Number(n), version: version ?? '' };
      if (list) list.push(p);
      else idx.provides.set(name!, [p]);
      pos = end + 1;
    }
    return idx;
  }

  private record(n: number): PackageRecord {
    let r = this.decoded.get(n);
    if (!r) {
      const start = this.starts[n]!;
      const cells = this.text.slice(start, this.text.indexOf('\n', start)).split('\t');
      const o: Record<string, string | number> = {};
      COLUMNS.forEach((c, i) => {
        const v = cells[i] ?? '';
        if (v !== '') o[c] = c === 'size' ? Number(v) : v;
      });
      r = o as unknown as PackageRecord;
      this.decoded.set(n, r);
    }
    return r;
  }

  get size(): number {
    return this.starts.length;
  }

  byName(name: string): PackageRecord[] {
    const hit = this.names.get(name);
    if (!hit) return [];
    const out: PackageRecord[] = [];
    for (let i = 0; i < hit[1]; i++) out.push(this.record(hit[0] + i));
    return out;
  }

  providers(name: string): { record: PackageRecord; version?: string }[] {
    return (this.provides.get(name) ?? []).map((p) => (p.version ? { record: this.record(p.n), version: p.version } : { record: this.record(p.n) }));
  }
}
