// A tiny field-table codec: one table per on-disk structure drives both encode and decode, so an
// offset is written down exactly once (STYLE.md: no copy-pasted field codecs).

export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 'bytes';

export interface Field {
  readonly name: string;
  readonly offset: number;
  readonly type: FieldType;
  /** Length in bytes, for `bytes` fields only. */
  readonly length?: number;
}

type FieldValue<F extends Field> = F['type'] extends 'bytes' ? Uint8Array : number;
export type StructValues<F extends readonly Field[]> = { [K in F[number] as K['name']]: FieldValue<K> };

export interface Struct<F extends readonly Field[]> {
  readonly size: number;
  readonly fields: F;
  /** Writes `values` into `buf` at `at`; absent fields are left as they are (zero in a fresh buffer). */
  encode(values: Partial<StructValues<F>>, buf?: Uint8Array, at?: number): Uint8Array;
  decode(buf: Uint8Array, at?: number): StructValues<F>;
  offsetOf(name: F[number]['name']): number;
}

/** Declares a structure of `size` bytes; `bigEndian` for jbd2, little-endian (ext4) otherwise. */
export function defineStruct<const F extends readonly Field[]>(size: number, fields: F, bigEndian = false): Struct<F> {
  const le = !bigEndian;
  for (const f of fields) {
    const width = f.type === 'bytes' ? f.length ?? 0 : f.type === 'u8' ? 1 : f.type === 'u16' ? 2 : f.type === 'u32' ? 4 : 8;
    if (f.offset + width > size) throw new Error(`BUG: field ${f.name} at ${f.offset}+${width} outside a ${size}-byte structure`);
  }
  const byName = new Map(fields.map((f) => [f.name, f] as const));
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
    size,
    fields,
    encode(values, buf = new Uint8Array(size), at = 0) {
      if (at + size > buf.length) throw new Error(`BUG: encoding ${size} bytes at ${at} of ${buf.length}`);
      const view = viewOf(buf);
      const base = buf.byteOffset + at;
      const vals = values as Record<string, number | Uint8Array | undefined>;
      for (const name in vals) if (!byName.has(name)) throw new Error(`BUG: no field ${name}`);
      for (const f of fields) {
        const value = vals[f.name];
        if (value === undefined) continue;
        switch (f.type) {
          case 'u8': view.setUint8(base + f.offset, value as number); break;
          case 'u16': view.setUint16(base + f.offset, value as number, le); break;
          case 'u32': view.setUint32(base + f.offset, (value as number) >>> 0, le); break;
          case 'u64': view.setBigUint64(base + f.offset, BigInt(value as number), le); break;
          case 'bytes': {
            const bytes = value as Uint8Array;
            if (bytes.length > (f.length ?? 0)) throw new Error(`BUG: field ${f.name}: ${bytes.length} bytes > ${f.length}`);
            buf.set(bytes, at + f.offset);
            break;
          }
        }
      }
      return buf;
    },
    decode(buf, at = 0) {
      if (at + size > buf.length) throw new Error(`BUG: decoding ${size} bytes at ${at} of ${buf.length}`);
      const view = new DataView(buf.buffer, buf.byteOffset + at, size);
      const out: Record<string, number | Uint8Array> = {};
      for (const f of fields) {
        switch (f.type) {
          case 'u8': out[f.name] = view.getUint8(f.offset); break;
          case 'u16': out[f.name] = view.getUint16(f.offset, le); break;
          case 'u32': out[f.name] = view.getUint32(f.offset, le); break;
          case 'u64': out[f.name] = Number(view.getBigUint64(f.offset, le)); break;
          case 'bytes': out[f.name] = buf.slice(at + f.offset, at + f.offset + (f.length ?? 0)); break;
        }
      }
      return out as StructValues<F>;
    },
    offsetOf(name) {
      const f = byName.get(name);
      if (!f) throw new Error(`BUG: no field ${name}`);
      return f.offset;
    },
  };
}

/** Splits a value below 2^53 into its low 32 bits and the bits above. */
export function lo32(n: number): number { return n % 0x1_0000_0000; }
export function hi32(n: number): number { return Math.floor(n / 0x1_0000_0000); }
