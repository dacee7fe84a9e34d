// The parsed form of a Packages index kept in the cache, so a warm run never re-parses ~50 MB of
// deb822 text. Tab-separated text sorted by package name, read lazily: loading decodes only the
// header; a name (or a provided name) is found by binary search over the sorted lines and its
// records are decoded when resolution asks for them. Layout:
//   line 1:   {"format":"mkimage-packages","version":4,"sha256":"<index sha256>","records":N,"recordsEnd":E}
//   N lines:  name \t version \t arch \t filename \t size \t sha256 \t depends \t pre-depends \t provides
//   then:     virtual-name \t offset of the providing record's line \t provided version (may be empty),
//             sorted by virtual name, in record order within one name
// Offsets count UTF-16 code units of the whole text (what JavaScript string indexes use).
import { isAscii } from 'node:buffer';
import type { PackageRecord } from './packages-index.js';
import { parseRelations } from './relation.js';

export const COMPACT_FORMAT = 'mkimage-packages';
// 4: the provides section is sorted, so loading no longer builds a map of it (a warm run's cost).
export const COMPACT_VERSION = 4;

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
  const lines = sorted.map((r) => COLUMNS.map((c) => String(r[c] ?? '')).join('\t') + '\n');
  // The header holds offsets that depend on its own length: pad the numbers to a fixed width.
  const header = (end: number): string =>
    JSON.stringify({ format: COMPACT_FORMAT, version: COMPACT_VERSION, sha256, records: sorted.length, recordsEnd: String(end).padStart(12, '0') }) + '\n';
  const headerLength = header(0).length;
  let offset = headerLength;
  const provides: Array<{ name: string; line: string }> = [];
  sorted.forEach((r, i) => {
    if (r.provides) {
      for (const clause of parseRelations(r.provides)) {
        for (const alt of clause) provides.push({ name: alt.name, line: `${alt.name}\t${offset}\t${alt.op === '=' && alt.version ? alt.version : ''}\n` });
      }
    }
    offset += lines[i]!.length;
  });
  // Stable sort: one name's providers stay in record order.
  provides.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return header(offset) + lines.join('') + provides.map((p) => p.line).join('');
}

/**
 * The few string operations the index needs, over a JS string or over ASCII bytes as read from the
 * cache (offsets are the same for ASCII; bytes are never decoded as a whole, only the slices asked for).
 */
interface IndexText {
  readonly length: number;
  /** Offset of `ch` (one ASCII character) at or after `from`, -1 when none. */
  indexOf(ch: string, from: number): number;
  /** Offset of `ch` at or before `from` (>= 0), -1 when none. */
  lastIndexOf(ch: string, from: number): number;
  slice(start: number, end: number): string;
  charAt(at: number): string;
}

function asciiBytesText(bytes: Buffer): IndexText {
  return {
    length: bytes.length,
    indexOf: (ch, from) => bytes.indexOf(ch.charCodeAt(0), from),
    lastIndexOf: (ch, from) => (from < 0 ? -1 : bytes.lastIndexOf(ch.charCodeAt(0), from)),
    slice: (start, end) => bytes.toString('latin1', start, end),
    charAt: (at) => (at >= 0 && at < bytes.length ? String.fromCharCode(bytes[at]!) : ''),
  };
}

/** A lazily decoded compact index. */
export class CompactIndex implements PackageIndexView {
  private readonly decoded = new Map<number, PackageRecord>();

  private constructor(
    private readonly text: IndexText,
    private readonly recordsStart: number,
    private readonly recordsEnd: number,
    readonly size: number,
  ) {}

  /**
   * Reads the header; undefined when the text is not this format and version or not for `sha256`.
   * Bytes must be ASCII (what encodeCompact writes for Debian's ASCII indexes); decode anything else
   * to a string first.
   */
  static load(source: string | Buffer, sha256: string): CompactIndex | undefined {
    if (typeof source !== 'string' && !isAscii(source)) return undefined;
    const text: IndexText = typeof source === 'string' ? source : asciiBytesText(source);
    const nl = text.indexOf('\n', 0);
    if (nl < 0) return undefined;
    let header: { format?: string; version?: number; sha256?: string; records?: number; recordsEnd?: string };
    try {
      header = JSON.parse(text.slice(0, nl)) as typeof header;
    } catch {
      return undefined;
    }
    if (header.format !== COMPACT_FORMAT || header.version !== COMPACT_VERSION || header.sha256 !== sha256) return undefined;
    const end = Number(header.recordsEnd);
    if (!(end >= nl + 1 && end <= text.length) || (end > nl + 1 && text.charAt(end - 1) !== '\n')) return undefined;
    if (text.length > end && text.charAt(text.length - 1) !== '\n') return undefined;
    return new CompactIndex(text, nl + 1, end, header.records ?? 0);
  }

  /** The package name of the record line starting at `at`. */
  private nameAt(at: number): string {
    return this.text.slice(at, this.text.indexOf('\t', at));
  }

  /** Start of the first line in [start, end) whose first field is >= `name` (end when none). */
  private lowerBound(name: string, start: number, end: number): number {
    let lo = start; // invariant: every line starting before lo has a name < `name`
    let hi = end; // and the line starting at hi (if any) has a name >= `name`
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const start = this.text.lastIndexOf('\n', mid - 1) + 1; // the line containing mid
      const at = start < lo ? lo : start;
      if (this.nameAt(at) < name) lo = this.text.indexOf('\n', at) + 1;
      else hi = at;
    }
    return lo;
  }

  private record(at: number): PackageRecord {
    let r = this.decoded.get(at);
    if (!r) {
      const cells = this.text.slice(at, this.text.indexOf('\n', at)).split('\t');
      const o: Record<string, string | number> = {};
      COLUMNS.forEach((c, i) => {
        const v = cells[i] ?? '';
        if (v !== '') o[c] = c === 'size' ? Number(v) : v;
      });
      r = o as unknown as PackageRecord;
      this.decoded.set(at, r);
    }
    return r;
  }

  byName(name: string): PackageRecord[] {
    const out: PackageRecord[] = [];
    for (let at = this.lowerBound(name, this.recordsStart, this.recordsEnd); at < this.recordsEnd && this.nameAt(at) === name; at = this.text.indexOf('\n', at) + 1) {
      out.push(this.record(at));
    }
    return out;
  }

  providers(name: string): { record: PackageRecord; version?: string }[] {
    const out: { record: PackageRecord; version?: string }[] = [];
    const end = this.text.length;
    for (let at = this.lowerBound(name, this.recordsEnd, end); at < end && this.nameAt(at) === name; at = this.text.indexOf('\n', at) + 1) {
      const [, offset, version] = this.text.slice(at, this.text.indexOf('\n', at)).split('\t');
      const record = this.record(Number(offset));
      out.push(version ? { record, version } : { record });
    }
    return out;
  }
}
