// qcow2 version 3 writer (QEMU docs/interop/qcow2.txt): no compression, no backing file, 16-bit
// refcounts, only clusters holding data are stored (zero clusters stay unallocated and read as zeros).
//
// File layout, in the order it is emitted: header cluster, refcount table, refcount blocks, L1
// table, L2 tables (in guest order), data clusters (in guest order). Planning needs the allocation
// map, so writing takes two passes over the raw stream (scanAllocation, then emitQcow2).
import { exactly, zeros } from '../chunks.js';
import { ContentSizeError, InvalidOptionError, bug } from '../errors.js';
import { defineStruct } from '@mkimage/rootfs';
import { clustersOf, scanAllocation, type RawSource } from './clusters.js';

export const QCOW_MAGIC = 0x514649fb; // "QFI\xfb"
export const QCOW_VERSION = 3;
export const QCOW_DEFAULT_CLUSTER_BITS = 16; // 64 KiB, qemu-img's default
/** refcount_order 4 = 16-bit refcounts (the only width qemu used before v3 made it variable). */
export const QCOW_REFCOUNT_ORDER = 4;
/** Bit 63 of L1/L2 entries: refcount is exactly one, the cluster may be written in place. */
export const QCOW_OFLAG_COPIED = 1n << 63n;
const HEADER_LENGTH_V3 = 104;

/** Header fields (qcow2.txt "Header"), big-endian. */
export const Qcow2Header = defineStruct('qcow2 header', HEADER_LENGTH_V3, [
  { name: 'magic', offset: 0, type: 'u32' },
  { name: 'version', offset: 4, type: 'u32' },
  { name: 'backingFileOffset', offset: 8, type: 'u64' },
  { name: 'backingFileSize', offset: 16, type: 'u32' },
  { name: 'clusterBits', offset: 20, type: 'u32' },
  { name: 'size', offset: 24, type: 'u64' },
  { name: 'cryptMethod', offset: 32, type: 'u32' },
  { name: 'l1Size', offset: 36, type: 'u32' },
  { name: 'l1TableOffset', offset: 40, type: 'u64' },
  { name: 'refcountTableOffset', offset: 48, type: 'u64' },
  { name: 'refcountTableClusters', offset: 56, type: 'u32' },
  { name: 'nbSnapshots', offset: 60, type: 'u32' },
  { name: 'snapshotsOffset', offset: 64, type: 'u64' },
  { name: 'incompatibleFeatures', offset: 72, type: 'u64' },
  { name: 'compatibleFeatures', offset: 80, type: 'u64' },
  { name: 'autoclearFeatures', offset: 88, type: 'u64' },
  { name: 'refcountOrder', offset: 96, type: 'u32' },
  { name: 'headerLength', offset: 100, type: 'u32' },
] as const, { endian: 'be' });

export interface Qcow2Plan {
  virtualSize: number;
  clusterSize: number;
  /** Per guest cluster: 1 = stored. */
  allocated: Uint8Array;
  l1Size: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  refcountBlocksOffset: number;
  refcountBlocks: number;
  l1Offset: number;
  l1Clusters: number;
  l2Offset: number;
  /** L1 index -> position among the stored L2 tables (or -1). */
  l2Slot: Int32Array;
  l2Count: number;
  dataOffset: number;
  dataClusters: number;
  totalClusters: number;
  size: number;
}

export function planQcow2(virtualSize: number, allocated: Uint8Array, clusterBits = QCOW_DEFAULT_CLUSTER_BITS): Qcow2Plan {
  if (!(Number.isSafeInteger(virtualSize) && virtualSize > 0 && virtualSize % 512 === 0)) {
    throw new InvalidOptionError(`qcow2: virtual size ${virtualSize} is not a positive multiple of 512`, { option: 'virtualSize', value: virtualSize });
  }
  if (!(clusterBits >= 9 && clusterBits <= 21)) throw new InvalidOptionError(`qcow2: cluster_bits ${clusterBits} outside 9..21`, { option: 'clusterBits', value: clusterBits });
  const cs = 2 ** clusterBits;
  const guestClusters = Math.ceil(virtualSize / cs);
  bug(allocated.length === guestClusters, `allocation map has ${allocated.length} entries for ${guestClusters} clusters`);
  const l2Entries = cs / 8;
  const l1Size = Math.ceil(guestClusters / l2Entries);
  const l1Clusters = Math.max(1, Math.ceil((l1Size * 8) / cs));
  const l2Slot = new Int32Array(l1Size).fill(-1);
  let l2Count = 0;
  let dataClusters = 0;
  for (let i = 0; i < guestClusters; i++) {
    if (!allocated[i]) continue;
    dataClusters++;
    const l1 = Math.floor(i / l2Entries);
    if (l2Slot[l1] === -1) l2Slot[l1] = l2Count++;
  }
  // Refcount structures cover every host cluster, themselves included: iterate to a fixed point.
  const perBlock = cs / (2 ** QCOW_REFCOUNT_ORDER / 8);
  let rb = 1;
  let rt = 1;
  for (;;) {
    const total = 1 + rt + rb + l1Clusters + l2Count + dataClusters;
    const needRb = Math.ceil(total / perBlock);
    const needRt = Math.max(1, Math.ceil((needRb * 8) / cs));
    if (needRb === rb && needRt === rt) break;
    rb = needRb;
    rt = needRt;
  }
  const refcountTableOffset = cs;
  const refcountBlocksOffset = refcountTableOffset + rt * cs;
  const l1Offset = refcountBlocksOffset + rb * cs;
  const l2Offset = l1Offset + l1Clusters * cs;
  const dataOffset = l2Offset + l2Count * cs;
  const totalClusters = 1 + rt + rb + l1Clusters + l2Count + dataClusters;
  return {
    virtualSize, clusterSize: cs, allocated, l1Size,
    refcountTableOffset, refcountTableClusters: rt, refcountBlocksOffset, refcountBlocks: rb,
    l1Offset, l1Clusters, l2Offset, l2Slot, l2Count, dataOffset, dataClusters, totalClusters,
    size: totalClusters * cs,
  };
}

/** Both passes: scan the raw stream, plan, and return the plan with the qcow2 byte stream. */
export async function qcow2(src: RawSource, clusterBits = QCOW_DEFAULT_CLUSTER_BITS): Promise<{ plan: Qcow2Plan; chunks: AsyncIterable<Uint8Array> }> {
  const allocated = await scanAllocation(src, 2 ** clusterBits);
  const plan = planQcow2(src.size, allocated, clusterBits);
  return { plan, chunks: emitQcow2(plan, src) };
}

export function emitQcow2(plan: Qcow2Plan, src: RawSource): AsyncIterable<Uint8Array> {
  return exactly('qcow2 image', plan.size, steps(plan, src), true);
}

async function* steps(p: Qcow2Plan, src: RawSource): AsyncGenerator<Uint8Array> {
  const cs = p.clusterSize;
  // (1) Header cluster (the header extension area after it stays zero: the end-of-extensions marker).
  const header = new Uint8Array(cs);
  Qcow2Header.encode({
    magic: QCOW_MAGIC, version: QCOW_VERSION, clusterBits: Math.log2(cs), size: p.virtualSize, cryptMethod: 0,
    l1Size: p.l1Size, l1TableOffset: p.l1Offset, refcountTableOffset: p.refcountTableOffset,
    refcountTableClusters: p.refcountTableClusters, refcountOrder: QCOW_REFCOUNT_ORDER, headerLength: HEADER_LENGTH_V3,
  }, header);
  yield header;
  // (2) Refcount table: one entry per refcount block.
  const rt = new Uint8Array(p.refcountTableClusters * cs);
  const rtv = new DataView(rt.buffer);
  for (let i = 0; i < p.refcountBlocks; i++) rtv.setBigUint64(i * 8, BigInt(p.refcountBlocksOffset + i * cs));
  yield rt;
  // (3) Refcount blocks: every used host cluster (0 .. totalClusters-1) has refcount 1.
  const perBlock = cs / 2;
  for (let b = 0; b < p.refcountBlocks; b++) {
    const blk = new Uint8Array(cs);
    const v = new DataView(blk.buffer);
    const n = Math.min(perBlock, p.totalClusters - b * perBlock);
    for (let i = 0; i < n; i++) v.setUint16(i * 2, 1);
    yield blk;
  }
  // (4) L1 table.
  const l1 = new Uint8Array(p.l1Clusters * cs);
  const l1v = new DataView(l1.buffer);
  for (let i = 0; i < p.l1Size; i++) {
    const slot = p.l2Slot[i]!;
    if (slot >= 0) l1v.setBigUint64(i * 8, BigInt(p.l2Offset + slot * cs) | QCOW_OFLAG_COPIED);
  }
  yield l1;
  // (5) L2 tables; data clusters are numbered in guest order.
  const l2Entries = cs / 8;
  let dataIndex = 0;
  for (let i = 0; i < p.l1Size; i++) {
    if (p.l2Slot[i]! < 0) continue;
    const l2 = new Uint8Array(cs);
    const v = new DataView(l2.buffer);
    for (let j = 0; j < l2Entries; j++) {
      const g = i * l2Entries + j;
      if (g < p.allocated.length && p.allocated[g]) {
        v.setBigUint64(j * 8, BigInt(p.dataOffset + dataIndex * cs) | QCOW_OFLAG_COPIED);
        dataIndex++;
      }
    }
    yield l2;
  }
  bug(dataIndex === p.dataClusters, `L2 tables map ${dataIndex} clusters, planned ${p.dataClusters}`);
  // (6) Data clusters, second pass over the raw stream.
  let stored = 0;
  for await (const c of clustersOf(src.open(), cs)) {
    if (p.allocated[c.index]) {
      yield c.bytes;
      if (c.bytes.length < cs) yield* zeros(cs - c.bytes.length);
      stored++;
    } else if (!c.zero) {
      throw new ContentSizeError(`qcow2: guest cluster ${c.index} held zeros in the first pass and data in the second; the raw stream must be reproducible`,
        { what: 'raw image', planned: 0, actual: c.index });
    }
  }
  bug(stored === p.dataClusters, `stored ${stored} data clusters, planned ${p.dataClusters}`);
}
