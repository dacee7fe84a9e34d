// The field-table codec shared by every on-disk structure of mkimage (ext4 and jbd2 here; GPT, MBR,
// FAT, PE, qcow2, VHD in @mkimage/disk; ELF and ZIP headers in the CLI's app inspector). One table
// per structure drives both encode and decode, so an offset is written down exactly once
// (STYLE.md: no copy-pasted field codecs).

/**
 * A field type the codec does not know, supplied by the caller: `width` bytes turned into a value
 * and back (e.g. @mkimage/disk's mixed-endian GPT GUIDs).
 */
export interface CustomFieldType<V> {
  readonly width: number;
  encode(value: V): Uint8Array;
  /** Gets a view of the field's `width` bytes; copy them if they are kept. */
  decode(bytes: Uint8Array): V;
}

/**
 * u8..u64 are numbers (u64 rounded above 2^53 on decode; encode takes a number), u64n a bigint,
 * bytes a Uint8Array of `size` bytes (shorter values are written as a prefix).
 */
export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 'u64n' | 'bytes' | CustomFieldType<unknown>;

export interface StructField {
  readonly name: string;
  readonly offset: number;
  readonly type: FieldType;
  /** Length in bytes, for 'bytes' fields only. */
  readonly size?: number;
}

type ValueOf<T> = T extends 'bytes' ? Uint8Array : T extends 'u64n' ? bigint : T extends CustomFieldType<infer V> ? V : number;
export type StructValues<F extends readonly StructField[]> = { [K in F[number] as K['name']]: ValueOf<K['type']> };

export interface StructOptions {
  /** Byte order of the integers: little-endian (the default) or big-endian (jbd2, qcow2, VHD). */
  readonly endian?: 'le' | 'be';
  /**
   * How an integer outside its field's range is written. Default: it is a bug (thrown). With `wrap`,
   * it is reduced modulo the field's width as DataView does, so a signed 32-bit hash or checksum
   * (what `|` and `^` give) lands as its unsigned bits.
   */
  readonly wrap?: boolean;
}

export interface Struct<F extends readonly StructField[]> {
  readonly name: string;
  readonly size: number;
  readonly fields: F;
  /** Writes `values` into `into` (default: a fresh zeroed buffer of `size` bytes) at `at`; absent fields are left as they are. */
  encode(values: Partial<StructValues<F>>, into?: Uint8Array, at?: number): Uint8Array;
  decode(buf: Uint8Array, at?: number): StructValues<F>;
  /** Byte offset of a field, e.g. to zero a checksum before summing. */
  offsetOf(name: F[number]['name']): number;
}

/** A broken invariant of a caller of the codec (a field that does not fit, a value out of range): a bug, never bad input. */
export class StructError extends Error {
  readonly code = 'E_INTERNAL';
  readonly data: { detail: string };
  constructor(detail: string) {
    super(`BUG: ${detail} (please report this)`);
    this.name = 'StructError';
    this.data = { detail };
  }
}

function bug(detail: string): never {
  throw new StructError(detail);
}

const WIDTH = { u8: 1, u16: 2, u32: 4, u64: 8, u64n: 8 } as const;
const MAX = { u8: 0xff, u16: 0xffff, u32: 0xffffffff, u64: Number.MAX_SAFE_INTEGER } as const;

function widthOf(f: StructField): number {
  return f.type === 'bytes' ? f.size ?? 0 : typeof f.type === 'string' ? WIDTH[f.type] : f.type.width;
}

/** Declares the structure `name` of `size` bytes laid out as `fields`. */
export function defineStruct<const F extends readonly StructField[]>(name: string, size: number, fields: F, options: StructOptions = {}): Struct<F> {
  const le = (options.endian ?? 'le') === 'le';
  const wrap = options.wrap ?? false;
  for (const f of fields) {
    const w = widthOf(f);
    if (f.offset + w > size) bug(`${name}.${f.name} (offset ${f.offset}, width ${w}) lies outside the ${size}-byte structure`);
  }
  const byName = new Map(fields.map((f) => [f.name, f] as const));
  const checked = (f: StructField, v: number, max: number): number => {
    if (!wrap && !(Number.isInteger(v) && v >= 0 && v <= max)) bug(`${name}.${f.name}: ${v} is not an integer in 0..${max}`);
    return v;
  };
  // One DataView per backing buffer, reused: encoding 10^5 inodes must not allocate 10^5 views.
  let lastBuffer: ArrayBufferLike | undefined;
  let lastView: DataView | undefined;
  const viewOf = (buf: Uint8Array): DataView => {
    if (buf.buffer !== lastBuffer) {
      lastBuffer = buf.buffer;
      lastView = new DataView(buf.buffer);
    }
    return lastView!;
  };
  return {
    name,
    size,
    fields,
    encode(values, into, at = 0) {
      const buf = into ?? new Uint8Array(size);
      if (at < 0 || at + size > buf.length) bug(`${name}: encoding ${size} bytes at ${at} of ${buf.length}`);
      const view = viewOf(buf);
      const base = buf.byteOffset + at;
      const vals = values as Record<string, unknown>;
      for (const field in vals) if (!byName.has(field)) bug(`${name} has no field ${field}`);
      for (const f of fields) {
        const v = vals[f.name];
        if (v === undefined) continue;
        switch (f.type) {
          case 'u8': view.setUint8(base + f.offset, checked(f, v as number, MAX.u8)); break;
          case 'u16': view.setUint16(base + f.offset, checked(f, v as number, MAX.u16), le); break;
          case 'u32': view.setUint32(base + f.offset, checked(f, v as number, MAX.u32), le); break;
          case 'u64': view.setBigUint64(base + f.offset, BigInt(checked(f, v as number, MAX.u64)), le); break;
          case 'u64n': view.setBigUint64(base + f.offset, BigInt.asUintN(64, v as bigint), le); break;
          case 'bytes': {
            const b = v as Uint8Array;
            if (b.length > (f.size ?? 0)) bug(`${name}.${f.name}: ${b.length} bytes do not fit in ${f.size}`);
            buf.set(b, at + f.offset);
            break;
          }
          default: {
            const type = f.type;
            const b = type.encode(v);
            if (b.length !== type.width) bug(`${name}.${f.name}: encoded to ${b.length} bytes, not ${type.width}`);
            buf.set(b, at + f.offset);
          }
        }
      }
      return buf;
    },
    decode(buf, at = 0) {
      if (at < 0 || at + size > buf.length) bug(`${name}: need ${size} bytes at ${at}, have ${buf.length - at}`);
      const view = new DataView(buf.buffer, buf.byteOffset + at, size);
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        switch (f.type) {
          case 'u8': out[f.name] = view.getUint8(f.offset); break;
          case 'u16': out[f.name] = view.getUint16(f.offset, le); break;
          case 'u32': out[f.name] = view.getUint32(f.offset, le); break;
          case 'u64': out[f.name] = Number(view.getBigUint64(f.offset, le)); break;
          case 'u64n': out[f.name] = view.getBigUint64(f.offset, le); break;
          case 'bytes': out[f.name] = buf.slice(at + f.offset, at + f.offset + (f.size ?? 0)); break;
          default: out[f.name] = f.type.decode(buf.subarray(at + f.offset, at + f.offset + f.type.width));
        }
      }
      return out as StructValues<F>;
    },
    offsetOf(field) {
      const f = byName.get(field);
      if (!f) bug(`${name} has no field ${field}`);
      return f.offset;
    },
  };
}

/** Splits a value below 2^53 into its low 32 bits and the bits above. */
export function lo32(n: number): number { return n % 0x1_0000_0000; }
export function hi32(n: number): number { return Math.floor(n / 0x1_0000_0000); }

/** ASCII text padded with `fill` to exactly `length` bytes (names in boot sectors, PE section names). */
export function asciiField(text: string, length: number, fill = 0x20): Uint8Array {
  const out = new Uint8Array(length).fill(fill);
  for (let i = 0; i < text.length && i < length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}
