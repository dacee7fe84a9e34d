// Errors of `mkimage run` (stable codes, one-line messages naming the thing and the fix).
import { CodedError } from '../app/errors.js';

/** The image path does not exist or is not a file or directory we can boot. */
export class ImageNotFoundError extends CodedError<{ path: string }> {
  static readonly code = 'E_IMAGE_NOT_FOUND';
  readonly code = ImageNotFoundError.code;
  constructor(path: string) {
    super(`${path}: no such image; give a disk image (.img, .qcow2, .vhd) or an initramfs output directory made by mkimage`, { path });
  }
}

/** The path exists but is neither a disk image nor an initramfs output directory. */
export class ImageKindError extends CodedError<{ path: string; reason: string }> {
  static readonly code = 'E_IMAGE_KIND';
  readonly code = ImageKindError.code;
  constructor(path: string, reason: string) {
    super(`${path}: not a bootable mkimage image (${reason}); give a disk image or an initramfs output directory (vmlinuz, initrd.img, cmdline)`, { path, reason });
  }
}

/** A -e, -p, --memory, --cpus or --env-file value we cannot use. */
export class RunOptionError extends CodedError<{ option: string; value: string }> {
  static readonly code = 'E_RUN_OPTIONS';
  readonly code = RunOptionError.code;
  constructor(option: string, value: string, why: string) {
    super(`${option} ${JSON.stringify(value)}: ${why}`, { option, value });
  }
}

/** A host port of a -p forward is taken (checked before QEMU starts, and from QEMU's own message). */
export class PortInUseError extends CodedError<{ hostAddr: string; hostPort: number; guestPort: number }> {
  static readonly code = 'E_PORT_IN_USE';
  readonly code = PortInUseError.code;
  constructor(hostAddr: string, hostPort: number, guestPort: number, why = 'already in use') {
    super(`host port ${hostAddr}:${hostPort} (for -p ${hostPort}:${guestPort}) is ${why}; stop what uses it or pick another host port`, { hostAddr, hostPort, guestPort });
  }
}

/** QEMU failed: it exited with an error status, or the guest kernel panicked for a reason other than the app exiting. */
export class QemuRunError extends CodedError<{ exitCode: number | null; signal: string | null; reason: string; stderr: string }> {
  static readonly code = 'E_QEMU_FAILED';
  readonly code = QemuRunError.code;
  constructor(data: { exitCode: number | null; signal: string | null; reason: string; stderr: string }) {
    super(data.reason, data);
  }
}
