// The structures the syslinux installer patches, as declared in syslinux's libinstaller/syslxint.h
// (syslinux 6.x): the patch area inside ldlinux.sys, its extended patch area, the sector extents,
// and the ADV (auxiliary data vector, libinstaller/setadv.h) stored in the file's last two sectors.
import { defineStruct } from '@mkimage/rootfs';

/** Dword marking the patch area in ldlinux.sys (syslxint.h LDLINUX_MAGIC). */
export const LDLINUX_MAGIC = 0x3eb202fe;
export const SECTOR_SIZE = 512;
/** ldlinux.sys is loaded from 0x8000 on (syslxmod.c generate_extents). */
export const LDLINUX_LOAD_ADDRESS = 0x8000;

export const PatchArea = defineStruct('syslinux patch_area', 24, [
  { name: 'magic', offset: 0, type: 'u32' },
  { name: 'instance', offset: 4, type: 'u32' },
  { name: 'dataSectors', offset: 8, type: 'u16' }, // sectors of ldlinux.sys, ADVs excluded
  { name: 'advSectors', offset: 10, type: 'u16' },
  { name: 'dwords', offset: 12, type: 'u32' }, // complete dwords covered by the checksum
  { name: 'checksum', offset: 16, type: 'u32' },
  { name: 'maxTransfer', offset: 20, type: 'u16' },
  { name: 'epaOffset', offset: 22, type: 'u16' }, // extended patch area, from the start of ldlinux.sys
] as const);

/** All fields are byte offsets (into ldlinux.sys, or into the boot sector for sect1Ptr0/1 and raidPatch). */
export const ExtPatchArea = defineStruct('syslinux ext_patch_area', 20, [
  { name: 'advPtrOffset', offset: 0, type: 'u16' },
  { name: 'dirOffset', offset: 2, type: 'u16' },
  { name: 'dirLen', offset: 4, type: 'u16' },
  { name: 'subvolOffset', offset: 6, type: 'u16' },
  { name: 'subvolLen', offset: 8, type: 'u16' },
  { name: 'secPtrOffset', offset: 10, type: 'u16' },
  { name: 'secPtrCnt', offset: 12, type: 'u16' },
  { name: 'sect1Ptr0', offset: 14, type: 'u16' },
  { name: 'sect1Ptr1', offset: 16, type: 'u16' },
  { name: 'raidPatch', offset: 18, type: 'u16' },
] as const);

/** struct syslinux_extent: 64-bit LBA and 16-bit sector count, packed. */
export const Extent = defineStruct('syslinux_extent', 10, [
  { name: 'lba', offset: 0, type: 'u64' },
  { name: 'len', offset: 8, type: 'u16' },
] as const);

/** Boot sector bytes syslinux copies from ldlinux.bss into the FAT boot sector (fs.c syslinux_make_bootsect): */
/** the jump and OEM name (0..10, FAT_bsHead up to bsBytesPerSec) ... */
export const FAT_BS_HEAD_LEN = 11;
/** ... and from bs32.Code (offset 90) up to the 0xAA55 signature (offset 510), bsMagic included. */
export const FAT_BS_CODE_OFFSET = 90;
export const FAT_BS_SIGNATURE_OFFSET = 510;

// ADV (setadv.h / advconst.h).
export const ADV_SIZE = 512;
export const ADV_MAGIC1 = 0x5a2d2fa5; // head signature
export const ADV_MAGIC2 = 0xa3041767; // total checksum
export const ADV_MAGIC3 = 0xdd28bf64; // tail signature

/** An empty ADV, twice (the copy the installer appends to ldlinux.sys): setadv.c syslinux_reset_adv. */
export function emptyAdv(): Uint8Array {
  const one = new Uint8Array(ADV_SIZE);
  const dv = new DataView(one.buffer);
  dv.setUint32(0, ADV_MAGIC1, true);
  let csum = ADV_MAGIC2;
  for (let i = 8; i < ADV_SIZE - 4; i += 4) csum = (csum - dv.getUint32(i, true)) >>> 0;
  dv.setUint32(4, csum, true);
  dv.setUint32(ADV_SIZE - 4, ADV_MAGIC3, true);
  const two = new Uint8Array(2 * ADV_SIZE);
  two.set(one, 0);
  two.set(one, ADV_SIZE);
  return two;
}
