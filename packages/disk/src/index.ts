export * from './errors.js';
export { crc32 } from './crc32.js';
export { deriveGuid, derivePartitionGuid, guidToBytes, guidFromBytes, normalizeGuid } from './guid.js';
export { ZeroChunk, isZeroChunk, zeros, allZero } from './chunks.js';
export { writeImage, writeStream } from './output.js';
export type { WriteResult } from './output.js';
export * from './gpt/index.js';
export * from './fat/index.js';
export * from './pe/index.js';
