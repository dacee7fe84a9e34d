// The cpio "newc" (SVR4, no CRC) header: one field table drives both encode and decode.
//
// Format: Linux Documentation/driver-api/early-userspace/buffer-format.rst, "cpio_file_header":
// a 6-byte magic "070701" followed by 13 fields of 8 ASCII hex digits, then the NUL-terminated
// name padded so the data starts on a 4-byte boundary, then the data padded to 4 bytes.
// The archive ends with an entry named "TRAILER!!!".

/** newc magic (buffer-format.rst: c_magic "070701"; "070702" is the CRC variant we do not write). */
export const CPIO_NEWC_MAGIC = '070701';
/** Name of the entry that ends an archive (buffer-format.rst: "TRAILER!!!"). */
export const CPIO_TRAILER_NAME = 'TRAILER!!!';
/** Header length: 6 magic + 13 * 8 hex digits (buffer-format.rst). */
export const CPIO_HEADER_SIZE = 110;
/** Header+name and data are each padded to a multiple of 4 bytes (buffer-format.rst: "4-byte boundary"). */
export const CPIO_ALIGN = 4;
/** Every numeric field is 8 hex digits: the largest value a newc header can carry. */
export const CPIO_FIELD_MAX = 0xffff_ffff;
/** Longest name (with its NUL) the kernel's unpacker accepts (init/initramfs.c: name_len > PATH_MAX is "malformed"). */
export const PATH_MAX = 4096;

/** The 13 numeric header fields, in on-disk order (buffer-format.rst, after c_magic). */
export const NEWC_FIELDS = [
  'ino', //        c_ino       inode number; hard links share one
  'mode', //       c_mode      st_mode: S_IF* type bits | permissions
  'uid', //        c_uid
  'gid', //        c_gid
  'nlink', //      c_nlink     number of links
  'mtime', //      c_mtime     seconds since the epoch, unsigned 32-bit
  'filesize', //   c_filesize  bytes of data after the name (0 for all but one hard link)
  'devmajor', //   c_maj       device holding the file (used with ino to spot hard links)
  'devminor', //   c_min
  'rdevmajor', //  c_rmaj      for char/block device nodes
  'rdevminor', //  c_rmin
  'namesize', //   c_namesize  name length including the trailing NUL
  'check', //      c_chksum    0 for "070701" (only "070702" carries a checksum)
] as const;

export type NewcField = (typeof NEWC_FIELDS)[number];
export type NewcHeader = Record<NewcField, number>;

export class CpioFormatError extends Error {
  readonly code = 'E_CPIO';
  constructor(message: string, readonly data: { name: string; field?: string; value?: number }) {
    super(message);
    this.name = 'CpioFormatError';
  }
}

/** Rounds n up to the next multiple of CPIO_ALIGN. */
export function pad4(n: number): number {
  return Math.ceil(n / CPIO_ALIGN) * CPIO_ALIGN; // arithmetic, not bit ops: sizes may exceed 2^31
}

/** Size of header + name + padding for a name of `nameBytes` bytes (without NUL). */
export function headerBlockSize(nameBytes: number): number {
  return pad4(CPIO_HEADER_SIZE + nameBytes + 1);
}

/** ASCII codes of the upper-case hex digits (GNU cpio and the kernel's gen_init_cpio write upper case). */
const HEX = new Uint8Array([...'0123456789ABCDEF'].map((c) => c.charCodeAt(0)));
const utf8 = new TextEncoder();
const MAGIC = new Uint8Array([...CPIO_NEWC_MAGIC].map((c) => c.charCodeAt(0)));

/**
 * Encodes header + NUL-terminated name + zero padding (to 4 bytes) into `out` at `offset`.
 * Returns the number of bytes written (= headerBlockSize(name.length)).
 */
export function encodeNewc(h: NewcHeader, name: string, out: Uint8Array, offset: number): number {
  const end = offset + headerBlockSize(h.namesize - 1);
  if (out.length < end) throw new CpioFormatError(`BUG: ${end - offset} bytes needed for the header of ${name}, buffer too small`, { name });
  out.set(MAGIC, offset);
  let p = offset + MAGIC.length;
  for (let i = 0; i < NEWC_FIELDS.length; i++) {
    const f = NEWC_FIELDS[i]!;
    const v = h[f];
    if (!(v >= 0 && v <= CPIO_FIELD_MAX) || !Number.isInteger(v)) {
      throw new CpioFormatError(`BUG: cpio field ${f} = ${v} does not fit 8 hex digits`, { name: '', field: f, value: v });
    }
    for (let shift = 28; shift >= 0; shift -= 4) out[p++] = HEX[(v >>> shift) & 15]!; // v <= 2^32-1: >>> is exact
  }
  // ASCII names (nearly all) are copied without allocating; anything else goes through TextEncoder.
  let ascii = name.length === h.namesize - 1;
  for (let i = 0; ascii && i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0x7f) ascii = false;
    else out[p + i] = c;
  }
  if (ascii) {
    p += name.length;
  } else {
    const { read, written } = utf8.encodeInto(name, out.subarray(p, end));
    if (read !== name.length || written !== h.namesize - 1) {
      throw new CpioFormatError(`BUG: namesize ${h.namesize} does not match the ${written}-byte UTF-8 name ${name}`, { name });
    }
    p += written;
  }
  out.fill(0, p, end); // the NUL terminator plus padding
  return end - offset;
}

/** Decodes the 110-byte header at `offset` (the name follows it). Throws on a bad magic or digit. */
export function decodeNewc(buf: Uint8Array, offset: number): NewcHeader {
  if (buf.length - offset < CPIO_HEADER_SIZE) throw new CpioFormatError(`truncated cpio header at offset ${offset}`, { name: '' });
  const magic = String.fromCharCode(...buf.subarray(offset, offset + 6));
  if (magic !== CPIO_NEWC_MAGIC) throw new CpioFormatError(`bad cpio magic ${JSON.stringify(magic)} at offset ${offset}; expected ${CPIO_NEWC_MAGIC} (newc)`, { name: '' });
  const h = {} as NewcHeader;
  let p = offset + 6;
  for (const f of NEWC_FIELDS) {
    const text = String.fromCharCode(...buf.subarray(p, p + 8));
    if (!/^[0-9A-Fa-f]{8}$/.test(text)) throw new CpioFormatError(`bad cpio ${f} field ${JSON.stringify(text)} at offset ${p}`, { name: '', field: f });
    h[f] = parseInt(text, 16);
    p += 8;
  }
  return h;
}
