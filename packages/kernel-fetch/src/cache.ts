// The local cache. Verified blobs are content-addressed by SHA256; everything is written to a temp
// file in the cache directory and renamed into place, so a reader never sees a partial file and two
// builds sharing the cache at once at worst both write the same bytes to the same name.
//
// Layout under the cache root:
//   sha256/<2 hex>/<64 hex>        verified files (.deb, Packages.xz, Contents-amd64.gz, ...)
//   parsed/<64 hex>.v<N>.tsv       a parsed Packages index (compact-index.ts), keyed by the SHA256 of the verified index
//   release/<64 hex>.InRelease     the last verified InRelease of a (mirror, suite), keyed by the URL hash
//   release/<64 hex>.InRelease.verified.json   the record of its signature check (suite.ts)
//   unpacked/<64 hex>/             a .deb extracted once, keyed by the .deb's SHA256
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $XDG_CACHE_HOME/mkimage, else ~/.cache/mkimage (XDG Base Directory spec). */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'mkimage');
}

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** SHA256 and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export class Cache {
  constructor(readonly root: string) {}

  blobPath(sha256: string): string {
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  async hasBlob(sha256: string, size?: number): Promise<boolean> {
    try {
      const st = await stat(this.blobPath(sha256));
      return st.isFile() && (size === undefined || st.size === size);
    } catch {
      return false;
    }
  }

  /** A fresh temp path in the cache root (same filesystem as its final place, so rename is atomic). */
  async tempPath(hint: string): Promise<string> {
    await mkdir(this.root, { recursive: true });
    const safe = hint.replace(/[^A-Za-z0-9._+-]/g, '_').slice(-60);
    return join(this.root, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}-${safe}`);
  }

  /** Moves a verified temp file to its content address. */
  async commitBlob(tmp: string, sha256: string): Promise<string> {
    const dest = this.blobPath(sha256);
    await mkdir(join(this.root, 'sha256', sha256.slice(0, 2)), { recursive: true });
    await rename(tmp, dest);
    return dest;
  }

  /** Writes `data` under `rel` atomically (temp file + rename). */
  async writeAtomic(rel: string, data: string | Uint8Array): Promise<string> {
    const dest = join(this.root, rel);
    const tmp = await this.tempPath(rel);
    try {
      await writeFile(tmp, data);
      await mkdir(join(dest, '..'), { recursive: true });
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return dest;
  }

  parsedPath(indexSha256: string, version: number): string {
    return join(this.root, 'parsed', `${indexSha256}.v${version}.tsv`);
  }

  releasePath(url: string): string {
    return join(this.root, 'release', `${sha256Hex(url)}.InRelease`);
  }

  unpackedPath(debSha256: string): string {
    return join(this.root, 'unpacked', debSha256);
  }
}

/** Removes a temp file, ignoring a missing one. */
export const discard = (path: string): Promise<void> => rm(path, { force: true, recursive: true });
