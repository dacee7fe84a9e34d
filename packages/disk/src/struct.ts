// One field table per on-disk structure drives both encode and decode (no offsets repeated).
// Integers are little-endian unless the structure says 'be' (qcow2 and VHD are big-endian).
import { bug } from './errors.js';
import { guidFromBytes, guidToBytes } from './guid.js';

export type FieldType = 'u8' | 'u16' | 'u32' | 'u64' | 'u64n' | 'bytes' | 'guid';

export interface Field {
  readonly name: string;
  readonly offset: number;
  readonly type: FieldType;
  /** Byte length, for 'bytes' only. */
  readonly size?: number;
}

type ValueOf<T extends FieldType> = T extends 'bytes' ? Uint8Array : T extends 'guid' ? string : T extends 'u64n' ? bigint : number;
export type StructValues<F extends readonly Field[]> = { [K in F[number] as K['name']]: ValueOf<K['type']> };

const WIDTH: Record<Exclude<FieldType, 'bytes'>, number> = { u8: 1, u16: 2, u32: 4, u64: 8, u64n: 8, guid: 16 };

export interface Struct<F extends readonly Field[]> {
  readonly name: string;
  readonly size: number;
  readonly fields: F;
  /** Encodes into a fresh buffer of `size` bytes (or into `into` at `at`); omitted fields are zero. */
  encode(values: Partial<StructValues<F>>, into?: Uint8Array, at?: number): Uint8Array;
  decode(buf: Uint8Array, at?: number): StructValues<F>;
  /** Byte offset of a field, e.g. to zero a checksum before summing. */
  offsetOf(name: F[number]['name']): number;
}

export function defineStruct<const F extends readonly Field[]>(name: string, size: number, fields: F, endian: 'le' | 'be' = 'le'): Struct<F> {
  const le = endian === 'le';
  for (const f of fields) {
    const w = f.type === 'bytes' ? f.size ?? 0 : WIDTH[f.type];
    bug(f.offset + w <= size, `${name}.${f.name} (offset ${f.offset}, width ${w}) lies outside the ${size}-byte structure`);
  }
  const byName = new Map(fields.map((f) => [f.name, f]));
  return {
    name,
    size,
    fields,
    offsetOf(field) {
      const f = byName.get(field);
      bug(f !== undefined, `${name} has no field ${field}`);
      return f.offset;
    },
    encode(values, into, at = 0) {
      const buf = into ?? new Uint8Array(size);
      const dv = new DataView(buf.buffer, buf.byteOffset + at, size);
      const vals = values as Record<string, unknown>;
      for (const f of fields) {
        const v = vals[f.name];
        if (v === undefined) continue;
        switch (f.type) {
          case 'u8': dv.setUint8(f.offset, checkInt(name, f, v as number, 0xff)); break;
          case 'u16': dv.setUint16(f.offset, checkInt(name, f, v as number, 0xffff), le); break;
          case 'u32': dv.setUint32(f.offset, checkInt(name, f, v as number, 0xffffffff), le); break;
          case 'u64': dv.setBigUint64(f.offset, BigInt(checkInt(name, f, v as number, Number.MAX_SAFE_INTEGER)), le); break;
          case 'u64n': dv.setBigUint64(f.offset, BigInt.asUintN(64, v as bigint), le); break;
          case 'guid': buf.set(guidToBytes(v as string), at + f.offset); break;
          case 'bytes': {
            const b = v as Uint8Array;
            bug(b.length <= (f.size ?? 0), `${name}.${f.name}: ${b.length} bytes do not fit in ${f.size}`);
            buf.set(b, at + f.offset);
            break;
          }
        }
      }
      return buf;
    },
    decode(buf, at = 0) {
      bug(buf.length - at >= size, `${name}: need ${size} bytes at ${at}, have ${buf.length - at}`);
      const dv = new DataView(buf.buffer, buf.byteOffset + at, size);
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        switch (f.type) {
          case 'u8': out[f.name] = dv.getUint8(f.offset); break;
          case 'u16': out[f.name] = dv.getUint16(f.offset, le); break;
          case 'u32': out[f.name] = dv.getUint32(f.offset, le); break;
          case 'u64': out[f.name] = Number(dv.getBigUint64(f.offset, le)); break;
          case 'u64n': out[f.name] = dv.getBigUint64(f.offset, le); break;
          case 'guid': out[f.name] = guidFromBytes(buf.subarray(at + f.offset, at + f.offset + 16)); break;
          case 'bytes': out[f.name] = buf.slice(at + f.offset, at + f.offset + (f.size ?? 0)); break;
        }
      }
      return out as StructValues<F>;
    },
  };
}

function checkInt(struct: string, f: Field, v: number, max: number): number {
  bug(Number.isInteger(v) && v >= 0 && v <= max, () => `${struct}.${f.name}: ${v} is not an integer in 0..${max}`);
  return v;
}

/** ASCII text padded with `fill` to exactly `length` bytes (names in boot sectors, PE section names). */
export function asciiField(text: string, length: number, fill = 0x20): Uint8Array {
  const out = new Uint8Array(length).fill(fill);
  for (let i = 0; i < text.length && i < length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}
