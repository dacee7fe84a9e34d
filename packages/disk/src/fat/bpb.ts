// The FAT boot sector with its BPB, and the FAT32 FSInfo sector.
// Offsets and names from Microsoft's "FAT: General Overview of On-Disk Format" (fatgen103, 2000),
// section "Boot Sector and BPB Structure" and "FAT32 FSInfo Sector Structure".
import { defineStruct } from '@mkimage/rootfs';

export const BYTES_PER_SECTOR = 512;
/** BS_BootSig: the three fields after it are present (fatgen103). */
export const EXTENDED_BOOT_SIGNATURE = 0x29;
/** BPB_Media for fixed media; also the low byte of FAT[0] (fatgen103). */
export const MEDIA_FIXED = 0xf8;
/** BS_DrvNum for a hard disk (int 13h numbering). */
export const DRIVE_NUMBER_HARD_DISK = 0x80;
/** Signature word at offset 510 of the boot sector (fatgen103: "0x55 at 510, 0xAA at 511"). */
export const BOOT_SIGNATURE = 0xaa55;

/** Fields shared by FAT12/16/32 (offsets 0..35). */
const common = [
  { name: 'jmpBoot', offset: 0, type: 'bytes', size: 3 },
  { name: 'oemName', offset: 3, type: 'bytes', size: 8 },
  { name: 'bytsPerSec', offset: 11, type: 'u16' },
  { name: 'secPerClus', offset: 13, type: 'u8' },
  { name: 'rsvdSecCnt', offset: 14, type: 'u16' },
  { name: 'numFats', offset: 16, type: 'u8' },
  { name: 'rootEntCnt', offset: 17, type: 'u16' }, // 0 on FAT32
  { name: 'totSec16', offset: 19, type: 'u16' },
  { name: 'media', offset: 21, type: 'u8' },
  { name: 'fatSz16', offset: 22, type: 'u16' }, // 0 on FAT32
  { name: 'secPerTrk', offset: 24, type: 'u16' },
  { name: 'numHeads', offset: 26, type: 'u16' },
  { name: 'hiddSec', offset: 28, type: 'u32' }, // sectors before the partition: syslinux relies on it
  { name: 'totSec32', offset: 32, type: 'u32' },
  { name: 'signature', offset: 510, type: 'u16' },
] as const;

export const Fat16BootSector = defineStruct('FAT16 boot sector', BYTES_PER_SECTOR, [
  ...common,
  { name: 'drvNum', offset: 36, type: 'u8' },
  { name: 'reserved1', offset: 37, type: 'u8' },
  { name: 'bootSig', offset: 38, type: 'u8' },
  { name: 'volId', offset: 39, type: 'u32' },
  { name: 'volLab', offset: 43, type: 'bytes', size: 11 },
  { name: 'filSysType', offset: 54, type: 'bytes', size: 8 },
  { name: 'code', offset: 62, type: 'bytes', size: 448 }, // 0x3E..0x1FD
] as const);

export const Fat32BootSector = defineStruct('FAT32 boot sector', BYTES_PER_SECTOR, [
  ...common,
  { name: 'fatSz32', offset: 36, type: 'u32' },
  { name: 'extFlags', offset: 40, type: 'u16' }, // 0: FATs mirrored
  { name: 'fsVer', offset: 42, type: 'u16' }, // 0.0
  { name: 'rootClus', offset: 44, type: 'u32' },
  { name: 'fsInfo', offset: 48, type: 'u16' },
  { name: 'bkBootSec', offset: 50, type: 'u16' },
  { name: 'reserved', offset: 52, type: 'bytes', size: 12 },
  { name: 'drvNum', offset: 64, type: 'u8' },
  { name: 'reserved1', offset: 65, type: 'u8' },
  { name: 'bootSig', offset: 66, type: 'u8' },
  { name: 'volId', offset: 67, type: 'u32' },
  { name: 'volLab', offset: 71, type: 'bytes', size: 11 },
  { name: 'filSysType', offset: 82, type: 'bytes', size: 8 },
  { name: 'code', offset: 90, type: 'bytes', size: 420 }, // 0x5A..0x1FD
] as const);

/** FAT32 FSInfo sector (fatgen103 "FAT32 FSInfo Sector Structure and Backup Boot Sector"). */
export const FsInfo = defineStruct('FAT32 FSInfo', BYTES_PER_SECTOR, [
  { name: 'leadSig', offset: 0, type: 'u32' },
  { name: 'strucSig', offset: 484, type: 'u32' },
  { name: 'freeCount', offset: 488, type: 'u32' },
  { name: 'nxtFree', offset: 492, type: 'u32' },
  { name: 'trailSig', offset: 508, type: 'u32' },
] as const);
export const FSI_LEAD_SIG = 0x41615252;
export const FSI_STRUC_SIG = 0x61417272;
export const FSI_TRAIL_SIG = 0xaa550000;
/** FSI_Free_Count / FSI_Nxt_Free value meaning "unknown". */
export const FSI_UNKNOWN = 0xffffffff;
/** Where FAT32 keeps FSInfo and the backup boot sector (fatgen103 recommends 1 and 6). */
export const FAT32_FSINFO_SECTOR = 1;
export const FAT32_BACKUP_BOOT_SECTOR = 6;

/**
 * Boot code for a volume nobody should boot from: `int 18h` (BIOS: boot failed, try the next
 * device), then `jmp $`. jmpBoot jumps here.
 */
export const NOT_BOOTABLE_CODE = Uint8Array.from([0xcd, 0x18, 0xeb, 0xfe]);
