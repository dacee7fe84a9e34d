export { planFat, fatFileOffset } from './plan.js';
export type { FatOptions, FatPlan, FatNode } from './plan.js';
export { emitFat, bootSector, standardBootSector } from './emit.js';
export type { FatType, Geometry } from './geometry.js';
export { FAT16_MIN_CLUSTERS, FAT32_MIN_CLUSTERS } from './geometry.js';
export { lfnChecksum, fatDateTime, ATTR_READ_ONLY, ATTR_HIDDEN, ATTR_SYSTEM } from './dirent.js';
export { makeShortName } from './names.js';
export { Fat16BootSector, Fat32BootSector, FsInfo } from './bpb.js';
