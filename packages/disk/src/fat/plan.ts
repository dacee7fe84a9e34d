// planFat: names, directory sizes, cluster allocation and volume geometry of a FAT volume holding
// a FileTree. Only sizes are used: no file is read. Allocation is contiguous, in the tree's
// byte-wise path order (root first), so every file is one run of clusters.
import { createHash } from 'node:crypto';
import type { DirEntry, FileEntry, FileTree } from '@mkimage/rootfs';
import { alignUp } from '../chunks.js';
import { FatEntryError, InvalidOptionError, TooSmallError, bug } from '../errors.js';
import { BYTES_PER_SECTOR } from './bpb.js';
import { DIR_ENTRY_SIZE, lfnEntryCount } from './dirent.js';
import {
  FAT16_ROOT_ENTRIES, fatTypeFor, geometry, sectorsPerClusterFor, smallestGeometry, type FatType, type Geometry,
} from './geometry.js';
import { labelBytes, longNameProblem, makeShortName, shortNameKey } from './names.js';

export interface FatNode {
  /** Tree path ('' for the root). */
  path: string;
  /** The long name as given (the last path component). */
  name: string;
  /** 11-byte 8.3 name (DIR_Name). */
  short: Uint8Array;
  /** Long-name entries are written before the short entry. */
  needsLong: boolean;
  entry: FileEntry | DirEntry;
  /** FAT timestamp source, already clamped to the epoch. */
  mtime: number;
  /** Bytes: file size, or directory entries x 32. */
  size: number;
  /** Clusters allocated (0 for empty files and the FAT16 root directory). */
  clusters: number;
  /** First cluster (0 when none). */
  firstCluster: number;
  children: FatNode[];
  parent?: FatNode;
}

export interface FatOptions {
  /** Volume size in bytes (a multiple of 512), or 'fit' (default): the smallest volume that holds the tree. */
  sizeBytes?: number | 'fit';
  /** Force FAT16 or FAT32; default by size (FAT16 up to 512 MiB, as fatgen103's table suggests). */
  fatType?: FatType;
  /** Volume label (up to 11 short-name characters); also written as the root's volume-label entry. */
  label?: string;
  /** Timestamps are min(entry mtime, epoch) (e.g. SOURCE_DATE_EPOCH), then clamped to FAT's 1980..2107. */
  epoch?: number;
  /** BPB_HiddSec: sectors before the volume, i.e. the partition's start LBA (boot loaders in the volume, e.g. syslinux, need it). */
  hiddenSectors?: number;
  /** BS_VolID; default derived from the tree's names, sizes, times and the label. */
  volumeId?: number;
  /** Extra DIR_Attr bits per tree path (ATTR_READ_ONLY | ATTR_HIDDEN | ATTR_SYSTEM), e.g. for ldlinux.sys. */
  attributes?: ReadonlyMap<string, number>;
  /**
   * Replaces the boot sector after it is built (a boot loader's code merged with our BPB, as
   * `syslinux --install` does). Gets the standard sector and the plan; returns 512 bytes. FAT32's
   * backup boot sector receives the same bytes.
   */
  bootSector?: (standard: Uint8Array, plan: FatPlan) => Uint8Array;
}

export interface FatPlan {
  geometry: Geometry;
  sizeBytes: number;
  label: Uint8Array;
  hasLabel: boolean;
  volumeId: number;
  hiddenSectors: number;
  root: FatNode;
  /** Nodes holding clusters, in cluster order. */
  allocation: FatNode[];
  /** Clusters in use (2 .. 2 + usedClusters - 1). */
  usedClusters: number;
  /** Byte offset of a cluster within the volume. */
  clusterOffset(cluster: number): number;
  /** Looks a node up by tree path. */
  node(path: string): FatNode | undefined;
  attributes?: ReadonlyMap<string, number>;
  bootSectorHook?: (standard: Uint8Array, plan: FatPlan) => Uint8Array;
}

const NO_LABEL = 'NO NAME    ';

export function planFat(tree: FileTree, o: FatOptions = {}): FatPlan {
  const hiddenSectors = o.hiddenSectors ?? 0;
  if (!(Number.isSafeInteger(hiddenSectors) && hiddenSectors >= 0 && hiddenSectors <= 0xffffffff)) {
    throw new InvalidOptionError(`hiddenSectors ${hiddenSectors} is not a 32-bit sector count`, { option: 'hiddenSectors', value: hiddenSectors });
  }
  let label: Uint8Array = Uint8Array.from(Buffer.from(NO_LABEL, 'latin1'));
  if (o.label !== undefined) {
    const b = labelBytes(o.label);
    if (!b) throw new InvalidOptionError(`volume label "${o.label}" must be 1-11 characters from A-Z, 0-9, space and $%'-_@~\`!(){}^#&`, { option: 'label', value: o.label });
    label = b;
  }
  const hasLabel = o.label !== undefined;

  // (1) Nodes and names, directory by directory.
  const nodes = new Map<string, FatNode>();
  const clampTime = (t: number): number => (o.epoch !== undefined ? Math.min(t, o.epoch) : t);
  let root: FatNode | undefined;
  for (const e of tree.entries()) {
    if (e.type !== 'dir' && e.type !== 'file') {
      throw new FatEntryError(`${e.path}: a ${e.type} cannot be stored on FAT; only directories and regular files can (replace it with a copy of the file)`, { path: e.path, reason: e.type });
    }
    const name = e.path === '' ? '' : e.path.slice(e.path.lastIndexOf('/') + 1);
    const node: FatNode = {
      path: e.path, name, short: new Uint8Array(11), needsLong: false, entry: e, mtime: clampTime(e.mtime),
      size: e.type === 'file' ? e.size : 0, clusters: 0, firstCluster: 0, children: [],
    };
    if (e.type === 'file' && e.size > 0xffffffff) {
      throw new FatEntryError(`${e.path}: ${e.size} bytes is over FAT's 4 GiB file size limit`, { path: e.path, reason: 'size' });
    }
    if (e.path === '') { root = node; nodes.set('', node); continue; }
    const parent = nodes.get(e.path.slice(0, Math.max(0, e.path.lastIndexOf('/'))));
    if (!parent) throw new FatEntryError(`${e.path}: parent directory missing from the tree`, { path: e.path, reason: 'parent' });
    const problem = longNameProblem(name);
    if (problem) throw new FatEntryError(`${e.path}: the name ${problem}; rename it`, { path: e.path, reason: 'name' });
    node.parent = parent;
    parent.children.push(node);
    nodes.set(e.path, node);
  }
  if (!root) throw new FatEntryError('the tree has no root directory', { path: '', reason: 'root' });

  for (const dir of nodes.values()) {
    if (dir.entry.type !== 'dir') continue;
    const taken = new Set<string>();
    const longSeen = new Map<string, string>();
    for (const c of dir.children) {
      // FAT compares names without case: two names equal up to case cannot live in one directory.
      const key = c.name.toUpperCase();
      const other = longSeen.get(key);
      if (other !== undefined) {
        throw new FatEntryError(`${c.path}: FAT ignores case, so it clashes with ${other}; rename one of them`, { path: c.path, reason: 'clash' });
      }
      longSeen.set(key, c.path);
      const { short, needsLong } = makeShortName(c.name, taken);
      taken.add(shortNameKey(short));
      c.short = short;
      c.needsLong = needsLong;
    }
    const slots = dir.children.reduce((n, c) => n + 1 + (c.needsLong ? lfnEntryCount(c.name) : 0), 0)
      + (dir === root ? (hasLabel ? 1 : 0) : 2); // volume label in the root; "." and ".." elsewhere
    dir.size = slots * DIR_ENTRY_SIZE;
  }

  // (2) Geometry: given or the smallest that fits.
  const rootEntries = Math.max(FAT16_ROOT_ENTRIES, alignUp(root.size / DIR_ENTRY_SIZE, BYTES_PER_SECTOR / DIR_ENTRY_SIZE));
  const all = [...nodes.values()];
  const clustersNeeded = (type: FatType, spc: number): number => {
    const cb = spc * BYTES_PER_SECTOR;
    let n = 0;
    for (const x of all) {
      if (x === root && type === 16) continue; // FAT16 root lives in its own region
      n += x.entry.type === 'dir' ? Math.max(1, Math.ceil(x.size / cb)) : Math.ceil(x.size / cb);
    }
    return n;
  };
  let geo: Geometry | undefined;
  if (o.sizeBytes === undefined || o.sizeBytes === 'fit') {
    const types: FatType[] = o.fatType ? [o.fatType] : [16, 32];
    for (const type of types) {
      geo = smallestGeometry(type, (spc) => clustersNeeded(type, spc), rootEntries);
      if (geo) break;
    }
    if (!geo) throw new TooSmallError('FAT: the tree is too large for any FAT volume', { what: 'FAT volume', needed: Infinity, available: 0 });
  } else {
    const sizeBytes = o.sizeBytes;
    if (!(Number.isSafeInteger(sizeBytes) && sizeBytes > 0 && sizeBytes % BYTES_PER_SECTOR === 0)) {
      throw new InvalidOptionError(`FAT volume size ${sizeBytes} is not a positive multiple of ${BYTES_PER_SECTOR}`, { option: 'sizeBytes', value: sizeBytes });
    }
    const total = sizeBytes / BYTES_PER_SECTOR;
    const type = o.fatType ?? fatTypeFor(total);
    const spc = sectorsPerClusterFor(type, total);
    geo = spc ? geometry(type, total, spc, rootEntries) : undefined;
    if (!geo) {
      throw new TooSmallError(`FAT${type}: ${sizeBytes} bytes is not a valid FAT${type} volume size (cluster count out of range); use 'fit' or another size`,
        { what: 'FAT volume', needed: sizeBytes, available: sizeBytes });
    }
    const need = clustersNeeded(type, spc);
    if (need > geo.clusterCount) {
      const fit = smallestGeometry(type, (s) => clustersNeeded(type, s), rootEntries);
      const hint = fit ? `; it needs at least ${fit.totalSectors * BYTES_PER_SECTOR} bytes` : '';
      throw new TooSmallError(`FAT${type}: the files need ${need} clusters of ${geo.clusterBytes} bytes but a ${sizeBytes}-byte volume has ${geo.clusterCount}${hint}`,
        { what: 'FAT volume', needed: need * geo.clusterBytes, available: geo.clusterCount * geo.clusterBytes });
    }
  }
  const g = geo;

  // (3) Clusters, in path order (the root, at cluster 2, first on FAT32).
  const allocation: FatNode[] = [];
  let next = 2;
  for (const x of all) {
    if (x === root && g.fatType === 16) continue;
    const clusters = x.entry.type === 'dir' ? Math.max(1, Math.ceil(x.size / g.clusterBytes)) : Math.ceil(x.size / g.clusterBytes);
    if (!clusters) continue;
    x.clusters = clusters;
    x.firstCluster = next;
    next += clusters;
    allocation.push(x);
  }

  const volumeId = o.volumeId ?? deriveVolumeId(all, label, g);
  return {
    geometry: g,
    sizeBytes: g.totalSectors * BYTES_PER_SECTOR,
    label, hasLabel, volumeId, hiddenSectors, root, allocation,
    usedClusters: next - 2,
    clusterOffset: (c) => (g.firstDataSector + (c - 2) * g.sectorsPerCluster) * BYTES_PER_SECTOR,
    node: (p) => nodes.get(p),
    ...(o.attributes ? { attributes: o.attributes } : {}),
    ...(o.bootSector ? { bootSectorHook: o.bootSector } : {}),
  };
}

/**
 * Where a file's bytes start within the volume. Allocation is contiguous, so they run on from there
 * for the file's size (a BIOS loader reads the UKI's sections by sector number).
 */
export function fatFileOffset(plan: FatPlan, path: string): number {
  const n = plan.node(path);
  if (!n || n.entry.type !== 'file' || n.clusters === 0) {
    throw new InvalidOptionError(`FAT: ${path} is not a non-empty file of the volume`, { option: 'path', value: path });
  }
  bug(plan.allocation.includes(n) && n.clusters === Math.ceil(n.size / plan.geometry.clusterBytes), `${path} is not one run of clusters`);
  return plan.clusterOffset(n.firstCluster);
}

function deriveVolumeId(nodes: FatNode[], label: Uint8Array, g: Geometry): number {
  const h = createHash('sha256');
  h.update(`mkimage FAT volume id\0${g.fatType}\0${g.totalSectors}\0`).update(label);
  for (const n of nodes) h.update(`\0${n.path}\0${n.entry.type}\0${n.size}\0${n.mtime}`);
  return h.digest().readUInt32LE(0);
}
