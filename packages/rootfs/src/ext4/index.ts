// Public API of the ext4 writer: plan, then stream.
import { Readable } from 'node:stream';
import type { FileTree } from '../tree.js';
import { type Ext4Chunk, type Ext4EmitOptions, emitExt4, emitExt4Chunks } from './emit.js';
import { type Ext4Layout, type Ext4Options, planExt4 } from './plan.js';

export { Ext4Error, type Ext4ErrorCode } from './errors.js';
export { planExt4, FIT_HEADROOM, FIT_SLACK_BLOCKS, type Ext4Layout, type Ext4Options, type Region as Ext4Region } from './plan.js';
export { emitExt4, emitExt4Chunks, type Ext4Chunk, type Ext4EmitOptions } from './emit.js';
export type { DataRuns as Ext4DataRuns } from './nodes.js';
export { formatUuid as formatExt4Uuid } from './identity.js';

/** The filesystem image as byte chunks, from byte 0 to the end (planning happens on first pull). */
export async function* ext4Chunks(tree: FileTree, options: Ext4Options = {}): AsyncGenerator<Uint8Array> {
  yield* emitExt4(planExt4(tree, options));
}

/**
 * The filesystem image as offset-tagged chunks with skippable zero runs (for sparse disk images).
 * `emit.reuseBuffers`: see Ext4EmitOptions (only for consumers done with a chunk before the next).
 */
export async function* ext4SparseChunks(tree: FileTree, options: Ext4Options = {}, emit: Ext4EmitOptions = {}): AsyncGenerator<Ext4Chunk> {
  yield* emitExt4Chunks(planExt4(tree, options), emit);
}

/** The filesystem image as a Node stream. Planning errors surface as stream errors. */
export function writeExt4(tree: FileTree, options: Ext4Options = {}): Readable {
  return Readable.from(ext4Chunks(tree, options), { objectMode: false });
}

/** Plans and reports the image size without reading any file data. */
export function ext4Size(tree: FileTree, options: Ext4Options = {}): number {
  return planExt4(tree, options).size;
}

export type { Ext4Layout as Layout };
