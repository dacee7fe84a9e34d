// The protective MBR in LBA 0 (UEFI spec §5.2.3, Tables 5-3 and 5-4).
import { defineStruct } from '@mkimage/rootfs';

export const MBR_SIZE = 512;
/** Bytes of boot code before the (unused) disk signature (UEFI spec Table 5-3). */
export const MBR_BOOT_CODE_SIZE = 440;
/** OSType of the protective partition record (UEFI spec §5.2.3). */
export const GPT_PROTECTIVE_OS_TYPE = 0xee;
/** Boot indicator of a legacy active partition (UEFI spec Table 5-2). */
export const MBR_BOOT_INDICATOR_ACTIVE = 0x80;
export const MBR_SIGNATURE = 0xaa55;

/** Legacy MBR (UEFI spec Table 5-3). */
export const Mbr = defineStruct('MBR', MBR_SIZE, [
  { name: 'bootCode', offset: 0, type: 'bytes', size: MBR_BOOT_CODE_SIZE },
  { name: 'uniqueMbrDiskSignature', offset: 440, type: 'u32' }, // unused by UEFI
  { name: 'unknown', offset: 444, type: 'u16' },
  { name: 'partitionRecord0', offset: 446, type: 'bytes', size: 16 },
  { name: 'partitionRecord1', offset: 462, type: 'bytes', size: 16 },
  { name: 'partitionRecord2', offset: 478, type: 'bytes', size: 16 },
  { name: 'partitionRecord3', offset: 494, type: 'bytes', size: 16 },
  { name: 'signature', offset: 510, type: 'u16' }, // 0xAA55
] as const);

/** One MBR partition record (UEFI spec Table 5-4). */
export const MbrPartitionRecord = defineStruct('MBR partition record', 16, [
  { name: 'bootIndicator', offset: 0, type: 'u8' },
  { name: 'startingChs', offset: 1, type: 'bytes', size: 3 },
  { name: 'osType', offset: 4, type: 'u8' },
  { name: 'endingChs', offset: 5, type: 'bytes', size: 3 },
  { name: 'startingLba', offset: 8, type: 'u32' },
  { name: 'sizeInLba', offset: 12, type: 'u32' },
] as const);

/** CHS address of an LBA with the customary 255 heads x 63 sectors geometry; 0xFFFFFF past cylinder 1023. */
export function lbaToChs(lba: number): Uint8Array {
  const HEADS = 255;
  const SECTORS = 63;
  const c = Math.floor(lba / (HEADS * SECTORS));
  if (c > 1023) return Uint8Array.from([0xff, 0xff, 0xff]);
  const h = Math.floor(lba / SECTORS) % HEADS;
  const s = (lba % SECTORS) + 1;
  return Uint8Array.from([h, ((c >> 2) & 0xc0) | s, c & 0xff]);
}

export interface ProtectiveMbrOptions {
  diskSectors: number;
  bootCode?: Uint8Array;
  /** Mark the protective record active (0x80): some legacy BIOSes only boot a disk with an active partition. */
  active?: boolean;
}

export function encodeProtectiveMbr(o: ProtectiveMbrOptions): Uint8Array {
  const sizeInLba = Math.min(o.diskSectors - 1, 0xffffffff);
  const record = MbrPartitionRecord.encode({
    bootIndicator: o.active ? MBR_BOOT_INDICATOR_ACTIVE : 0,
    startingChs: Uint8Array.from([0x00, 0x02, 0x00]), // LBA 1 (UEFI spec §5.2.3)
    osType: GPT_PROTECTIVE_OS_TYPE,
    endingChs: lbaToChs(sizeInLba),
    startingLba: 1,
    sizeInLba,
  });
  return Mbr.encode({
    ...(o.bootCode ? { bootCode: o.bootCode } : {}),
    partitionRecord0: record,
    signature: MBR_SIGNATURE,
  });
}
