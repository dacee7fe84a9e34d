// Extended attributes (fs/ext4/xattr.h, xattr.c; ext4 doc "Extended Attributes"): a list of
// struct ext4_xattr_entry (16 bytes + name, 4-aligned) ended by a zero u32, values packed from
// the end of the area downwards. Lives either in the inode after i_extra_isize (offsets relative to
// the first entry) or in one block with a 32-byte header (offsets relative to the block).
import { crc32cU64, crc32cUpdate } from './crc32c.js';
import {
  BLOCK_SIZE, EXT4_INODE_SIZE, EXT4_XATTR_BLOCK_HEADER, EXT4_XATTR_ENTRY_HEADER, EXT4_XATTR_INDEX_POSIX_ACL_ACCESS,
  EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT, EXT4_XATTR_INDEX_SECURITY, EXT4_XATTR_INDEX_SYSTEM, EXT4_XATTR_INDEX_TRUSTED,
  EXT4_XATTR_INDEX_USER, EXT4_XATTR_MAGIC,
} from './constants.js';
import { INODE_XATTR_OFFSET } from './inode.js';
import { defineStruct } from '../struct.js';

export const XattrEntry = defineStruct('ext4_xattr_entry', EXT4_XATTR_ENTRY_HEADER, [
  { name: 'e_name_len', offset: 0, type: 'u8' },
  { name: 'e_name_index', offset: 1, type: 'u8' },
  { name: 'e_value_offs', offset: 2, type: 'u16' },
  { name: 'e_value_inum', offset: 4, type: 'u32' },
  { name: 'e_value_size', offset: 8, type: 'u32' },
  { name: 'e_hash', offset: 12, type: 'u32' },
] as const, { wrap: true });

export const XattrBlockHeader = defineStruct('ext4_xattr_header', EXT4_XATTR_BLOCK_HEADER, [
  { name: 'h_magic', offset: 0, type: 'u32' },
  { name: 'h_refcount', offset: 4, type: 'u32' },
  { name: 'h_blocks', offset: 8, type: 'u32' },
  { name: 'h_hash', offset: 12, type: 'u32' },
  { name: 'h_checksum', offset: 16, type: 'u32' },
] as const, { wrap: true });

/** Name prefixes and their e_name_index (fs/ext4/xattr.c ext4_xattr_handler_map). Longest first. */
const PREFIXES: ReadonlyArray<[string, number]> = [
  ['system.posix_acl_access', EXT4_XATTR_INDEX_POSIX_ACL_ACCESS],
  ['system.posix_acl_default', EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT],
  ['security.', EXT4_XATTR_INDEX_SECURITY],
  ['trusted.', EXT4_XATTR_INDEX_TRUSTED],
  ['user.', EXT4_XATTR_INDEX_USER],
  ['system.', EXT4_XATTR_INDEX_SYSTEM],
];

export interface XattrItem { index: number; name: Uint8Array; value: Uint8Array; hash: number }

const NAME_HASH_SHIFT = 5;
const VALUE_HASH_SHIFT = 16;
const BLOCK_HASH_SHIFT = 16;

/** ext4_xattr_hash_entry(): over the name bytes, then the value as little-endian u32 words. */
export function xattrEntryHash(name: Uint8Array, value: Uint8Array): number {
  let hash = 0;
  for (const c of name) hash = ((hash << NAME_HASH_SHIFT) ^ (hash >>> (32 - NAME_HASH_SHIFT)) ^ c) >>> 0;
  const padded = new Uint8Array((value.length + 3) & ~3);
  padded.set(value);
  const view = new DataView(padded.buffer);
  for (let i = 0; i < padded.length; i += 4) {
    hash = ((hash << VALUE_HASH_SHIFT) ^ (hash >>> (32 - VALUE_HASH_SHIFT)) ^ view.getUint32(i, true)) >>> 0;
  }
  return hash;
}

export class XattrNameError extends Error {
  constructor(readonly attr: string, readonly reason: string) { super(reason); }
}

/** Splits names into (index, suffix) and sorts them as the kernel expects in a block. */
export function xattrItems(xattrs: ReadonlyMap<string, Uint8Array>): XattrItem[] {
  const items: XattrItem[] = [];
  for (const [full, value] of xattrs) {
    const p = PREFIXES.find(([prefix]) => full.startsWith(prefix));
    if (!p) throw new XattrNameError(full, `unknown namespace (use user., trusted., security. or system.)`);
    if (p[1] === EXT4_XATTR_INDEX_POSIX_ACL_ACCESS || p[1] === EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT) {
      // ext4 keeps ACLs in its own compact format, not the user-space one we are handed.
      throw new XattrNameError(full, 'POSIX ACLs are not supported by the ext4 writer yet');
    }
    const name = Buffer.from(full.slice(p[0].length), 'utf8');
    if (name.length > 255) throw new XattrNameError(full, 'name longer than 255 bytes');
    items.push({ index: p[1], name, value, hash: xattrEntryHash(name, value) });
  }
  // ext4_xattr_find_entry() relies on (index, name_len, name) order in blocks.
  items.sort((a, b) => a.index - b.index || a.name.length - b.name.length || Buffer.compare(a.name, b.name));
  return items;
}

const entrySize = (i: XattrItem): number => (EXT4_XATTR_ENTRY_HEADER + i.name.length + 3) & ~3;
const valueSize = (i: XattrItem): number => (i.value.length + 3) & ~3;

/** Bytes the items need: entries, the 4-byte terminator, values. */
export function xattrBytes(items: readonly XattrItem[]): number {
  return items.reduce((n, i) => n + entrySize(i) + valueSize(i), 4);
}

/** Space after i_extra_isize: 256 - 160 = 96 bytes, of which 4 are the magic. */
export const INODE_XATTR_SPACE = EXT4_INODE_SIZE - INODE_XATTR_OFFSET - 4;
export const BLOCK_XATTR_SPACE = BLOCK_SIZE - EXT4_XATTR_BLOCK_HEADER;

/** Writes entries from `entriesAt` and values down from `end`; offsets relative to `base`. */
function layoutItems(out: Uint8Array, items: readonly XattrItem[], entriesAt: number, end: number, base: number): void {
  let e = entriesAt;
  let v = end;
  for (const i of items) {
    v -= valueSize(i);
    out.set(i.value, v);
    XattrEntry.encode({
      e_name_len: i.name.length, e_name_index: i.index, e_value_offs: i.value.length ? v - base : 0,
      e_value_inum: 0, e_value_size: i.value.length, e_hash: i.hash,
    }, out, e);
    out.set(i.name, e + EXT4_XATTR_ENTRY_HEADER);
    e += entrySize(i);
  }
  if (e + 4 > v) throw new Error('BUG: xattr entries overlap values');
}

/** The in-inode area (from offset 160 to 256: magic + entries + values). */
export function inodeXattrArea(items: readonly XattrItem[]): Uint8Array {
  const out = new Uint8Array(EXT4_INODE_SIZE - INODE_XATTR_OFFSET);
  new DataView(out.buffer).setUint32(0, EXT4_XATTR_MAGIC, true);
  layoutItems(out, items, 4, out.length, 4);
  return out;
}

/** An xattr block at physical block `blockNr`, hashed and checksummed (ext4_xattr_block_csum). */
export function xattrBlock(items: readonly XattrItem[], blockNr: number, csumSeed: number): Uint8Array {
  const out = new Uint8Array(BLOCK_SIZE);
  layoutItems(out, items, EXT4_XATTR_BLOCK_HEADER, BLOCK_SIZE, 0);
  // ext4_xattr_rehash(): the block hash folds the entry hashes.
  let hash = 0;
  for (const i of items) hash = ((hash << BLOCK_HASH_SHIFT) ^ (hash >>> (32 - BLOCK_HASH_SHIFT)) ^ i.hash) >>> 0;
  XattrBlockHeader.encode({ h_magic: EXT4_XATTR_MAGIC, h_refcount: 1, h_blocks: 1, h_hash: hash, h_checksum: 0 }, out, 0);
  const crc = crc32cUpdate(crc32cU64(csumSeed, blockNr), out);
  XattrBlockHeader.encode({ h_checksum: crc }, out, 0);
  return out;
}
