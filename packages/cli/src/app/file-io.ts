// Positioned reads from an open file: the readers look at headers only, never the whole file.
import type { FileHandle } from 'node:fs/promises';

/** Reads exactly `length` bytes at `position`, or returns the shorter tail if the file ends first. */
export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Reads a NUL-terminated string at `position`, at most `limit` bytes long, in small chunks (string
 * tables of big libraries run to megabytes; we want a handful of names). Returns undefined when no
 * NUL is found within the limit or before the end of the file.
 */
export async function readCString(fh: FileHandle, position: number, limit: number): Promise<string | undefined> {
  const parts: Buffer[] = [];
  let total = 0;
  while (total < limit) {
    const chunk = await readAt(fh, position + total, Math.min(256, limit - total));
    if (chunk.length === 0) return undefined;
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      parts.push(chunk.subarray(0, nul));
      return Buffer.concat(parts).toString('utf8');
    }
    parts.push(chunk);
    total += chunk.length;
  }
  return undefined;
}
