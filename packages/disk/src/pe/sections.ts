// Convenience: the usual UKI sections from a kernel, an initrd and text parts, in ukify's order.
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PeFormatError } from '../errors.js';
import type { UkiSectionInput } from './uki.js';
import { peSizeOfImage } from './uki.js';

/** A blob: bytes in memory, or a host file read when the section is emitted. */
export type Blob = Uint8Array | string | { path: string };

export interface UkiParts {
  /** /etc/os-release text (.osrel). */
  osrel?: string;
  /** Kernel command line (.cmdline). */
  cmdline?: string;
  /** Kernel release, `uname -r` (.uname). */
  uname?: string;
  initrd?: Blob;
  /** The kernel (bzImage), usually a host file. */
  linux: Blob;
}

async function section(name: string, b: Blob): Promise<UkiSectionInput> {
  if (typeof b === 'string') b = Buffer.from(b, 'utf8');
  if (b instanceof Uint8Array) {
    const bytes = b;
    return { name, size: bytes.length, open: async function* () { yield bytes; } };
  }
  const path = b.path;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new PeFormatError(`${path}: cannot read the ${name} input (${reason})`, { file: path, reason });
  }
  return { name, size, open: () => createReadStream(path) as AsyncIterable<Uint8Array> };
}

/** Sections for planUki: .osrel, .cmdline, .uname, .initrd, .linux (with the kernel's SizeOfImage as VirtualSize, as ukify). */
export async function ukiSections(p: UkiParts): Promise<UkiSectionInput[]> {
  const out: UkiSectionInput[] = [];
  if (p.osrel !== undefined) out.push(await section('.osrel', p.osrel));
  if (p.cmdline !== undefined) out.push(await section('.cmdline', p.cmdline));
  if (p.uname !== undefined) out.push(await section('.uname', p.uname));
  if (p.initrd !== undefined) out.push(await section('.initrd', p.initrd));
  const linux = await section('.linux', p.linux);
  let head: Uint8Array;
  if (typeof p.linux === 'object' && 'path' in p.linux) {
    const fh = await open(p.linux.path, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } else {
    head = typeof p.linux === 'string' ? Buffer.from(p.linux) : p.linux.subarray(0, 4096);
  }
  const soi = peSizeOfImage(head);
  out.push(soi && soi > linux.size ? { ...linux, virtualSize: soi } : linux);
  return out;
}
