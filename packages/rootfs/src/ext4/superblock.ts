// struct ext4_super_block (fs/ext4/ext4.h; ext4 doc "Super Block"). 1024 bytes, little-endian.
import { crc32cUpdate } from './crc32c.js';
import { SUPERBLOCK_SIZE } from './constants.js';
import { defineStruct } from '../struct.js';

export const Superblock = defineStruct('ext4_super_block', SUPERBLOCK_SIZE, [
  { name: 's_inodes_count', offset: 0x00, type: 'u32' },
  { name: 's_blocks_count_lo', offset: 0x04, type: 'u32' },
  { name: 's_r_blocks_count_lo', offset: 0x08, type: 'u32' },
  { name: 's_free_blocks_count_lo', offset: 0x0c, type: 'u32' },
  { name: 's_free_inodes_count', offset: 0x10, type: 'u32' },
  { name: 's_first_data_block', offset: 0x14, type: 'u32' },
  { name: 's_log_block_size', offset: 0x18, type: 'u32' },
  { name: 's_log_cluster_size', offset: 0x1c, type: 'u32' },
  { name: 's_blocks_per_group', offset: 0x20, type: 'u32' },
  { name: 's_clusters_per_group', offset: 0x24, type: 'u32' },
  { name: 's_inodes_per_group', offset: 0x28, type: 'u32' },
  { name: 's_mtime', offset: 0x2c, type: 'u32' }, // last mount: 0 = never
  { name: 's_wtime', offset: 0x30, type: 'u32' },
  { name: 's_mnt_count', offset: 0x34, type: 'u16' },
  { name: 's_max_mnt_count', offset: 0x36, type: 'u16' },
  { name: 's_magic', offset: 0x38, type: 'u16' },
  { name: 's_state', offset: 0x3a, type: 'u16' },
  { name: 's_errors', offset: 0x3c, type: 'u16' },
  { name: 's_minor_rev_level', offset: 0x3e, type: 'u16' },
  { name: 's_lastcheck', offset: 0x40, type: 'u32' },
  { name: 's_checkinterval', offset: 0x44, type: 'u32' },
  { name: 's_creator_os', offset: 0x48, type: 'u32' },
  { name: 's_rev_level', offset: 0x4c, type: 'u32' },
  { name: 's_def_resuid', offset: 0x50, type: 'u16' },
  { name: 's_def_resgid', offset: 0x52, type: 'u16' },
  { name: 's_first_ino', offset: 0x54, type: 'u32' },
  { name: 's_inode_size', offset: 0x58, type: 'u16' },
  { name: 's_block_group_nr', offset: 0x5a, type: 'u16' }, // which group this copy lives in
  { name: 's_feature_compat', offset: 0x5c, type: 'u32' },
  { name: 's_feature_incompat', offset: 0x60, type: 'u32' },
  { name: 's_feature_ro_compat', offset: 0x64, type: 'u32' },
  { name: 's_uuid', offset: 0x68, type: 'bytes', size: 16 },
  { name: 's_volume_name', offset: 0x78, type: 'bytes', size: 16 },
  { name: 's_last_mounted', offset: 0x88, type: 'bytes', size: 64 },
  { name: 's_reserved_gdt_blocks', offset: 0xce, type: 'u16' },
  { name: 's_journal_uuid', offset: 0xd0, type: 'bytes', size: 16 },
  { name: 's_journal_inum', offset: 0xe0, type: 'u32' },
  { name: 's_hash_seed', offset: 0xec, type: 'bytes', size: 16 },
  { name: 's_def_hash_version', offset: 0xfc, type: 'u8' },
  { name: 's_jnl_backup_type', offset: 0xfd, type: 'u8' },
  { name: 's_desc_size', offset: 0xfe, type: 'u16' },
  { name: 's_default_mount_opts', offset: 0x100, type: 'u32' },
  { name: 's_first_meta_bg', offset: 0x104, type: 'u32' },
  { name: 's_mkfs_time', offset: 0x108, type: 'u32' },
  { name: 's_jnl_blocks', offset: 0x10c, type: 'bytes', size: 68 }, // 17 x u32
  { name: 's_blocks_count_hi', offset: 0x150, type: 'u32' },
  { name: 's_r_blocks_count_hi', offset: 0x154, type: 'u32' },
  { name: 's_free_blocks_count_hi', offset: 0x158, type: 'u32' },
  { name: 's_min_extra_isize', offset: 0x15c, type: 'u16' },
  { name: 's_want_extra_isize', offset: 0x15e, type: 'u16' },
  { name: 's_flags', offset: 0x160, type: 'u32' },
  { name: 's_log_groups_per_flex', offset: 0x174, type: 'u8' },
  { name: 's_checksum_type', offset: 0x175, type: 'u8' },
  { name: 's_kbytes_written', offset: 0x178, type: 'u64' },
  // Bits 32..39 of the times above (timestamps past 2106).
  { name: 's_wtime_hi', offset: 0x274, type: 'u8' },
  { name: 's_mtime_hi', offset: 0x275, type: 'u8' },
  { name: 's_mkfs_time_hi', offset: 0x276, type: 'u8' },
  { name: 's_lastcheck_hi', offset: 0x277, type: 'u8' },
  { name: 's_checksum', offset: 0x3fc, type: 'u32' },
] as const, { wrap: true });

/** Offset of s_checksum: the checksum covers every byte before it. */
export const SB_CHECKSUM_OFFSET = 0x3fc;

/** Fills s_checksum: crc32c(~0, superblock[0..0x3FC)) (ext4_superblock_csum, fs/ext4/super.c). */
export function sealSuperblock(sb: Uint8Array): Uint8Array {
  const csum = crc32cUpdate(0xffffffff, sb, 0, SB_CHECKSUM_OFFSET);
  new DataView(sb.buffer, sb.byteOffset).setUint32(SB_CHECKSUM_OFFSET, csum, true);
  return sb;
}
