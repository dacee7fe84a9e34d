// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as GPT headers use (UEFI spec §5.3.2).
// Node >= 20.15 ships zlib.crc32 (native, fast); older Node falls back to a table-driven loop.
import * as zlib from 'node:zlib';

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | undefined;
function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Table-driven CRC-32; exported so tests can compare it with zlib's. */
export function crc32Portable(data: Uint8Array, value = 0): number {
  table ??= makeTable();
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of `data`, continuing from `value` (the CRC of the bytes before). */
export function crc32(data: Uint8Array, value = 0): number {
  return native ? native(data, value) >>> 0 : crc32Portable(data, value);
}
