// ext4 on-disk constants, named as in the kernel's fs/ext4/ext4.h (and fs/jbd2 / include/linux/jbd2.h
// for the journal), cross-checked with the kernel's "ext4 Data Structures and Algorithms" doc
// (Documentation/filesystems/ext4/*.rst). Every value here is an on-disk contract.

/** We always write 4 KiB blocks (s_log_block_size = 2: 1024 << 2). */
export const BLOCK_SIZE = 4096;
export const LOG_BLOCK_SIZE = 2;
/** The primary superblock lives at byte 1024 (ext4 doc, "Layout"). */
export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 1024;
/** One block bitmap block describes 8 * block size blocks. */
export const BLOCKS_PER_GROUP = 8 * BLOCK_SIZE;
/** EXT4_MAX_INODES_PER_GROUP-ish bound: one inode bitmap block. */
export const MAX_INODES_PER_GROUP = 8 * BLOCK_SIZE;

export const EXT4_SUPER_MAGIC = 0xef53;
export const EXT4_DYNAMIC_REV = 1;
export const EXT4_OS_LINUX = 0;
export const EXT4_VALID_FS = 0x0001; // s_state: cleanly unmounted
export const EXT4_ERRORS_CONTINUE = 1;
/** s_flags: directory hashes treat name bytes as unsigned chars (ext4.h EXT2_FLAGS_UNSIGNED_HASH). */
export const EXT2_FLAGS_UNSIGNED_HASH = 0x0002;
export const EXT4_CRC32C_CHKSUM = 1; // s_checksum_type

// s_feature_compat
export const EXT4_FEATURE_COMPAT_HAS_JOURNAL = 0x0004;
export const EXT4_FEATURE_COMPAT_EXT_ATTR = 0x0008;
export const EXT4_FEATURE_COMPAT_DIR_INDEX = 0x0020;
// s_feature_incompat
export const EXT4_FEATURE_INCOMPAT_FILETYPE = 0x0002;
export const EXT4_FEATURE_INCOMPAT_EXTENTS = 0x0040;
export const EXT4_FEATURE_INCOMPAT_64BIT = 0x0080;
export const EXT4_FEATURE_INCOMPAT_FLEX_BG = 0x0200;
// s_feature_ro_compat
export const EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER = 0x0001;
export const EXT4_FEATURE_RO_COMPAT_LARGE_FILE = 0x0002;
export const EXT4_FEATURE_RO_COMPAT_HUGE_FILE = 0x0008;
export const EXT4_FEATURE_RO_COMPAT_DIR_NLINK = 0x0020;
export const EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE = 0x0040;
export const EXT4_FEATURE_RO_COMPAT_METADATA_CSUM = 0x0400;

/** s_def_hash_version / dx_root_info.hash_version (ext4.h DX_HASH_*). */
export const DX_HASH_HALF_MD4 = 1;

/** Group descriptor size with the 64bit feature (EXT4_MIN_DESC_SIZE_64BIT). */
export const EXT4_DESC_SIZE_64BIT = 64;
/** bg_flags: inode table zeroed (EXT4_BG_INODE_ZEROED). */
export const EXT4_BG_INODE_ZEROED = 0x0004;

/** flex_bg packs the metadata of 2^4 = 16 groups together, as mke2fs does by default. */
export const LOG_GROUPS_PER_FLEX = 4;

// Inodes
export const EXT4_INODE_SIZE = 256;
/** i_extra_isize: covers checksum_hi, the *_extra times, crtime, version_hi, projid. */
export const EXT4_EXTRA_ISIZE = 32;
export const EXT4_GOOD_OLD_INODE_SIZE = 128;
export const EXT4_BAD_INO = 1;
export const EXT4_ROOT_INO = 2;
export const EXT4_JOURNAL_INO = 8;
/** s_first_ino: the first inode not reserved; mke2fs gives it to lost+found. */
export const EXT4_GOOD_OLD_FIRST_INO = 11;
export const EXT4_N_BLOCKS = 15; // i_block[] words: 60 bytes
/** i_flags */
export const EXT4_INDEX_FL = 0x00001000;
export const EXT4_EXTENTS_FL = 0x00080000;
/** i_links_count ceiling; a directory past it stores 1 (dir_nlink). */
export const EXT4_LINK_MAX = 65000;

// Extents (fs/ext4/ext4_extents.h)
export const EXT4_EXT_MAGIC = 0xf30a;
/** Longest initialized extent (EXT_INIT_MAX_LEN). */
export const EXT_INIT_MAX_LEN = 32768;
export const EXT4_EXTENT_HEADER_SIZE = 12;
export const EXT4_EXTENT_SIZE = 12;
/** Extents that fit in i_block next to the header: (60 - 12) / 12. */
export const EXT4_EXT_ROOT_MAX = 4;
/** Entries per extent tree block, leaving 4 bytes for struct ext4_extent_tail. */
export const EXT4_EXT_BLOCK_MAX = Math.floor((BLOCK_SIZE - EXT4_EXTENT_HEADER_SIZE) / EXT4_EXTENT_SIZE);

// Directories
export const EXT4_NAME_LEN = 255;
export const EXT4_DIR_ENTRY_HEADER = 8;
/** struct ext4_dir_entry_tail: a fake 12-byte dirent holding the block checksum. */
export const EXT4_DIR_TAIL_SIZE = 12;
export const EXT4_DIR_TAIL_FT = 0xde; // EXT4_FT_DIR_CSUM
export const EXT4_FT_UNKNOWN = 0;
export const EXT4_FT_REG_FILE = 1;
export const EXT4_FT_DIR = 2;
export const EXT4_FT_CHRDEV = 3;
export const EXT4_FT_BLKDEV = 4;
export const EXT4_FT_FIFO = 5;
export const EXT4_FT_SOCK = 6;
export const EXT4_FT_SYMLINK = 7;

// xattrs (fs/ext4/xattr.h)
export const EXT4_XATTR_MAGIC = 0xea020000;
export const EXT4_XATTR_BLOCK_HEADER = 32;
export const EXT4_XATTR_ENTRY_HEADER = 16;
export const EXT4_XATTR_INDEX_USER = 1;
export const EXT4_XATTR_INDEX_POSIX_ACL_ACCESS = 2;
export const EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT = 3;
export const EXT4_XATTR_INDEX_TRUSTED = 4;
export const EXT4_XATTR_INDEX_SECURITY = 6;
export const EXT4_XATTR_INDEX_SYSTEM = 7;

// jbd2 (include/linux/jbd2.h): big-endian
export const JBD2_MAGIC_NUMBER = 0xc03b3998;
export const JBD2_SUPERBLOCK_V2 = 4;
/** The kernel refuses journals shorter than this (JBD2_MIN_JOURNAL_BLOCKS). */
export const JBD2_MIN_JOURNAL_BLOCKS = 1024;
/** s_jnl_backup_type: s_jnl_blocks holds a copy of the journal inode's i_block (EXT3_JNL_BACKUP_BLOCKS). */
export const EXT3_JNL_BACKUP_BLOCKS = 1;
