// Volume geometry: FAT type, cluster size, FAT size and cluster count from the total sector count,
// following fatgen103 ("FAT Type Determination", "FAT Volume Initialization", DskTableFAT16/32).
import { BYTES_PER_SECTOR } from './bpb.js';

/** A volume with fewer clusters is FAT12 (fatgen103: "CountofClusters < 4085"). */
export const FAT16_MIN_CLUSTERS = 4085;
/** A volume with at least this many clusters is FAT32 (fatgen103: "CountofClusters >= 65525"). */
export const FAT32_MIN_CLUSTERS = 65525;
/** FAT16 entries top out below the reserved values 0xFFF7.. (bad/EOC). */
export const FAT16_MAX_CLUSTERS = 65524;
/** FAT32 uses 28 bits; 0x0FFFFFF7 and up are reserved. */
export const FAT32_MAX_CLUSTERS = 0x0ffffff5;
export const NUM_FATS = 2;
/** BPB_RsvdSecCnt: 1 for FAT16, 32 for FAT32 (fatgen103 recommendations). */
export const FAT16_RESERVED_SECTORS = 1;
export const FAT32_RESERVED_SECTORS = 32;
/** BPB_RootEntCnt default for FAT16 ("a value of 512 is recommended", fatgen103). */
export const FAT16_ROOT_ENTRIES = 512;
/** Above this size, volumes are FAT32 (fatgen103's table: FAT16 recommended up to 512 MB). */
export const FAT16_MAX_SECTORS = 1048576;

/** DskTableFAT16 of fatgen103: [up to this many sectors, sectors per cluster]; 0 = not allowed. */
const DSK_TABLE_FAT16: ReadonlyArray<readonly [number, number]> = [
  [8400, 0], [32680, 2], [262144, 4], [524288, 8], [1048576, 16], [2097152, 32], [4194304, 64], [0xffffffff, 0],
];
/** DskTableFAT32 of fatgen103. */
const DSK_TABLE_FAT32: ReadonlyArray<readonly [number, number]> = [
  [66600, 0], [532480, 1], [16777216, 8], [33554432, 16], [67108864, 32], [0xffffffff, 64],
];

export type FatType = 16 | 32;

export interface Geometry {
  fatType: FatType;
  totalSectors: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  rootEntries: number;
  rootDirSectors: number;
  fatSectors: number;
  /** First sector of the data region (cluster 2). */
  firstDataSector: number;
  clusterCount: number;
  clusterBytes: number;
}

/** The cluster-size bands of a FAT type: [low (exclusive), high (inclusive), sectors per cluster]. */
export function bands(type: FatType): Array<{ lo: number; hi: number; spc: number }> {
  const table = type === 16 ? DSK_TABLE_FAT16 : DSK_TABLE_FAT32;
  const out: Array<{ lo: number; hi: number; spc: number }> = [];
  let lo = 0;
  for (const [hi, spc] of table) {
    if (spc) out.push({ lo, hi: type === 16 ? Math.min(hi, FAT16_MAX_SECTORS) : hi, spc });
    lo = hi;
  }
  return out.filter((b) => b.lo < b.hi);
}

/** Sectors per cluster fatgen103 picks for a volume size, or 0 when the type cannot have that size. */
export function sectorsPerClusterFor(type: FatType, totalSectors: number): number {
  const b = bands(type).find((x) => totalSectors > x.lo && totalSectors <= x.hi);
  return b ? b.spc : 0;
}

/** Automatic FAT type by size (FAT16 up to 512 MiB). */
export function fatTypeFor(totalSectors: number): FatType {
  return totalSectors <= FAT16_MAX_SECTORS ? 16 : 32;
}

/** Geometry for a given size and type, with an explicit cluster size; undefined when it is not a valid volume of that type. */
export function geometry(type: FatType, totalSectors: number, spc: number, rootEntries = FAT16_ROOT_ENTRIES): Geometry | undefined {
  const reservedSectors = type === 32 ? FAT32_RESERVED_SECTORS : FAT16_RESERVED_SECTORS;
  const rootEnt = type === 32 ? 0 : rootEntries;
  const rootDirSectors = Math.ceil((rootEnt * 32) / BYTES_PER_SECTOR);
  // FAT size computation of fatgen103 (slightly generous, never too small).
  const tmp1 = totalSectors - (reservedSectors + rootDirSectors);
  let tmp2 = 256 * spc + NUM_FATS;
  if (type === 32) tmp2 = tmp2 / 2;
  const fatSectors = Math.ceil(tmp1 / tmp2);
  const firstDataSector = reservedSectors + NUM_FATS * fatSectors + rootDirSectors;
  if (firstDataSector >= totalSectors) return undefined;
  const clusterCount = Math.floor((totalSectors - firstDataSector) / spc);
  const entryBytes = type === 32 ? 4 : 2;
  if ((clusterCount + 2) * entryBytes > fatSectors * BYTES_PER_SECTOR) return undefined;
  if (type === 16 && (clusterCount < FAT16_MIN_CLUSTERS || clusterCount > FAT16_MAX_CLUSTERS)) return undefined;
  if (type === 32 && (clusterCount < FAT32_MIN_CLUSTERS || clusterCount > FAT32_MAX_CLUSTERS)) return undefined;
  return {
    fatType: type, totalSectors, sectorsPerCluster: spc, reservedSectors, rootEntries: rootEnt, rootDirSectors,
    fatSectors, firstDataSector, clusterCount, clusterBytes: spc * BYTES_PER_SECTOR,
  };
}

/**
 * The smallest volume of `type` whose cluster size follows fatgen103's table and that has at least
 * `clustersNeeded(spc)` clusters; undefined when none exists.
 */
export function smallestGeometry(type: FatType, clustersNeeded: (spc: number) => number, rootEntries = FAT16_ROOT_ENTRIES): Geometry | undefined {
  for (const band of bands(type)) {
    const need = clustersNeeded(band.spc);
    const probe = geometry(type, band.hi, band.spc, rootEntries);
    if (!probe || probe.clusterCount < need) continue; // even the band's largest size is too small
    // Binary search for a small size that fits, then step down while it still fits: clusterCount is
    // monotonic except for one-sector wobbles when the FAT grows.
    let lo = band.lo + 1;
    let hi = band.hi;
    const ok = (n: number): boolean => { const g = geometry(type, n, band.spc, rootEntries); return !!g && g.clusterCount >= need; };
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (ok(mid)) hi = mid; else lo = mid + 1;
    }
    let best = hi;
    for (let n = hi - 1; n > band.lo && n >= hi - 8; n--) if (ok(n)) best = n;
    return geometry(type, best, band.spc, rootEntries);
  }
  return undefined;
}
