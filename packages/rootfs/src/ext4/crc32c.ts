// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven, slicing by 4.
//
// ext4 uses the *raw* update form without pre/post inversion: the kernel's
// `ext4_chksum(sbi, crc, p, len)` (fs/ext4/ext4.h) is `crc32c(crc, p, len)` from lib/crc32.c, and
// e2fsprogs calls `ext2fs_crc32c_le(crc, p, len)` (lib/ext2fs/crc32c.c). Callers pass ~0 as the
// initial value where the on-disk format says so.

/** Reflected CRC32C polynomial (RFC 3720 §B.4). */
export const CRC32C_POLY = 0x82f63b78;

const TABLES = (() => {
  const t = new Uint32Array(4 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 4; s++) t[s * 256 + i] = ((t[(s - 1) * 256 + i]! >>> 8) ^ t[t[(s - 1) * 256 + i]! & 0xff]!) >>> 0;
  }
  return t;
})();

/** The raw CRC32C update: no inversion in or out (matches the kernel's crc32c_le()). */
export function crc32cUpdate(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLES;
  let c = crc >>> 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** The standard CRC32C (inverted in and out): crc32c("123456789") === 0xE3069283. */
export function crc32c(bytes: Uint8Array): number {
  return (crc32cUpdate(0xffffffff, bytes) ^ 0xffffffff) >>> 0;
}

const LE32 = new Uint8Array(4);
const LE32_VIEW = new DataView(LE32.buffer);
/** Feeds a little-endian u32 (an inode or group number) into the CRC. */
export function crc32cU32(crc: number, value: number): number {
  LE32_VIEW.setUint32(0, value >>> 0, true);
  return crc32cUpdate(crc, LE32);
}
const LE64 = new Uint8Array(8);
const LE64_VIEW = new DataView(LE64.buffer);
export function crc32cU64(crc: number, value: number): number {
  LE64_VIEW.setBigUint64(0, BigInt(value), true);
  return crc32cUpdate(crc, LE64);
}
