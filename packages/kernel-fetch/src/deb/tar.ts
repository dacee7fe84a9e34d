// The tar members of a .deb (control.tar, data.tar) read through tar-stream, as plain entry records.
import { Readable } from 'node:stream';
import type tarStreamTypes from 'tar-stream';
import { DebFormatError, DebUnsafePathError } from './errors.js';
import { normalizeDebPath } from './paths.js';

export type DebEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface DebEntry {
  /** Normalised: no leading "./" or "/", no trailing "/"; "" is the package root. */
  path: string;
  type: DebEntryType;
  /** Permission bits incl. setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Seconds since the epoch. */
  mtime: number;
  /** Bytes of data (0 for everything but regular files). */
  size: number;
  /** Symlink target exactly as stored (may be absolute; never followed by this package). */
  linkname?: string;
  /** For hard links: the normalised path of the earlier entry this one is another name of. */
  hardlinkTarget?: string;
  devmajor?: number;
  devminor?: number;
  /** The file's bytes; consume it before the next entry (or it is skipped). Empty for non-files. */
  body: AsyncIterable<Uint8Array>;
}

const TYPES: Record<string, DebEntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

function paxNumber(pax: Record<string, string> | null | undefined, key: string): number | undefined {
  const v = pax?.[key];
  if (v === undefined) return undefined;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? Math.floor(n) : undefined;
}

/**
 * Parses a tar stream. `deb` and `member` name it in errors. Unsafe paths (absolute, "..")
 * throw DebUnsafePathError before any consumer sees the entry.
 */
export async function* readTarEntries(input: AsyncIterable<Uint8Array>, deb: string, member: string): AsyncGenerator<DebEntry> {
  // Loaded on first use: a warm build unpacks nothing, and start-up time counts.
  const tarStream: typeof tarStreamTypes = (await import('tar-stream')).default;
  const extract = tarStream.extract();
  const source = Readable.from(input, { objectMode: false });
  let sourceError: unknown;
  source.on('error', (err) => {
    sourceError = err;
    extract.destroy(err);
  });
  source.pipe(extract as unknown as NodeJS.WritableStream);
  let current = '';
  try {
    for await (const stream of extract) {
      const h = stream.header;
      const pax = h.pax as Record<string, string> | null | undefined;
      current = h.name;
      const type = TYPES[h.type ?? 'file'];
      if (type === undefined) {
        throw new DebFormatError({ deb, member, entry: h.name, reason: `unsupported tar entry type ${h.type}` });
      }
      const path = normalizeDebPath(h.name);
      if (typeof path !== 'string') throw new DebUnsafePathError({ deb, member, entry: h.name, reason: path.unsafe });
      // The body reads the entry through one iterator. Leaving it early must not destroy the entry
      // stream (tar-stream then destroys the whole archive), so return() is a no-op and we drain below.
      const it = (stream as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      let finished = false;
      const body: AsyncIterable<Uint8Array> = {
        [Symbol.asyncIterator]: () => ({
          next: async () => {
            const r = await it.next();
            if (r.done) finished = true;
            return r;
          },
          return: async () => ({ done: true as const, value: undefined }),
        }),
      };
      const entry: DebEntry = {
        path,
        type,
        mode: (h.mode ?? 0) & 0o7777,
        uid: paxNumber(pax, 'uid') ?? h.uid ?? 0,
        gid: paxNumber(pax, 'gid') ?? h.gid ?? 0,
        uname: h.uname ?? '',
        gname: h.gname ?? '',
        mtime: paxNumber(pax, 'mtime') ?? Math.floor((h.mtime?.getTime() ?? 0) / 1000),
        size: type === 'file' ? (h.size ?? 0) : 0,
        body,
      };
      if (type === 'symlink') entry.linkname = h.linkname ?? '';
      if (type === 'hardlink') {
        const target = normalizeDebPath(h.linkname ?? '');
        if (typeof target !== 'string' || target === '') {
          throw new DebUnsafePathError({ deb, member, entry: h.name, reason: `hard link to ${JSON.stringify(h.linkname)}: ${typeof target === 'string' ? 'empty target' : target.unsafe}` });
        }
        entry.hardlinkTarget = target;
      }
      if (type === 'char' || type === 'block') {
        entry.devmajor = h.devmajor ?? 0;
        entry.devminor = h.devminor ?? 0;
      }
      yield entry;
      // Drain what the consumer left, so tar-stream moves on without buffering it.
      while (!finished) if ((await it.next()).done) finished = true;
    }
  } catch (err) {
    if (err === sourceError || err instanceof DebFormatError || err instanceof DebUnsafePathError) throw err;
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e?.code === 'string' && e.code.startsWith('E_')) throw err;
    const reason = String(e?.message ?? err);
    throw new DebFormatError({ deb, member, entry: current || undefined, reason: `bad tar data (${reason})` });
  } finally {
    source.destroy();
    extract.destroy();
  }
}
