// Finds syslinux's boot sector (ldlinux.bss), ldlinux.sys and ldlinux.c32 inside Debian's
// `syslinux` installer binary (/usr/bin/syslinux), which embeds them as byte arrays (bin2c) and
// ships them nowhere else. Located by content, each cross-checked:
// - the boot sector: "EB 58 90 'SYSLINUX'" with 0xAA55 at 510 and LDLINUX_MAGIC at 504;
// - ldlinux.sys: "\r\nSYSLINUX " right after it, holding the patch area (LDLINUX_MAGIC);
// - ldlinux.c32: the 32-bit ELF that follows ldlinux.sys; its size from its ELF header.
// The lengths (ldlinux.c32's start minus ldlinux.sys's start; the ELF size) must also appear as
// 32-bit values in the binary, where bin2c stored them.
import { DiskError } from '../errors.js';
import { LDLINUX_MAGIC, SECTOR_SIZE } from './structs.js';

export class SyslinuxError extends DiskError<{ file: string; reason: string }> {
  static readonly code = 'E_SYSLINUX';
  constructor(message: string, data: { file: string; reason: string }) {
    super(SyslinuxError.code, message, data);
  }
}

export interface SyslinuxParts {
  /** ldlinux.bss: the 512-byte FAT boot sector template. */
  bootSector: Uint8Array;
  /** ldlinux.sys as embedded (without the ADV sectors). */
  ldlinuxSys: Uint8Array;
  /** ldlinux.c32, the matching core module. */
  ldlinuxC32: Uint8Array;
  /** Version text from ldlinux.sys, e.g. "SYSLINUX 6.04". */
  version: string;
}

export const DEBIAN_SYSLINUX_INSTALLER = '/usr/bin/syslinux';

export function extractSyslinux(bin: Uint8Array, file = DEBIAN_SYSLINUX_INSTALLER): SyslinuxParts {
  const b = Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength);
  const fail = (reason: string): never => {
    throw new SyslinuxError(`${file}: cannot find syslinux's embedded loader (${reason}); is it the installer from Debian's syslinux package (6.x)?`, { file, reason });
  };
  let bs = -1;
  for (let i = b.indexOf('\xeb\x58\x90SYSLINUX', 0, 'latin1'); i >= 0; i = b.indexOf('\xeb\x58\x90SYSLINUX', i + 1, 'latin1')) {
    if (i + SECTOR_SIZE <= b.length && b.readUInt16LE(i + 510) === 0xaa55 && b.readUInt32LE(i + 504) === LDLINUX_MAGIC) { bs = i; break; }
  }
  if (bs < 0) fail('no ldlinux.bss boot sector');
  const sys = bs + SECTOR_SIZE;
  if (b.toString('latin1', sys, sys + 11) !== '\r\nSYSLINUX ') fail('ldlinux.sys does not follow the boot sector');
  const elf = b.indexOf(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x01, 0x01, 0x01]), sys);
  if (elf < 0) fail('no ldlinux.c32 ELF after ldlinux.sys');
  const sysLen = elf - sys;
  // ELF32 header: e_shoff at 0x20, e_shentsize at 0x2E, e_shnum at 0x30: the section headers end the file.
  const c32Len = b.readUInt32LE(elf + 0x20) + b.readUInt16LE(elf + 0x2e) * b.readUInt16LE(elf + 0x30);
  if (elf + c32Len > b.length) fail('ldlinux.c32 runs past the end of the file');
  const stored = (n: number): boolean => { const v = Buffer.alloc(4); v.writeUInt32LE(n); return b.indexOf(v) >= 0; };
  if (!stored(sysLen) || !stored(c32Len) || sysLen % 4) fail(`lengths ${sysLen}/${c32Len} not confirmed by the binary`);
  const ldlinuxSys = Uint8Array.from(b.subarray(sys, elf));
  let magic = -1;
  for (let i = 0; i + 4 <= ldlinuxSys.length; i += 4) if (b.readUInt32LE(sys + i) === LDLINUX_MAGIC) { magic = i; break; }
  if (magic < 0) fail('ldlinux.sys has no patch area');
  const version = b.toString('latin1', sys + 2, b.indexOf(0, sys + 2)).trim();
  return { bootSector: Uint8Array.from(b.subarray(bs, sys)), ldlinuxSys, ldlinuxC32: Uint8Array.from(b.subarray(elf, elf + c32Len)), version };
}
