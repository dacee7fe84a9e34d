// The internal jbd2 journal (include/linux/jbd2.h journal_superblock_t; ext4 doc "Journal"):
// inode 8, one contiguous run of blocks whose first block is a big-endian v2 superblock. s_start = 0
// means "clean, nothing to replay", so the kernel mounts read-write without recovery.
import { BLOCK_SIZE, JBD2_MAGIC_NUMBER, JBD2_MIN_JOURNAL_BLOCKS, JBD2_SUPERBLOCK_V2 } from './constants.js';
import { defineStruct } from '../struct.js';

export const JournalSuperblock = defineStruct('journal_superblock_t', 1024, [
  { name: 'h_magic', offset: 0x0, type: 'u32' },
  { name: 'h_blocktype', offset: 0x4, type: 'u32' },
  { name: 'h_sequence', offset: 0x8, type: 'u32' },
  { name: 's_blocksize', offset: 0xc, type: 'u32' },
  { name: 's_maxlen', offset: 0x10, type: 'u32' }, // journal length in blocks
  { name: 's_first', offset: 0x14, type: 'u32' }, // first log block
  { name: 's_sequence', offset: 0x18, type: 'u32' },
  { name: 's_start', offset: 0x1c, type: 'u32' }, // 0: the log is empty
  { name: 's_errno', offset: 0x20, type: 'u32' },
  { name: 's_feature_compat', offset: 0x24, type: 'u32' },
  { name: 's_feature_incompat', offset: 0x28, type: 'u32' },
  { name: 's_feature_ro_compat', offset: 0x2c, type: 'u32' },
  { name: 's_uuid', offset: 0x30, type: 'bytes', size: 16 },
  { name: 's_nr_users', offset: 0x40, type: 'u32' },
] as const, { endian: 'be', wrap: true });

/** Journal length for a filesystem of `blocks` blocks (ext2fs_default_journal_size, e2fsprogs lib/ext2fs/mkjournal.c). */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 32768) return JBD2_MIN_JOURNAL_BLOCKS;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}

/** The first journal block (as ext2fs_create_journal_superblock writes it for an internal journal). */
export function journalSuperblock(blocks: number, uuid: Uint8Array): Uint8Array {
  const out = new Uint8Array(BLOCK_SIZE);
  JournalSuperblock.encode({
    h_magic: JBD2_MAGIC_NUMBER, h_blocktype: JBD2_SUPERBLOCK_V2, h_sequence: 0,
    s_blocksize: BLOCK_SIZE, s_maxlen: blocks, s_first: 1, s_sequence: 1, s_start: 0,
    s_uuid: uuid, s_nr_users: 1,
  }, out);
  return out;
}
