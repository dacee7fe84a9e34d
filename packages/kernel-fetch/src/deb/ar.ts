// The `ar` container of a .deb: deb(5) and ar(5) (System V / GNU common format).
//   "!<arch>\n", then per member a 60-byte ASCII header and the data, padded to an even offset with "\n".
// One field table drives both decoding (reading packages) and encoding (tests build .debs with it).
import { ByteReader, ShortReadError } from './byte-reader.js';
import { DebFormatError } from './errors.js';

/** ar(5): global header ARMAG. */
export const ARMAG = '!<arch>\n';
/** ar(5): the header's terminator ARFMAG. */
export const ARFMAG = '`\n';
/** ar(5): sizeof(struct ar_hdr). */
export const AR_HEADER_SIZE = 60;

type FieldKind = 'name' | 'decimal' | 'octal' | 'magic';
interface Field {
  key: keyof ArHeader | 'fmag';
  offset: number;
  length: number;
  kind: FieldKind;
}

/** struct ar_hdr (<ar.h>): one line per field, in on-disk order. */
export const AR_HEADER_FIELDS: readonly Field[] = [
  { key: 'name', offset: 0, length: 16, kind: 'name' }, // ar_name, space padded; GNU appends '/'
  { key: 'mtime', offset: 16, length: 12, kind: 'decimal' }, // ar_date
  { key: 'uid', offset: 28, length: 6, kind: 'decimal' }, // ar_uid
  { key: 'gid', offset: 34, length: 6, kind: 'decimal' }, // ar_gid
  { key: 'mode', offset: 40, length: 8, kind: 'octal' }, // ar_mode
  { key: 'size', offset: 48, length: 10, kind: 'decimal' }, // ar_size, bytes of data (no padding)
  { key: 'fmag', offset: 58, length: 2, kind: 'magic' }, // ar_fmag == ARFMAG
];

export interface ArHeader {
  name: string;
  mtime: number;
  uid: number;
  gid: number;
  mode: number;
  size: number;
}

/** Decodes one header; returns a reason string when it is malformed. */
export function decodeArHeader(bytes: Uint8Array): ArHeader | string {
  if (bytes.length !== AR_HEADER_SIZE) return `short member header (${bytes.length} of ${AR_HEADER_SIZE} bytes)`;
  const out: Record<string, string | number> = {};
  for (const f of AR_HEADER_FIELDS) {
    const raw = Buffer.from(bytes.subarray(f.offset, f.offset + f.length)).toString('latin1');
    if (f.kind === 'magic') {
      if (raw !== ARFMAG) return `bad member header terminator ${JSON.stringify(raw)} (want "\`\\n")`;
      continue;
    }
    if (f.kind === 'name') {
      // dpkg (lib/dpkg/ar.c dpkg_ar_normalize_name): strip trailing spaces, then one GNU '/'.
      out[f.key] = raw.replace(/ +$/, '').replace(/\/$/, '');
      continue;
    }
    const text = raw.trimEnd();
    const re = f.kind === 'octal' ? /^[0-7]*$/ : /^[0-9]*$/;
    if (!re.test(text) || (f.key === 'size' && text === '')) return `bad ${f.key} field ${JSON.stringify(raw)} in member header`;
    out[f.key] = text === '' ? 0 : Number.parseInt(text, f.kind === 'octal' ? 8 : 10);
  }
  return out as unknown as ArHeader;
}

/** Encodes one header (names must fit 15 bytes plus the GNU '/'). */
export function encodeArHeader(h: ArHeader): Uint8Array {
  const buf = Buffer.alloc(AR_HEADER_SIZE, 0x20);
  for (const f of AR_HEADER_FIELDS) {
    let text: string;
    if (f.kind === 'magic') text = ARFMAG;
    else if (f.kind === 'name') text = `${h.name}/`;
    else text = (h[f.key as keyof ArHeader] as number).toString(f.kind === 'octal' ? 8 : 10);
    if (text.length > f.length) throw new RangeError(`ar ${f.key} ${JSON.stringify(text)} does not fit ${f.length} bytes`);
    buf.write(text, f.offset, 'latin1');
  }
  return buf;
}

/** Builds a whole ar archive in memory (tests, small archives). */
export function encodeAr(members: ReadonlyArray<{ name: string; data: Uint8Array; mtime?: number; mode?: number }>): Uint8Array {
  const parts: Uint8Array[] = [Buffer.from(ARMAG, 'latin1')];
  for (const m of members) {
    parts.push(encodeArHeader({ name: m.name, mtime: m.mtime ?? 0, uid: 0, gid: 0, mode: m.mode ?? 0o100644, size: m.data.length }), m.data);
    if (m.data.length % 2 === 1) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export interface ArMember {
  header: ArHeader;
  /** Offset of the member's data in the archive. */
  offset: number;
  /** The member's bytes; read it before asking for the next member, or it is skipped. */
  body: AsyncIterable<Uint8Array>;
}

/** Reads an ar archive forward; `what` names it in errors (the .deb path). */
export async function* readAr(input: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<ArMember> {
  const r = new ByteReader(input);
  try {
    const magic = Buffer.from(await r.read(ARMAG.length)).toString('latin1');
    if (magic !== ARMAG) {
      throw new DebFormatError({ deb: what, reason: magic.length === 0 ? 'empty file' : `not an ar archive (starts with ${JSON.stringify(magic)}, want "!<arch>\\n")` });
    }
    for (let index = 0; ; index++) {
      const at = r.offset;
      const raw = await r.read(AR_HEADER_SIZE);
      if (raw.length === 0) return;
      const header = decodeArHeader(raw);
      if (typeof header === 'string') throw new DebFormatError({ deb: what, member: `member #${index} at offset ${at}`, reason: header });
      const member = header.name || `member #${index}`;
      const offset = r.offset;
      const truncated = (): DebFormatError =>
        new DebFormatError({ deb: what, member, reason: `truncated: member is ${header.size} bytes but the file ends after ${r.offset - offset}` });
      const body = (async function* () {
        try {
          yield* r.stream(header.size);
        } catch (err) {
          throw err instanceof ShortReadError ? truncated() : err;
        }
      })();
      yield { header, offset, body };
      // Skip what the consumer left unread, then the even-offset padding byte.
      try {
        if (r.offset < offset + header.size) await r.skip(offset + header.size - r.offset);
      } catch (err) {
        throw err instanceof ShortReadError ? truncated() : err;
      }
      if (header.size % 2 === 1) await r.read(1);
    }
  } finally {
    await r.close();
  }
}
