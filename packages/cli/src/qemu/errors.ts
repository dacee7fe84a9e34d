// Errors of the QEMU launcher and boot harness (stable codes, one-line messages).
import { CodedError } from '../app/errors.js';

export class QemuNotFoundError extends CodedError<{ binary: string; searched: string[] }> {
  static readonly code = 'E_QEMU_NOT_FOUND';
  readonly code = QemuNotFoundError.code;
  constructor(binary: string, searched: string[]) {
    super(`${binary} not found on PATH; install QEMU (Debian/Ubuntu: apt-get install qemu-system-x86)`, { binary, searched });
  }
}

export class OvmfNotFoundError extends CodedError<{ searched: string[] }> {
  static readonly code = 'E_OVMF_NOT_FOUND';
  readonly code = OvmfNotFoundError.code;
  constructor(searched: string[]) {
    super(`no OVMF UEFI firmware found (looked in ${searched.join(', ')}); install it (Debian/Ubuntu: apt-get install ovmf) or boot with BIOS`, { searched });
  }
}

export class QemuOptionError extends CodedError<{ option: string }> {
  static readonly code = 'E_QEMU_OPTIONS';
  readonly code = QemuOptionError.code;
  constructor(option: string, message: string) {
    super(`qemu options: ${option}: ${message}`, { option });
  }
}

export interface BootFailureData {
  attempts: number;
  timeoutMs: number;
  consoleTail: string;
  consoleFile?: string;
}

/** Every attempt timed out before the guest was ready. */
export class BootTimeoutError extends CodedError<BootFailureData & { waitingFor: string }> {
  static readonly code = 'E_BOOT_TIMEOUT';
  readonly code = BootTimeoutError.code;
  constructor(data: BootFailureData & { waitingFor: string }) {
    const last = lastLine(data.consoleTail);
    super(`guest not ready (${data.waitingFor}) within ${data.timeoutMs} ms in ${data.attempts} attempt(s)`
      + `; last console line: ${last ? JSON.stringify(last) : '(none)'}${data.consoleFile ? `; full console in ${data.consoleFile}` : ''}`, data);
  }
}

/** QEMU exited before the guest was ready. */
export class QemuExitedError extends CodedError<BootFailureData & { exitCode: number | null; signal: string | null; stderr: string }> {
  static readonly code = 'E_QEMU_EXITED';
  readonly code = QemuExitedError.code;
  constructor(data: BootFailureData & { exitCode: number | null; signal: string | null; stderr: string }) {
    const why = lastLine(data.stderr) || lastLine(data.consoleTail);
    super(`QEMU exited (${data.signal ?? `status ${data.exitCode}`}) before the guest was ready`
      + `${why ? `: ${JSON.stringify(why)}` : ''}${data.consoleFile ? `; console in ${data.consoleFile}` : ''}`, data);
  }
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !/^qemu-system-\S+: warning:/.test(l));
  return (lines[lines.length - 1] ?? '').slice(0, 200);
}
