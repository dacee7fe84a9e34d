// A tiny little-endian field-table decoder: each on-disk structure is declared once as a table of
// (name, offset, type) and this one function reads it. ELF and ZIP headers both use it.

export type FieldType = 'u8' | 'u16' | 'u32' | 'u64';

const WIDTH: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };

/** A structure: its byte size and its fields in on-disk order. */
export interface Struct<N extends string> {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly (readonly [N, number, FieldType])[];
}

export function defineStruct<N extends string>(name: string, size: number,
  fields: readonly (readonly [N, number, FieldType])[]): Struct<N> {
  for (const [field, offset, type] of fields) {
    if (offset + WIDTH[type] > size) throw new Error(`BUG: ${name}.${field} ends past the ${size}-byte structure`);
  }
  return { name, size, fields };
}

/**
 * Decodes `struct` at `offset` of `buf` (little-endian). u64 fields come back as numbers, rounded
 * above 2^53: callers check every u64 they use as an offset or size against the file size, which any
 * such value exceeds, and the others (addresses, alignment) are only compared or reported.
 */
export function decodeStruct<N extends string>(struct: Struct<N>, buf: Uint8Array, offset = 0): Record<N, number> {
  if (offset < 0 || offset + struct.size > buf.length) {
    throw new RangeError(`${struct.name}: need ${struct.size} bytes at offset ${offset}, have ${buf.length - offset}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, struct.size);
  const out = {} as Record<N, number>;
  for (const [field, at, type] of struct.fields) {
    switch (type) {
      case 'u8': out[field] = view.getUint8(at); break;
      case 'u16': out[field] = view.getUint16(at, true); break;
      case 'u32': out[field] = view.getUint32(at, true); break;
      case 'u64': out[field] = Number(view.getBigUint64(at, true)); break;
    }
  }
  return out;
}
