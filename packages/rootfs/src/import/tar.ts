// Imports a tar stream (ustar/pax/GNU, optionally gzip-compressed) into a FileTree via tar-stream.
//
// A tar stream can be read only once, but writers read file data later. So small bodies are kept
// in memory (bounded by `maxMemory` in total) and larger ones are spooled to files in `spoolDir`
// (by default a temp directory removed when the process exits).
import { mkdtempSync, rmSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type * as tar from 'tar-stream';
import type tarStreamTypes from 'tar-stream';
import { FileTree, normalizePath, type Meta } from '../tree.js';
import { ImportError } from './errors.js';

export interface TarImportOptions {
  /** Add into this tree (default: a new one). */
  tree?: FileTree;
  /** Place entries under this tree path (default: the root). */
  prefix?: string;
  /** Where bodies too big to keep in memory go (default: a temp dir removed at process exit). */
  spoolDir?: string;
  /** Bodies up to this size may stay in memory (default 64 KiB)... */
  smallFile?: number;
  /** ...while their total stays under this (default 32 MiB). */
  maxMemory?: number;
  /** Force every entry's owner. */
  uid?: number;
  gid?: number;
}

let autoSpool: string | undefined;
function defaultSpoolDir(): string {
  if (!autoSpool) {
    autoSpool = mkdtempSync(join(tmpdir(), 'mkimage-tar-'));
    const dir = autoSpool;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return autoSpool;
}

/** Peeks at the first bytes: gzip (1f 8b) is unpacked on the fly. */
async function* maybeGunzip(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const rest = (async function* () {
    yield first.value;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  })();
  const head = first.value;
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    yield* Readable.from(rest).pipe(createGunzip()) as AsyncIterable<Uint8Array>;
  } else {
    yield* rest;
  }
}

/** pax `mtime` keeps sub-second precision ("1700000000.123456789"); the ustar field does not. */
function mtimeOf(h: tar.Header): Pick<Meta, 'mtime' | 'mtimeNsec'> {
  const pax = (h as { pax?: Record<string, string> | null }).pax?.mtime;
  const m = pax ? /^(-?\d+)(?:\.(\d{1,9}))?\d*$/.exec(pax) : null;
  if (m) {
    const sec = Number(m[1]);
    const nsec = Number((m[2] ?? '').padEnd(9, '0'));
    if (sec < 0 || m[1] === '-0') return nsec ? { mtime: sec - 1, mtimeNsec: 1e9 - nsec } : { mtime: sec, mtimeNsec: 0 };
    return { mtime: sec, mtimeNsec: nsec };
  }
  const ms = h.mtime ? h.mtime.getTime() : 0;
  return { mtime: Math.floor(ms / 1000), mtimeNsec: (((ms % 1000) + 1000) % 1000) * 1e6 };
}

/** Reads a tar stream into a FileTree; rejects with a one-line E_IMPORT error on a broken archive. */
export async function treeFromTar(input: AsyncIterable<Uint8Array> | Readable, opts: TarImportOptions = {}): Promise<FileTree> {
  const tree = opts.tree ?? new FileTree();
  const prefix = normalizePath(opts.prefix ?? '');
  const smallFile = opts.smallFile ?? 64 * 1024;
  const maxMemory = opts.maxMemory ?? 32 * 1024 * 1024;
  let inMemory = 0;
  let spooled = 0;
  let offset = 0;
  let last = '(start of archive)';

  const counted = (async function* () {
    for await (const chunk of maybeGunzip(input as AsyncIterable<Uint8Array>)) {
      offset += chunk.length;
      yield chunk;
    }
  })();
  // Loaded on first use: most builds never read a tar, and start-up time counts. tar-stream is
  // CommonJS: its exports object is the default export (the command's bundle has no named ones).
  const tarStream: typeof tarStreamTypes = (await import('tar-stream')).default;
  const extract = tarStream.extract();
  const feeding = pipeline(Readable.from(counted), extract);
  feeding.catch(() => undefined); // surfaced through the iterator below
  const fail = (err: unknown): never => {
    if ((err as { code?: string }).code?.startsWith('E_')) throw err;
    const msg = (err as Error).message.split('\n')[0];
    // The offset counts bytes handed to the parser so far: exact to the input chunk, hence "near".
    throw new ImportError(`tar: ${msg} (after entry ${JSON.stringify(last)}, near byte ${offset} of the archive)`, { path: last, offset });
  };

  try {
    for await (const entry of extract) {
      const h = entry.header;
      const rel = normalizePath(h.name);
      const path = prefix ? (rel ? `${prefix}/${rel}` : prefix) : rel;
      last = h.name;
      const meta: Meta = {
        mode: (h.mode ?? 0o644) & 0o7777,
        uid: opts.uid ?? h.uid ?? 0,
        gid: opts.gid ?? h.gid ?? 0,
        ...mtimeOf(h),
      };
      const size = h.size ?? 0;
      switch (h.type) {
        case 'file':
        case 'contiguous-file':
          if (size <= smallFile && inMemory + size <= maxMemory) {
            const parts: Uint8Array[] = [];
            for await (const c of entry) parts.push(c as Uint8Array);
            const bytes = Buffer.concat(parts);
            inMemory += bytes.length;
            tree.fileFrom(path, bytes.length, { kind: 'bytes', bytes }, meta);
          } else {
            const file = join(opts.spoolDir ?? defaultSpoolDir(), `${process.pid}-${spooled++}`);
            await pipeline(entry, createWriteStream(file, { mode: 0o600 }));
            tree.hostFile(path, file, size, meta);
          }
          continue;
        case 'directory':
          tree.dir(path, meta);
          break;
        case 'symlink':
          tree.symlink(path, h.linkname ?? '', meta);
          break;
        case 'link': {
          const target = normalizePath(h.linkname ?? '');
          tree.hardlink(path, prefix ? `${prefix}/${target}` : target, meta);
          break;
        }
        case 'character-device':
        case 'block-device':
          tree.device(path, h.type === 'character-device' ? 'char' : 'block', h.devmajor ?? 0, h.devminor ?? 0, meta);
          break;
        case 'fifo':
          tree.special(path, 'fifo', meta);
          break;
        default:
          break; // pax/GNU bookkeeping entries are consumed by tar-stream; anything else is skipped
      }
      entry.resume();
    }
    await feeding;
  } catch (err) {
    fail(err);
  }
  return tree;
}
