// The file tree model shared by every writer (cpio newc, ext4, FAT via the disk package).
//
// A tree is metadata plus *where* each file's bytes come from; the bytes themselves are read
// only when a writer emits them, so memory stays bounded by metadata.
//
// Paths are relative, '/'-separated, without a leading slash ("usr/bin/java"); the root directory
// is the entry with path "". Parents are created on demand by `mkdirp`/`add`.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

/** Where a regular file's bytes come from. The entry's `size` is authoritative. */
export type DataSource =
  /** Bytes held in memory (small generated files: /init, /etc/hosts, ...). */
  | { kind: 'bytes'; bytes: Uint8Array }
  /** A file on the build host, read when the writer reaches it. */
  | { kind: 'file'; path: string }
  /** A stream factory, called once per emit. */
  | { kind: 'stream'; open: () => AsyncIterable<Uint8Array> | Readable }
  /** A sparse file: zeros except for the listed segments (sorted, non-overlapping). Holes stay holes. */
  | { kind: 'sparse'; segments: ReadonlyArray<{ offset: number; bytes: Uint8Array }> };

export interface EntryBase {
  path: string;
  /** Permission bits including setuid/setgid/sticky (0o7777). The file type lives in `type`. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the Unix epoch; may be negative or beyond 2038. */
  mtime: number;
  /** Nanoseconds within `mtime`'s second (0..999,999,999). */
  mtimeNsec: number;
  /** Extended attributes, e.g. `security.capability`. Names include their namespace prefix. */
  xattrs?: ReadonlyMap<string, Uint8Array>;
}

export interface FileEntry extends EntryBase { type: 'file'; size: number; data: DataSource }
export interface DirEntry extends EntryBase { type: 'dir' }
export interface SymlinkEntry extends EntryBase { type: 'symlink'; target: string }
/** A second (third, ...) name for the regular file at `target` (a tree path). */
export interface HardlinkEntry extends EntryBase { type: 'hardlink'; target: string }
export interface DeviceEntry extends EntryBase { type: 'char' | 'block'; major: number; minor: number }
export interface SpecialEntry extends EntryBase { type: 'fifo' | 'socket' }

export type Entry = FileEntry | DirEntry | SymlinkEntry | HardlinkEntry | DeviceEntry | SpecialEntry;
export type EntryType = Entry['type'];

/** Metadata accepted when adding an entry; omitted fields take the tree's defaults. */
export type Meta = Partial<Pick<EntryBase, 'mode' | 'uid' | 'gid' | 'mtime' | 'mtimeNsec' | 'xattrs'>>;

/** S_IF* file type bits (POSIX, <sys/stat.h>), used by cpio and ext4 alike. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

const TYPE_BITS: Record<EntryType, number> = {
  file: S_IFREG, hardlink: S_IFREG, dir: S_IFDIR, symlink: S_IFLNK,
  char: S_IFCHR, block: S_IFBLK, fifo: S_IFIFO, socket: S_IFSOCK,
};

/** The full st_mode (type bits | permission bits) of an entry. */
export function statMode(entry: Entry): number {
  return TYPE_BITS[entry.type] | (entry.mode & 0o7777);
}

export class TreeError extends Error {
  readonly code = 'E_TREE';
  constructor(message: string, readonly data: { path: string }) {
    super(message);
    this.name = 'TreeError';
  }
}

/** Normalises "/a//b/./c/" to "a/b/c"; rejects "..", NUL and empty names. */
export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new TreeError(`${path}: ".." is not allowed in an image path`, { path });
    if (part.includes('\0')) throw new TreeError(`${JSON.stringify(path)}: NUL in an image path`, { path });
    parts.push(part);
  }
  return parts.join('/');
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Byte-wise order of UTF-8 paths (never locale order): parents always sort before children. */
export function comparePaths(a: string, b: string): number {
  // UTF-8 byte order is code point order, and so is UTF-16 code unit order below the surrogates
  // (U+D800): compare the strings in place and encode only when a surrogate decides. (Sorting a
  // 100k-entry tree makes ~1.7M comparisons; two Buffers each was most of its time and garbage.)
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x < y ? -1 : 1;
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export interface TreeDefaults { uid: number; gid: number; mtime: number; dirMode: number; fileMode: number }

export class FileTree {
  private readonly map = new Map<string, Entry>();
  private sorted: Entry[] | undefined;
  readonly defaults: TreeDefaults;

  constructor(defaults: Partial<TreeDefaults> = {}) {
    this.defaults = { uid: 0, gid: 0, mtime: 0, dirMode: 0o755, fileMode: 0o644, ...defaults };
    this.map.set('', this.base('', 'dir', { mode: this.defaults.dirMode }) as DirEntry);
  }

  get size(): number { return this.map.size; }
  get(path: string): Entry | undefined { return this.map.get(normalizePath(path)); }
  has(path: string): boolean { return this.map.has(normalizePath(path)); }

  /** All entries, root first, in byte-wise path order (parents before children). */
  entries(): readonly Entry[] {
    this.sorted ??= [...this.map.values()].sort((a, b) => comparePaths(a.path, b.path));
    return this.sorted;
  }

  /** Direct children of a directory, in byte-wise order. */
  children(dir: string): Entry[] {
    const d = normalizePath(dir);
    return this.entries().filter((e) => e.path !== '' && parentOf(e.path) === d);
  }

  /** Adds or replaces an entry; missing parent directories are created with default metadata. */
  add(entry: Entry): Entry {
    const path = normalizePath(entry.path);
    const normalized = { ...entry, path } as Entry;
    if (path !== '') this.mkdirp(parentOf(path));
    this.checkReplace(normalized);
    if (normalized.type === 'hardlink') {
      const target = this.map.get(normalizePath(normalized.target));
      if (target?.type !== 'file') {
        throw new TreeError(`${path}: hard link target ${normalized.target} is not a regular file in the tree`, { path });
      }
      (normalized as HardlinkEntry).target = target.path;
    }
    this.store(normalized);
    return normalized;
  }

  /** A directory is never replaced by another type (its children would be orphaned). */
  private checkReplace(entry: Entry): void {
    if (entry.type !== 'dir' && this.map.get(entry.path)?.type === 'dir') {
      throw new TreeError(`${entry.path}: already a directory, cannot replace it with a ${entry.type}`, { path: entry.path });
    }
  }

  /** Stores a checked, normalized entry whose parent exists. */
  private store(entry: Entry): void {
    if (entry.type === 'file' && !(Number.isSafeInteger(entry.size) && entry.size >= 0)) {
      throw new TreeError(`${entry.path}: invalid size ${entry.size}`, { path: entry.path });
    }
    this.map.set(entry.path, entry);
    this.sorted = undefined;
  }

  /**
   * @internal Adds an entry an importer built itself: `entry.path` is already normalized, its parent
   * is a directory in the tree, and the object is not shared, so it is stored as it is (no copy,
   * no re-splitting of the path: this runs once per file of a 100k-file import).
   */
  addImported(entry: FileEntry | SymlinkEntry | DeviceEntry | SpecialEntry): void {
    this.checkReplace(entry);
    this.store(entry);
  }

  /** Removes an entry (and, for a directory, everything below it). */
  remove(path: string): void {
    const p = normalizePath(path);
    if (p === '') throw new TreeError('cannot remove the root directory', { path: p });
    for (const key of [...this.map.keys()]) {
      if (key === p || key.startsWith(p + '/')) this.map.delete(key);
    }
    this.sorted = undefined;
  }

  mkdirp(path: string, meta: Meta = {}): DirEntry {
    const p = normalizePath(path);
    const existing = this.map.get(p);
    if (existing) {
      if (existing.type !== 'dir') throw new TreeError(`${p}: is a ${existing.type}, not a directory`, { path: p });
      return existing;
    }
    if (p !== '') this.mkdirp(parentOf(p));
    const dir = this.base(p, 'dir', { mode: this.defaults.dirMode, ...meta }) as DirEntry;
    this.map.set(p, dir);
    this.sorted = undefined;
    return dir;
  }

  dir(path: string, meta: Meta = {}): DirEntry {
    const p = normalizePath(path);
    const existing = this.map.get(p);
    if (existing?.type === 'dir') {
      const updated = { ...existing, ...meta } as DirEntry;
      this.map.set(p, updated);
      this.sorted = undefined;
      return updated;
    }
    return this.add(this.base(p, 'dir', { mode: this.defaults.dirMode, ...meta }) as DirEntry) as DirEntry;
  }

  /** A regular file from bytes or a string (UTF-8). */
  file(path: string, content: Uint8Array | string, meta: Meta = {}): FileEntry {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    return this.add({ ...this.base(path, 'file', meta), type: 'file', size: bytes.length, data: { kind: 'bytes', bytes } }) as FileEntry;
  }

  /** A regular file whose bytes are read from `source` (host path) when written. */
  hostFile(path: string, source: string, size: number, meta: Meta = {}): FileEntry {
    return this.add({ ...this.base(path, 'file', meta), type: 'file', size, data: { kind: 'file', path: source } }) as FileEntry;
  }

  /** A regular file from any data source of a known size. */
  fileFrom(path: string, size: number, data: DataSource, meta: Meta = {}): FileEntry {
    return this.add({ ...this.base(path, 'file', meta), type: 'file', size, data }) as FileEntry;
  }

  symlink(path: string, target: string, meta: Meta = {}): SymlinkEntry {
    return this.add({ ...this.base(path, 'symlink', { mode: 0o777, ...meta }), type: 'symlink', target }) as SymlinkEntry;
  }

  hardlink(path: string, target: string, meta: Meta = {}): HardlinkEntry {
    const t = this.map.get(normalizePath(target));
    const inherited: Meta = t ? { mode: t.mode, uid: t.uid, gid: t.gid, mtime: t.mtime, mtimeNsec: t.mtimeNsec } : {};
    return this.add({ ...this.base(path, 'hardlink', { ...inherited, ...meta }), type: 'hardlink', target }) as HardlinkEntry;
  }

  device(path: string, type: 'char' | 'block', major: number, minor: number, meta: Meta = {}): DeviceEntry {
    return this.add({ ...this.base(path, type, { mode: 0o600, ...meta }), type, major, minor }) as DeviceEntry;
  }

  special(path: string, type: 'fifo' | 'socket', meta: Meta = {}): SpecialEntry {
    return this.add({ ...this.base(path, type, meta), type }) as SpecialEntry;
  }

  /** Sets every entry's mtime (e.g. to SOURCE_DATE_EPOCH) for a reproducible image. */
  // The time setters change the tree's own entry objects in place (add() stores copies, so no
  // caller's object is touched): a copy per entry would double a big tree's heap for a moment.
  clampTimes(epoch: number): void {
    for (const e of this.map.values()) {
      if (e.mtime > epoch) e.mtime = epoch;
      if (e.mtimeNsec !== 0) e.mtimeNsec = 0;
    }
  }

  /** Sets every entry's time to `epoch` (SOURCE_DATE_EPOCH, or 0), whatever the sources said. */
  setTimes(epoch: number): void {
    for (const e of this.map.values()) {
      e.mtime = epoch;
      e.mtimeNsec = 0;
    }
  }

  /**
   * Normalises permissions below `prefix` so the build host's umask cannot leak in: directories
   * 0755, files 0755 when any execute bit is set, else 0644; setuid/setgid/sticky bits dropped.
   */
  normalizeModes(prefix = ''): void {
    const p = normalizePath(prefix);
    for (const [k, e] of this.map) {
      if (p !== '' && k !== p && !k.startsWith(p + '/')) continue;
      if (e.type === 'symlink') continue;
      const mode = e.type === 'dir' || (e.mode & 0o111) !== 0 ? 0o755 : 0o644;
      if (mode !== e.mode) e.mode = mode; // in place, as the time setters
    }
  }

  /** Hard-link groups: target path -> all its names (the file itself first, links in path order). */
  hardlinkGroups(): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const e of this.entries()) {
      if (e.type === 'hardlink') {
        const g = groups.get(e.target) ?? [e.target];
        g.push(e.path);
        groups.set(e.target, g);
      }
    }
    return groups;
  }

  private base(path: string, type: EntryType, meta: Meta): EntryBase & { type: EntryType } {
    const d = this.defaults;
    return {
      path: normalizePath(path),
      type,
      mode: meta.mode ?? (type === 'dir' ? d.dirMode : d.fileMode),
      uid: meta.uid ?? d.uid,
      gid: meta.gid ?? d.gid,
      mtime: meta.mtime ?? d.mtime,
      mtimeNsec: meta.mtimeNsec ?? 0,
      ...(meta.xattrs ? { xattrs: meta.xattrs } : {}),
    };
  }
}

/**
 * Streams a file entry's bytes, failing with a message naming the entry when the source
 * yields more or fewer bytes than the entry's declared size.
 */
export async function* readData(entry: FileEntry, chunkSize = 1 << 20): AsyncGenerator<Uint8Array> {
  const { data, size, path } = entry;
  let seen = 0;
  const check = (n: number): void => {
    seen += n;
    if (seen > size) throw new TreeError(`${path}: source has more than the ${size} bytes declared; did it change during the build?`, { path });
  };
  switch (data.kind) {
    case 'bytes':
      check(data.bytes.length);
      if (data.bytes.length) yield data.bytes;
      break;
    case 'sparse': {
      let pos = 0;
      for (const seg of data.segments) {
        if (seg.offset < pos) throw new TreeError(`${path}: sparse segments overlap or are unsorted`, { path });
        for (let z = seg.offset - pos; z > 0; z -= chunkSize) {
          const n = Math.min(z, chunkSize);
          check(n);
          yield new Uint8Array(n);
        }
        check(seg.bytes.length);
        yield seg.bytes;
        pos = seg.offset + seg.bytes.length;
      }
      for (let z = size - pos; z > 0; z -= chunkSize) {
        const n = Math.min(z, chunkSize);
        check(n);
        yield new Uint8Array(n);
      }
      break;
    }
    case 'file': {
      let stream: Readable;
      try {
        stream = createReadStream(data.path, { highWaterMark: chunkSize });
        for await (const chunk of stream) {
          check((chunk as Buffer).length);
          yield chunk as Buffer;
        }
      } catch (err) {
        if (err instanceof TreeError) throw err;
        const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        throw new TreeError(`${path}: cannot read source ${data.path} (${reason})`, { path });
      }
      break;
    }
    case 'stream':
      for await (const chunk of data.open()) {
        const c = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        check(c.length);
        yield c;
      }
      break;
  }
  if (seen !== size) throw new TreeError(`${path}: source has ${seen} bytes, ${size} declared; did it change during the build?`, { path });
}
