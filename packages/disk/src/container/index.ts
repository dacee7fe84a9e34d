export { qcow2, planQcow2, emitQcow2, Qcow2Header, QCOW_DEFAULT_CLUSTER_BITS } from './qcow2.js';
export type { Qcow2Plan } from './qcow2.js';
export { emitVhdFixed, encodeVhdFooter, vhdGeometry, vhdChecksum, VhdFooter } from './vhd.js';
export type { VhdOptions } from './vhd.js';
export { scanAllocation, clustersOf } from './clusters.js';
export type { RawSource } from './clusters.js';
export { vhdDynamic, VhdDynamicHeader, VHD_BLOCK_SIZE } from './vhd-dynamic.js';
export type { VhdDynamicPlan } from './vhd-dynamic.js';
