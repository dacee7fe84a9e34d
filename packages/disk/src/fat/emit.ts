// emitFat: the bytes of a planned FAT volume in ascending order:
// (1) reserved region (boot sector; FAT32: FSInfo, backup boot sector, backup FSInfo),
// (2) both FATs, (3) FAT16: the fixed root directory, (4) clusters in allocation order,
// (5) free clusters and the sectors past the last whole cluster, as zeros.
import { readData } from '@mkimage/rootfs';
import { asciiField } from '@mkimage/rootfs';
import { exactly, padTo, zeros } from '../chunks.js';
import { bug } from '../errors.js';
import {
  BOOT_SIGNATURE, BYTES_PER_SECTOR, DRIVE_NUMBER_HARD_DISK, EXTENDED_BOOT_SIGNATURE, FAT32_BACKUP_BOOT_SECTOR,
  FAT32_FSINFO_SECTOR, Fat16BootSector, Fat32BootSector, FSI_LEAD_SIG, FSI_STRUC_SIG, FSI_TRAIL_SIG, FSI_UNKNOWN, FsInfo,
  MEDIA_FIXED, NOT_BOOTABLE_CODE,
} from './bpb.js';
import { ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_HIDDEN, ATTR_READ_ONLY, ATTR_SYSTEM, ATTR_VOLUME_ID, DIR_ENTRY_SIZE, ShortDirEntry, encodeLongEntries, fatDateTime } from './dirent.js';
import { NUM_FATS } from './geometry.js';
import type { FatNode, FatPlan } from './plan.js';

/** End-of-chain marks (fatgen103: any value >= 0xFFF8 / 0x0FFFFFF8; these are what formatters write). */
const FAT16_EOC = 0xffff;
const FAT32_EOC = 0x0fffffff;
/** Legacy CHS geometry in the BPB: the customary 63 sectors x 255 heads. */
const SECTORS_PER_TRACK = 63;
const NUM_HEADS = 255;
const OEM_NAME = 'MKIMAGE ';

export function emitFat(plan: FatPlan): AsyncIterable<Uint8Array> {
  return exactly('FAT volume', plan.sizeBytes, steps(plan), true);
}

/** The boot sector (sector 0; FAT32 also keeps a copy in sector 6), after the plan's boot sector hook. */
export function bootSector(plan: FatPlan): Uint8Array {
  const std = standardBootSector(plan);
  if (!plan.bootSectorHook) return std;
  const out = plan.bootSectorHook(std, plan);
  bug(out.length === BYTES_PER_SECTOR, `boot sector hook returned ${out.length} bytes`);
  return out;
}

/** Our boot sector: BPB plus the not-bootable stub. */
export function standardBootSector(plan: FatPlan): Uint8Array {
  const g = plan.geometry;
  const common = {
    oemName: asciiField(OEM_NAME, 8),
    bytsPerSec: BYTES_PER_SECTOR,
    secPerClus: g.sectorsPerCluster,
    rsvdSecCnt: g.reservedSectors,
    numFats: NUM_FATS,
    rootEntCnt: g.rootEntries,
    totSec16: g.fatType === 16 && g.totalSectors < 0x10000 ? g.totalSectors : 0,
    media: MEDIA_FIXED,
    secPerTrk: SECTORS_PER_TRACK,
    numHeads: NUM_HEADS,
    hiddSec: plan.hiddenSectors,
    totSec32: g.fatType === 16 && g.totalSectors < 0x10000 ? 0 : g.totalSectors,
    drvNum: DRIVE_NUMBER_HARD_DISK,
    bootSig: EXTENDED_BOOT_SIGNATURE,
    volId: plan.volumeId,
    volLab: plan.label,
    code: NOT_BOOTABLE_CODE,
    signature: BOOT_SIGNATURE,
  };
  if (g.fatType === 16) {
    // jmpBoot: EB xx 90 jumping to the code after the BPB (fatgen103).
    return Fat16BootSector.encode({ ...common, jmpBoot: Uint8Array.from([0xeb, 0x3c, 0x90]), fatSz16: g.fatSectors, filSysType: asciiField('FAT16', 8) });
  }
  return Fat32BootSector.encode({
    ...common, jmpBoot: Uint8Array.from([0xeb, 0x58, 0x90]), fatSz16: 0, fatSz32: g.fatSectors, extFlags: 0, fsVer: 0,
    rootClus: plan.root.firstCluster, fsInfo: FAT32_FSINFO_SECTOR, bkBootSec: FAT32_BACKUP_BOOT_SECTOR, filSysType: asciiField('FAT32', 8),
  });
}

function fsInfoSector(plan: FatPlan): Uint8Array {
  const free = plan.geometry.clusterCount - plan.usedClusters;
  return FsInfo.encode({
    leadSig: FSI_LEAD_SIG, strucSig: FSI_STRUC_SIG, freeCount: free,
    nxtFree: free > 0 ? 2 + plan.usedClusters : FSI_UNKNOWN, trailSig: FSI_TRAIL_SIG,
  });
}

async function* steps(plan: FatPlan): AsyncGenerator<Uint8Array> {
  const g = plan.geometry;
  // (1) Reserved region.
  const boot = bootSector(plan);
  if (g.fatType === 16) {
    yield boot;
    yield* zeros((g.reservedSectors - 1) * BYTES_PER_SECTOR);
  } else {
    const fsinfo = fsInfoSector(plan);
    yield boot;
    yield fsinfo;
    yield* zeros((FAT32_BACKUP_BOOT_SECTOR - 2) * BYTES_PER_SECTOR);
    yield boot;
    yield fsinfo;
    yield* zeros((g.reservedSectors - FAT32_BACKUP_BOOT_SECTOR - 2) * BYTES_PER_SECTOR);
  }
  // (2) The FATs, identical copies.
  for (let i = 0; i < NUM_FATS; i++) yield* exactly(`FAT #${i + 1}`, g.fatSectors * BYTES_PER_SECTOR, fatTable(plan), true);
  // (3) FAT16 fixed root directory region.
  if (g.fatType === 16) yield encodeDirectory(plan, plan.root, g.rootDirSectors * BYTES_PER_SECTOR);
  // (4) Clusters, contiguous from cluster 2.
  let cluster = 2;
  for (const n of plan.allocation) {
    bug(n.firstCluster === cluster, `${n.path}: allocated at cluster ${n.firstCluster}, emitting ${cluster}`);
    const room = n.clusters * g.clusterBytes;
    if (n.entry.type === 'dir') yield encodeDirectory(plan, n, room);
    else yield* padTo(n.path, room, readData(n.entry));
    cluster += n.clusters;
  }
  // (5) Free space.
  yield* zeros(plan.sizeBytes - plan.clusterOffset(cluster));
}

/** One FAT, generated in blocks from the allocation runs (memory: one block plus the run list). */
function* fatTable(plan: FatPlan): Generator<Uint8Array> {
  const g = plan.geometry;
  const wide = g.fatType === 32;
  const entryBytes = wide ? 4 : 2;
  const totalEntries = (g.fatSectors * BYTES_PER_SECTOR) / entryBytes;
  const endCluster = 2 + plan.usedClusters; // first free cluster
  const lastOfRun = new Set(plan.allocation.map((n) => n.firstCluster + n.clusters - 1));
  const EOC = wide ? FAT32_EOC : FAT16_EOC;
  const BLOCK_ENTRIES = 32768;
  for (let start = 0; start < endCluster; start += BLOCK_ENTRIES) {
    const count = Math.min(BLOCK_ENTRIES, totalEntries - start);
    const buf = new Uint8Array(count * entryBytes);
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < count; i++) {
      const c = start + i;
      let v: number;
      if (c === 0) v = wide ? 0x0fffff00 | MEDIA_FIXED : 0xff00 | MEDIA_FIXED; // FAT[0]: media byte (fatgen103)
      else if (c === 1) v = EOC; // FAT[1]: EOC with the clean-shutdown and no-error bits set
      else if (c >= endCluster) break;
      else v = lastOfRun.has(c) ? EOC : c + 1;
      if (wide) dv.setUint32(i * 4, v, true); else dv.setUint16(i * 2, v, true);
    }
    yield buf;
    if (start + count >= totalEntries) return;
  }
  const emitted = Math.ceil(endCluster / BLOCK_ENTRIES) * BLOCK_ENTRIES;
  if (emitted < totalEntries) yield* zeros((totalEntries - emitted) * entryBytes);
}

/** A directory's entries, zero-padded to `room` bytes (zero first byte = end of directory). */
export function encodeDirectory(plan: FatPlan, dir: FatNode, room: number): Uint8Array {
  bug(dir.size <= room, `${dir.path}: directory of ${dir.size} bytes in ${room}`);
  const buf = new Uint8Array(room);
  let at = 0;
  const short = (name: Uint8Array, attr: number, cluster: number, size: number, mtime: number): void => {
    const { date, time, tenth } = fatDateTime(mtime);
    ShortDirEntry.encode({
      name, attr, ntRes: 0, crtTimeTenth: tenth, crtTime: time, crtDate: date, lstAccDate: date,
      fstClusHi: cluster >>> 16, wrtTime: time, wrtDate: date, fstClusLo: cluster & 0xffff, fileSize: size,
    }, buf, at);
    at += DIR_ENTRY_SIZE;
  };
  if (dir === plan.root) {
    if (plan.hasLabel) short(plan.label, ATTR_VOLUME_ID, 0, 0, dir.mtime);
  } else {
    // "." and ".." (fatgen103): ".." of a first-level directory points to cluster 0, meaning the root.
    const parent = dir.parent!;
    short(asciiDot('.'), ATTR_DIRECTORY, dir.firstCluster, 0, dir.mtime);
    short(asciiDot('..'), ATTR_DIRECTORY, parent === plan.root ? 0 : parent.firstCluster, 0, parent.mtime);
  }
  for (const c of dir.children) {
    if (c.needsLong) at = encodeLongEntries(c.name, c.short, buf, at);
    const isDir = c.entry.type === 'dir';
    const extra = (plan.attributes?.get(c.path) ?? 0) & (ATTR_READ_ONLY | ATTR_HIDDEN | ATTR_SYSTEM);
    short(c.short, (isDir ? ATTR_DIRECTORY : ATTR_ARCHIVE) | extra, c.firstCluster, isDir ? 0 : c.size, c.mtime);
  }
  bug(at === dir.size, `${dir.path}: encoded ${at} directory bytes, planned ${dir.size}`);
  return buf;
}

function asciiDot(s: string): Uint8Array {
  return asciiField(s, 11);
}
