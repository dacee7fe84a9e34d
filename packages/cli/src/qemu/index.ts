// QEMU launcher and boot harness: used by the boot tests and by `mkimage run`.
export * from './errors.js';
export { findQemu, findOvmf, kvmUsable, FIRMWARE_DESCRIPTOR_DIRS, OVMF_FALLBACKS, type Accel, type QemuInstall, type Ovmf, type FindQemuOptions, type FindOvmfOptions } from './find.js';
export { qemuArgs, qemuEscape, type QemuOptions, type DiskOption, type Firmware, type PortForward, type GuestForward } from './args.js';
export { startQemu, liveQemuCount, type QemuProcess, type QemuExit, type StartOptions } from './process.js';
export { bootAndWait, runToExit, freePort, initExitStatus, type BootOptions, type BootResult, type BootTimings, type ReadyCheck, type RunResult, type BootContext } from './boot.js';
export { copyOvmfVars } from './ovmf-vars.js';
