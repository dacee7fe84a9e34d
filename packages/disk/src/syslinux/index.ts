export { extractSyslinux, SyslinuxError, DEBIAN_SYSLINUX_INSTALLER } from './extract.js';
export type { SyslinuxParts } from './extract.js';
export { addSyslinux, LDLINUX_SYS, LDLINUX_C32, SYSLINUX_CFG } from './install.js';
export type { SyslinuxInstall } from './install.js';
export { patchLdlinux, generateExtents, mergeBootSector, ldlinuxSectors } from './patch.js';
export { emptyAdv, LDLINUX_MAGIC } from './structs.js';
