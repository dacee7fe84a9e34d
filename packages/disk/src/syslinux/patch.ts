// What `syslinux --install` computes once ldlinux.sys has a place on the volume
// (libinstaller/syslxmod.c syslinux_patch and generate_extents, fs.c syslinux_make_bootsect):
// the sector list patched into ldlinux.sys, its checksum, and the boot sector code merged with the BPB.
import { InternalError } from '../errors.js';
import {
  ADV_SIZE, Extent, ExtPatchArea, FAT_BS_CODE_OFFSET, FAT_BS_HEAD_LEN, FAT_BS_SIGNATURE_OFFSET, LDLINUX_LOAD_ADDRESS,
  LDLINUX_MAGIC, PatchArea, SECTOR_SIZE,
} from './structs.js';

/** Sectors of the installed file: ldlinux.sys rounded up to sectors, plus the two ADV sectors. */
export function ldlinuxSectors(ldlinuxSysLength: number): number {
  return Math.ceil(ldlinuxSysLength / SECTOR_SIZE) + 2;
}

/** generate_extents: runs of consecutive sectors, none longer than 64 KiB or crossing a 64 KiB boundary in memory. */
export function generateExtents(sectors: readonly number[]): Array<{ lba: number; len: number }> {
  const out: Array<{ lba: number; len: number }> = [];
  let addr = LDLINUX_LOAD_ADDRESS;
  let base = addr;
  let lba = 0;
  let len = 0;
  for (const sect of sectors) {
    if (len) {
      const xbytes = (len + 1) * SECTOR_SIZE;
      if (sect === lba + len && xbytes < 65536 && ((addr ^ (base + xbytes - 1)) & 0xffff0000) === 0) {
        len++;
        addr += SECTOR_SIZE;
        continue;
      }
      out.push({ lba, len });
    }
    base = addr;
    lba = sect;
    len = 1;
    addr += SECTOR_SIZE;
  }
  if (len) out.push({ lba, len });
  return out;
}

export interface Patched {
  /** ldlinux.sys with the patch area filled in (length unchanged). */
  ldlinuxSys: Uint8Array;
  /** The boot sector template with the first-sector pointer filled in. */
  bootTemplate: Uint8Array;
}

/**
 * Patches copies of ldlinux.sys and its boot sector template for a file whose sectors (relative to
 * the start of the volume) are `sectors`: ldlinuxSectors(len) of them, ADVs last.
 */
export function patchLdlinux(ldlinuxSys: Uint8Array, bootTemplate: Uint8Array, sectors: readonly number[]): Patched {
  const img = Uint8Array.from(ldlinuxSys);
  const bs = Uint8Array.from(bootTemplate);
  const idv = new DataView(img.buffer);
  const bdv = new DataView(bs.buffer);
  const nsect = ldlinuxSectors(img.length);
  if (sectors.length < nsect) throw new InternalError(`ldlinux.sys needs ${nsect} sectors, got ${sectors.length}`);
  let pa = -1;
  for (let i = 0; i + 4 <= img.length; i += 4) if (idv.getUint32(i, true) === LDLINUX_MAGIC) { pa = i; break; }
  if (pa < 0) throw new InternalError('ldlinux.sys has no patch area');
  const patch = PatchArea.decode(img, pa);
  const epa = ExtPatchArea.decode(img, patch.epaOffset);

  // (1) The boot sector loads the first sector itself: 64-bit LBA as two dwords.
  bdv.setUint32(epa.sect1Ptr0, sectors[0]! >>> 0, true);
  bdv.setUint32(epa.sect1Ptr1, Math.floor(sectors[0]! / 2 ** 32), true);
  const rest = sectors.slice(1);
  // (2) Totals.
  const dw = img.length >>> 2;
  // (3) Extents for the data sectors after the first, then the two ADV sector pointers.
  const extents = generateExtents(rest.slice(0, nsect - 1 - 2));
  if (extents.length > epa.secPtrCnt) throw new InternalError(`ldlinux.sys has room for ${epa.secPtrCnt} extents, needs ${extents.length}`);
  img.fill(0, epa.secPtrOffset, epa.secPtrOffset + epa.secPtrCnt * Extent.size);
  extents.forEach((e, i) => Extent.encode(e, img, epa.secPtrOffset + i * Extent.size));
  idv.setBigUint64(epa.advPtrOffset, BigInt(rest[nsect - 1 - 2]!), true);
  idv.setBigUint64(epa.advPtrOffset + 8, BigInt(rest[nsect - 1 - 1]!), true);
  PatchArea.encode({ ...patch, dataSectors: nsect - 2, advSectors: 2, dwords: dw, checksum: 0 }, img, pa);
  // (4) Negative checksum over the complete dwords: LDLINUX_MAGIC - sum.
  let csum = LDLINUX_MAGIC;
  for (let i = 0; i < dw; i++) csum = (csum - idv.getUint32(i * 4, true)) >>> 0;
  idv.setUint32(pa + PatchArea.offsetOf('checksum'), csum, true);
  return { ldlinuxSys: img, bootTemplate: bs };
}

/** syslinux_make_bootsect for FAT: the template's jump/OEM name and code around our BPB. */
export function mergeBootSector(ours: Uint8Array, template: Uint8Array): Uint8Array {
  const out = Uint8Array.from(ours);
  out.set(template.subarray(0, FAT_BS_HEAD_LEN), 0);
  out.set(template.subarray(FAT_BS_CODE_OFFSET, FAT_BS_SIGNATURE_OFFSET), FAT_BS_CODE_OFFSET);
  return out;
}

export { ADV_SIZE };
