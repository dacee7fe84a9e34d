// What kind of image `mkimage run` was given, told from its contents (not its name): an initramfs
// output directory (direct kernel boot) or a disk image in one of the containers we write.
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageKindError, ImageNotFoundError } from './errors.js';

export type RunnableImage =
  | { kind: 'kernel'; dir: string; kernel: string; initrd: string; cmdline: string }
  | { kind: 'disk'; file: string; format: 'raw' | 'qcow2' | 'vpc' };

/** The files an initramfs output directory holds (build/options.ts: format 'initramfs'). */
export const KERNEL_DIR_FILES = ['vmlinuz', 'initrd.img', 'cmdline'] as const;

/** qcow2 header magic "QFI\xfb" at offset 0 (qemu docs/interop/qcow2.txt). */
const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);
/** VHD footer cookie, in the last 512 bytes (Microsoft VHD Image Format Specification, "Hard Disk Footer Format"). */
const VHD_COOKIE = Buffer.from('conectix');
/** GPT header signature at LBA 1 (UEFI 2.10 §5.3.2). */
const GPT_SIGNATURE = Buffer.from('EFI PART');
/** MBR boot signature 0x55 0xAA at bytes 510-511 (protective MBR, UEFI 2.10 §5.2.3). */
const MBR_SIGNATURE_OFFSET = 510;
const SECTOR = 512;

export async function detectImage(path: string): Promise<RunnableImage> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new ImageNotFoundError(path);
    throw new ImageKindError(path, `cannot read it: ${err.code ?? err.message}`);
  });
  if (st.isDirectory()) {
    const missing: string[] = [];
    for (const f of KERNEL_DIR_FILES) if (!(await stat(join(path, f)).then((s) => s.isFile(), () => false))) missing.push(f);
    if (missing.length > 0) throw new ImageKindError(path, `a directory without ${missing.join(', ')}`);
    const cmdline = (await readFile(join(path, 'cmdline'), 'utf8')).trim();
    return { kind: 'kernel', dir: path, kernel: join(path, 'vmlinuz'), initrd: join(path, 'initrd.img'), cmdline };
  }
  if (!st.isFile()) throw new ImageKindError(path, 'neither a file nor a directory');
  if (st.size < 2 * SECTOR) throw new ImageKindError(path, `${st.size} bytes, too small for a disk`);
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2 * SECTOR);
    const tail = Buffer.alloc(SECTOR);
    await fh.read(head, 0, head.length, 0);
    await fh.read(tail, 0, tail.length, st.size - SECTOR);
    if (head.subarray(0, 4).equals(QCOW2_MAGIC)) return { kind: 'disk', file: path, format: 'qcow2' };
    if (tail.subarray(0, 8).equals(VHD_COOKIE)) return { kind: 'disk', file: path, format: 'vpc' };
    if (head.subarray(SECTOR, SECTOR + 8).equals(GPT_SIGNATURE) || (head[MBR_SIGNATURE_OFFSET] === 0x55 && head[MBR_SIGNATURE_OFFSET + 1] === 0xaa)) {
      return { kind: 'disk', file: path, format: 'raw' };
    }
    throw new ImageKindError(path, 'no GPT, MBR, qcow2 or VHD signature');
  } finally {
    await fh.close();
  }
}
