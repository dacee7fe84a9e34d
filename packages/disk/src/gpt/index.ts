export * from './types.js';
export { planDisk, SECTOR_SIZE, DEFAULT_ALIGNMENT, FIRST_USABLE_LBA } from './plan.js';
export type { DiskOptions, DiskPlan, PartitionSpec, PlannedPartition } from './plan.js';
export { emitDisk, gptStructures } from './emit.js';
export { GptHeader, GptEntry } from './header.js';
export { Mbr, MbrPartitionRecord } from './mbr.js';
