// A syslinux BIOS boot path on a FAT volume we write, without the syslinux installer:
//   const sl = addSyslinux(espTree, parts, { config });
//   const fat = planFat(espTree, { ...opts, attributes: sl.attributes, bootSector: sl.bootSector });
// The tree gets ldlinux.sys (+ the ADV sectors), ldlinux.c32 and syslinux.cfg at its root; the
// boot sector hook merges ldlinux.bss's code with our BPB and patches ldlinux.sys with the sectors
// the FAT plan gave it (contiguous, since our FAT allocation is). Put gptmbr.bin in the MBR and
// set GPT_ATTR_LEGACY_BIOS_BOOTABLE on the partition for a GPT disk.
import type { FileTree } from '@mkimage/rootfs';
import { bug } from '../errors.js';
import { ATTR_HIDDEN, ATTR_READ_ONLY, ATTR_SYSTEM } from '../fat/dirent.js';
import type { FatPlan } from '../fat/plan.js';
import { BYTES_PER_SECTOR } from '../fat/bpb.js';
import type { SyslinuxParts } from './extract.js';
import { ldlinuxSectors, mergeBootSector, patchLdlinux, type Patched } from './patch.js';
import { SECTOR_SIZE, emptyAdv } from './structs.js';

export const LDLINUX_SYS = 'ldlinux.sys';
export const LDLINUX_C32 = 'ldlinux.c32';
export const SYSLINUX_CFG = 'syslinux.cfg';

export interface SyslinuxInstall {
  /** For planFat: read-only + hidden + system on ldlinux.sys and ldlinux.c32, as the installer sets. */
  attributes: ReadonlyMap<string, number>;
  /** For planFat: merges the syslinux boot code with the BPB and patches ldlinux.sys. */
  bootSector: (standard: Uint8Array, plan: FatPlan) => Uint8Array;
}

export function addSyslinux(tree: FileTree, parts: SyslinuxParts, o: { config: string; mtime?: number }): SyslinuxInstall {
  const adv = emptyAdv();
  const fileLen = ldlinuxSectors(parts.ldlinuxSys.length) * SECTOR_SIZE;
  let patched: { key: string; value: Patched } | undefined;
  const patchFor = (plan: FatPlan): Patched => {
    const node = plan.node(LDLINUX_SYS);
    bug(node !== undefined && node.clusters > 0, `${LDLINUX_SYS} missing from the FAT plan`);
    const first = plan.clusterOffset(node.firstCluster) / BYTES_PER_SECTOR;
    const key = `${first}`;
    if (patched?.key !== key) {
      const sectors = Array.from({ length: ldlinuxSectors(parts.ldlinuxSys.length) }, (_, i) => first + i);
      patched = { key, value: patchLdlinux(parts.ldlinuxSys, parts.bootSector, sectors) };
    }
    return patched.value;
  };
  const meta = o.mtime !== undefined ? { mtime: o.mtime } : {};
  // ldlinux.sys: the patched image, zero padding to a whole sector, then the two ADV sectors. Its
  // bytes depend on where the FAT put it, known once the boot sector (emitted first) was built.
  tree.fileFrom(LDLINUX_SYS, fileLen, {
    kind: 'stream',
    open: async function* () {
      bug(patched !== undefined, 'ldlinux.sys read before the FAT boot sector was built');
      const img = patched.value.ldlinuxSys;
      yield img;
      yield new Uint8Array(fileLen - adv.length - img.length);
      yield adv;
    },
  }, meta);
  tree.file(LDLINUX_C32, parts.ldlinuxC32, meta);
  tree.file(SYSLINUX_CFG, o.config, meta);
  const attr = ATTR_READ_ONLY | ATTR_HIDDEN | ATTR_SYSTEM;
  return {
    attributes: new Map([[LDLINUX_SYS, attr], [LDLINUX_C32, attr]]),
    bootSector: (standard, plan) => mergeBootSector(standard, patchFor(plan).bootTemplate),
  };
}
