// struct ext4_inode (fs/ext4/ext4.h; ext4 doc "Index Nodes"): 256 bytes, of which 128 are the
// classic inode, 32 the extra fields (i_extra_isize = 32) and the rest in-inode xattr space.
import { crc32cU32, crc32cUpdate } from './crc32c.js';
import { EXT4_EXTRA_ISIZE, EXT4_GOOD_OLD_INODE_SIZE, EXT4_INODE_SIZE } from './constants.js';
import { defineStruct, hi32, lo32 } from '../struct.js';

export const Inode = defineStruct('ext4_inode', EXT4_INODE_SIZE, [
  { name: 'i_mode', offset: 0x00, type: 'u16' },
  { name: 'i_uid', offset: 0x02, type: 'u16' },
  { name: 'i_size_lo', offset: 0x04, type: 'u32' },
  { name: 'i_atime', offset: 0x08, type: 'u32' },
  { name: 'i_ctime', offset: 0x0c, type: 'u32' },
  { name: 'i_mtime', offset: 0x10, type: 'u32' },
  { name: 'i_dtime', offset: 0x14, type: 'u32' },
  { name: 'i_gid', offset: 0x18, type: 'u16' },
  { name: 'i_links_count', offset: 0x1a, type: 'u16' },
  { name: 'i_blocks_lo', offset: 0x1c, type: 'u32' }, // 512-byte units (no HUGE_FILE_FL)
  { name: 'i_flags', offset: 0x20, type: 'u32' },
  { name: 'l_i_version', offset: 0x24, type: 'u32' },
  { name: 'i_block', offset: 0x28, type: 'bytes', size: 60 }, // extent root, fast symlink, or device number
  { name: 'i_generation', offset: 0x64, type: 'u32' },
  { name: 'i_file_acl_lo', offset: 0x68, type: 'u32' }, // xattr block
  { name: 'i_size_high', offset: 0x6c, type: 'u32' },
  { name: 'l_i_blocks_high', offset: 0x74, type: 'u16' },
  { name: 'l_i_file_acl_high', offset: 0x76, type: 'u16' },
  { name: 'l_i_uid_high', offset: 0x78, type: 'u16' },
  { name: 'l_i_gid_high', offset: 0x7a, type: 'u16' },
  { name: 'l_i_checksum_lo', offset: 0x7c, type: 'u16' },
  { name: 'i_extra_isize', offset: 0x80, type: 'u16' },
  { name: 'i_checksum_hi', offset: 0x82, type: 'u16' },
  { name: 'i_ctime_extra', offset: 0x84, type: 'u32' },
  { name: 'i_mtime_extra', offset: 0x88, type: 'u32' },
  { name: 'i_atime_extra', offset: 0x8c, type: 'u32' },
  { name: 'i_crtime', offset: 0x90, type: 'u32' },
  { name: 'i_crtime_extra', offset: 0x94, type: 'u32' },
  { name: 'i_version_hi', offset: 0x98, type: 'u32' },
  { name: 'i_projid', offset: 0x9c, type: 'u32' },
] as const, { wrap: true });

const CSUM_LO = 0x7c;
const CSUM_HI = 0x82;
/** Where in-inode xattrs start: after the 128 classic bytes and i_extra_isize more. */
export const INODE_XATTR_OFFSET = EXT4_GOOD_OLD_INODE_SIZE + EXT4_EXTRA_ISIZE;

/**
 * Seconds representable with the extra epoch bits: (s32)i_xtime + (epoch << 32), epoch 0..2
 * (ext4_decode_extra_time). Epoch 3 with a negative low word is what e2fsck treats as a
 * pre-1970 time written by old kernels, so it is off limits: years 1901..2310.
 */
export const MIN_TIME = -0x8000_0000;
export const MAX_TIME = 3 * 0x1_0000_0000 - 0x8000_0000 - 1;

/** i_xtime and i_xtime_extra for a time (ext4_encode_extra_time, fs/ext4/ext4.h). */
export function encodeTime(sec: number, nsec: number): { lo: number; extra: number } {
  const s32 = ((sec % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000; // low 32 bits, unsigned
  const asSigned = s32 >= 0x8000_0000 ? s32 - 0x1_0000_0000 : s32;
  const epoch = (sec - asSigned) / 0x1_0000_0000;
  return { lo: s32, extra: ((epoch & 3) | (nsec << 2)) >>> 0 };
}

/** Everything the planner decides about one inode. */
export interface InodeFields {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  links: number;
  mtime: number;
  mtimeNsec: number;
  /** 512-byte sectors: data, extent tree and xattr blocks. */
  sectors: number;
  flags: number;
  fileAcl: number;
  /** In-inode xattr area (starting with the 4-byte magic), or undefined. */
  inlineXattrs?: Uint8Array | undefined;
}

/** The per-inode checksum seed: crc32c(csum_seed, le32 ino || le32 generation) (ext4_inode_csum_seed). */
export function inodeCsumSeed(csumSeed: number, ino: number, generation = 0): number {
  return crc32cU32(crc32cU32(csumSeed, ino), generation);
}

/** Encodes inode `ino` with its 60-byte i_block into `out` at `at` (256 zero bytes) and seals its checksum. */
export function encodeInode(f: InodeFields, iblock: Uint8Array, ino: number, csumSeed: number, out: Uint8Array, at: number): void {
  const t = encodeTime(f.mtime, f.mtimeNsec);
  Inode.encode({
    i_mode: f.mode,
    i_uid: f.uid & 0xffff, l_i_uid_high: f.uid >>> 16,
    i_gid: f.gid & 0xffff, l_i_gid_high: f.gid >>> 16,
    i_size_lo: lo32(f.size), i_size_high: hi32(f.size),
    // The tree carries one time; atime, ctime and crtime repeat it so the image is reproducible.
    i_atime: t.lo, i_ctime: t.lo, i_mtime: t.lo, i_crtime: t.lo,
    i_atime_extra: t.extra, i_ctime_extra: t.extra, i_mtime_extra: t.extra, i_crtime_extra: t.extra,
    i_links_count: f.links,
    i_blocks_lo: lo32(f.sectors), l_i_blocks_high: hi32(f.sectors),
    i_flags: f.flags,
    i_block: iblock,
    i_file_acl_lo: lo32(f.fileAcl), l_i_file_acl_high: hi32(f.fileAcl),
    i_extra_isize: EXT4_EXTRA_ISIZE,
  }, out, at);
  if (f.inlineXattrs) out.set(f.inlineXattrs, at + INODE_XATTR_OFFSET);
  sealInode(out, at, ino, csumSeed);
}

/**
 * i_checksum: crc32c over the whole inode with both checksum fields read as zero, seeded with the
 * inode's seed; the low 16 bits go to l_i_checksum_lo, the high to i_checksum_hi (ext4_inode_csum).
 */
export function sealInode(out: Uint8Array, at: number, ino: number, csumSeed: number): void {
  const view = new DataView(out.buffer, out.byteOffset);
  view.setUint16(at + CSUM_LO, 0, true);
  view.setUint16(at + CSUM_HI, 0, true);
  const crc = crc32cUpdate(inodeCsumSeed(csumSeed, ino), out, at, at + EXT4_INODE_SIZE);
  view.setUint16(at + CSUM_LO, crc & 0xffff, true);
  view.setUint16(at + CSUM_HI, crc >>> 16, true);
}
