// Dynamic VHD writer (Microsoft VHD spec 1.0, "Dynamic Disk Header Format" and "Block Allocation
// Table and Data Blocks"): footer copy, dynamic header, BAT, then only the 2 MiB blocks holding
// data (each a sector bitmap + the block), then the footer. Two passes over the raw stream, as qcow2.
import { createHash } from 'node:crypto';
import { exactly, zeros } from '../chunks.js';
import { ContentSizeError, bug } from '../errors.js';
import { asciiField, defineStruct } from '@mkimage/rootfs';
import { clustersOf, scanAllocation, type RawSource } from './clusters.js';
import { VHD_FOOTER_SIZE, checkVhdSize, encodeVhdFooter, type VhdOptions } from './vhd.js';

export const VHD_DYNAMIC_COOKIE = 'cxsparse';
export const VHD_DYNAMIC_HEADER_SIZE = 1024;
export const VHD_DYNAMIC_HEADER_VERSION = 0x00010000;
/** Default block size (spec: "The default value is 0x00200000", 2 MiB). */
export const VHD_BLOCK_SIZE = 0x00200000;
/** BAT entry of a block that is not stored. */
export const VHD_BAT_UNUSED = 0xffffffff;
export const VHD_DISK_TYPE_DYNAMIC = 3;

export const VhdDynamicHeader = defineStruct('VHD dynamic header', VHD_DYNAMIC_HEADER_SIZE, [
  { name: 'cookie', offset: 0, type: 'bytes', size: 8 },
  { name: 'dataOffset', offset: 8, type: 'u64n' }, // unused: all ones
  { name: 'tableOffset', offset: 16, type: 'u64' },
  { name: 'headerVersion', offset: 24, type: 'u32' },
  { name: 'maxTableEntries', offset: 28, type: 'u32' },
  { name: 'blockSize', offset: 32, type: 'u32' },
  { name: 'checksum', offset: 36, type: 'u32' },
  { name: 'parentUniqueId', offset: 40, type: 'bytes', size: 16 },
  { name: 'parentTimeStamp', offset: 56, type: 'u32' },
  // 60: reserved, 64: parent unicode name (512), 576: 8 parent locators (24 each), 768: reserved: zeros.
] as const, { endian: 'be' });

export interface VhdDynamicPlan {
  virtualSize: number;
  allocated: Uint8Array;
  batOffset: number;
  batBytes: number;
  bitmapBytes: number;
  firstBlockOffset: number;
  blocks: number;
  size: number;
  uniqueId: Uint8Array;
  options: VhdOptions;
}

/** Both passes: scan, plan and the byte stream. */
export async function vhdDynamic(src: RawSource, o: VhdOptions = {}): Promise<{ plan: VhdDynamicPlan; chunks: AsyncIterable<Uint8Array> }> {
  checkVhdSize(src.size);
  const h = createHash('sha256');
  const allocated = await scanAllocation(src, VHD_BLOCK_SIZE, h);
  const uniqueId = o.uniqueId ?? Uint8Array.from(h.digest().subarray(0, 16));
  const maxEntries = allocated.length;
  const batBytes = Math.ceil((maxEntries * 4) / 512) * 512;
  const bitmapBytes = Math.ceil(VHD_BLOCK_SIZE / 512 / 8 / 512) * 512;
  const batOffset = VHD_FOOTER_SIZE + VHD_DYNAMIC_HEADER_SIZE;
  const firstBlockOffset = batOffset + batBytes;
  const blocks = allocated.reduce((n, a) => n + a, 0);
  const plan: VhdDynamicPlan = {
    virtualSize: src.size, allocated, batOffset, batBytes, bitmapBytes, firstBlockOffset, blocks,
    size: firstBlockOffset + blocks * (bitmapBytes + VHD_BLOCK_SIZE) + VHD_FOOTER_SIZE, uniqueId, options: o,
  };
  return { plan, chunks: exactly('VHD image', plan.size, steps(plan, src), true) };
}

function headerChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < h.length; i++) if (i < 36 || i >= 40) sum += h[i]!;
  return ~sum >>> 0;
}

async function* steps(p: VhdDynamicPlan, src: RawSource): AsyncGenerator<Uint8Array> {
  // (1) Footer copy, (2) dynamic header, (3) BAT, (4) blocks in guest order, (5) footer.
  const footer = encodeVhdFooter(p.virtualSize, p.uniqueId, { ...p.options, diskType: VHD_DISK_TYPE_DYNAMIC, dataOffset: VHD_FOOTER_SIZE });
  yield footer;
  const header = VhdDynamicHeader.encode({
    cookie: asciiField(VHD_DYNAMIC_COOKIE, 8), dataOffset: 0xffffffffffffffffn, tableOffset: p.batOffset,
    headerVersion: VHD_DYNAMIC_HEADER_VERSION, maxTableEntries: p.allocated.length, blockSize: VHD_BLOCK_SIZE, checksum: 0,
  });
  new DataView(header.buffer).setUint32(VhdDynamicHeader.offsetOf('checksum'), headerChecksum(header), false);
  yield header;
  const bat = new Uint8Array(p.batBytes).fill(0xff);
  const bv = new DataView(bat.buffer);
  let next = p.firstBlockOffset;
  for (let i = 0; i < p.allocated.length; i++) {
    if (!p.allocated[i]) continue;
    bv.setUint32(i * 4, next / 512, false); // sector offset of the block's bitmap
    next += p.bitmapBytes + VHD_BLOCK_SIZE;
  }
  yield bat;
  const bitmap = new Uint8Array(p.bitmapBytes).fill(0xff); // every sector of a stored block is present
  let stored = 0;
  for await (const c of clustersOf(src.open(), VHD_BLOCK_SIZE)) {
    if (p.allocated[c.index]) {
      yield bitmap;
      yield c.bytes;
      if (c.bytes.length < VHD_BLOCK_SIZE) yield* zeros(VHD_BLOCK_SIZE - c.bytes.length);
      stored++;
    } else if (!c.zero) {
      throw new ContentSizeError(`VHD: block ${c.index} held zeros in the first pass and data in the second; the raw stream must be reproducible`,
        { what: 'raw image', planned: 0, actual: c.index });
    }
  }
  bug(stored === p.blocks, `stored ${stored} VHD blocks, planned ${p.blocks}`);
  yield footer;
}
