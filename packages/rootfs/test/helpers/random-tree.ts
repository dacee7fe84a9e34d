// A seeded random FileTree generator for property tests of every writer (cpio, ext4, ...).
//
// API (kept stable, other writers' tests import it):
//   randomTree(seed, opts?) => FileTree      same seed + opts => identical tree, identical bytes
//   seededRandom(seed) => Rng                the PRNG it uses (mulberry32), for tests that need more draws
//
// Every tree holds a fixed "coverage" set (each entry type, a deep path, 255-byte ASCII and UTF-8
// names, empty and block-sized files, a hard-link group, a 4095-byte symlink, times before 1970 and
// after 2038, setuid/setgid/sticky, xattrs, sparse data, a >65535 uid) plus `count` random entries.
// Names never contain '/', NUL or '\n' (line-based tool listings stay parseable).
import { FileTree, type DataSource, type Meta } from '../../src/tree.js';

export interface RandomTreeOptions {
  /** Random entries added on top of the fixed coverage set (default 40). */
  count?: number;
  /** Largest random regular file, bytes (default 48 KiB). */
  maxFileSize?: number;
  /** The "block" in block-sized files (default 4096). */
  blockSize?: number;
  /** Attach xattrs to some entries (default true). */
  xattrs?: boolean;
  /** Use mtimes before 1970 and after 2038 (default true); false keeps 0 <= mtime < 2^31. */
  extremeTimes?: boolean;
  /** Include sockets (default true); some extractors cannot create them. */
  sockets?: boolean;
  /** Include char/block device nodes (default true). */
  devices?: boolean;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  bool(p?: number): boolean;
  bytes(n: number): Uint8Array;
}

/** mulberry32: tiny, fast and good enough to draw test cases from a 32-bit seed. */
export function seededRandom(seed: number): Rng {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    bool: (p = 0.5) => next() < p,
    bytes: (n) => {
      const out = new Uint8Array(n);
      // Half the files are text-like (compressible), half noise, so compressors see both.
      const text = next() < 0.5;
      for (let i = 0; i < n; i++) out[i] = text ? 0x61 + int(0, 7) : int(0, 255);
      return out;
    },
  };
}

const NAME_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+@ ', 'é', 'ü', 'ß', '日', '本', 'ж', '😀'];

function randomName(r: Rng, taken: Set<string>): string {
  for (;;) {
    let name = '';
    const len = r.int(1, 16);
    for (let i = 0; i < len; i++) name += r.pick(NAME_CHARS);
    if (name === '.' || name === '..' || name.trim() !== name || taken.has(name)) continue;
    taken.add(name);
    return name;
  }
}

/** Deterministic stream data: a repeating pattern derived from the seed, `size` bytes in odd-sized chunks. */
function streamSource(seed: number, size: number): DataSource {
  return {
    kind: 'stream',
    open: async function* () {
      const r = seededRandom(seed);
      let left = size;
      while (left > 0) {
        const n = Math.min(left, r.int(1, 9000));
        yield r.bytes(n);
        left -= n;
      }
    },
  };
}

function sparseSource(r: Rng, size: number): DataSource {
  const segments: { offset: number; bytes: Uint8Array }[] = [];
  let pos = r.int(0, 3) * 4096;
  while (pos < size && segments.length < 4) {
    const len = Math.min(size - pos, r.int(1, 6000));
    segments.push({ offset: pos, bytes: r.bytes(len) });
    pos += len + r.int(1, 5) * 4096;
  }
  return { kind: 'sparse', segments };
}

/** A valid VFS_CAP_REVISION_2 security.capability value (20 bytes) granting CAP_NET_BIND_SERVICE. */
function capabilityXattr(): Uint8Array {
  const v = new DataView(new ArrayBuffer(20));
  v.setUint32(0, 0x02000000 | 0x000001, true); // VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
  v.setUint32(4, 1 << 10, true); // permitted: CAP_NET_BIND_SERVICE (10)
  return new Uint8Array(v.buffer);
}

export function randomTree(seed: number, opts: RandomTreeOptions = {}): FileTree {
  const o = { count: 40, maxFileSize: 48 * 1024, blockSize: 4096, xattrs: true, extremeTimes: true, sockets: true, devices: true, ...opts };
  const r = seededRandom(seed);
  const tree = new FileTree({ mtime: 1_700_000_000 });
  const names = new Map<string, Set<string>>(); // dir -> names taken
  const dirs: string[] = [''];
  const files: string[] = [];
  let dataSeed = seed * 7919;

  const time = (): Pick<Meta, 'mtime' | 'mtimeNsec'> => {
    const mtime = o.extremeTimes
      ? r.pick([r.int(-(2 ** 31), -1), r.int(0, 2 ** 31 - 1), r.int(2 ** 31, 2 ** 34), 0, -1, 2 ** 31, 2 ** 32])
      : r.int(0, 2 ** 31 - 1);
    return { mtime, mtimeNsec: r.bool(0.3) ? 0 : r.int(0, 999_999_999) };
  };
  const meta = (mode: number): Meta => {
    const m: Meta = { mode, uid: r.pick([0, 0, 1000, r.int(1, 65535), r.int(65536, 2 ** 31)]), gid: r.pick([0, 100, r.int(1, 70000)]), ...time() };
    if (o.xattrs && r.bool(0.15)) {
      const x = new Map<string, Uint8Array>([[`user.k${r.int(0, 99)}`, r.bytes(r.int(0, 40))]]);
      if (r.bool(0.3)) x.set('trusted.t', r.bytes(r.int(1, 8)));
      m.xattrs = x;
    }
    return m;
  };
  const child = (dir: string, name?: string): string => {
    let taken = names.get(dir);
    if (!taken) names.set(dir, (taken = new Set()));
    if (name !== undefined) taken.add(name);
    const n = name ?? randomName(r, taken);
    return dir === '' ? n : `${dir}/${n}`;
  };
  const fileData = (size: number): DataSource => {
    const kind = r.pick(['bytes', 'bytes', 'stream', 'sparse'] as const);
    if (kind === 'bytes') return { kind, bytes: r.bytes(size) };
    if (kind === 'stream') return streamSource(dataSeed++, size);
    return sparseSource(r, size);
  };
  const addFile = (path: string, size: number, mode = r.pick([0o644, 0o755, 0o600, 0o444, 0o4755, 0o2755, 0o6711])): void => {
    tree.fileFrom(path, size, fileData(size), meta(mode));
    files.push(path);
  };
  const addDir = (path: string, mode = r.pick([0o755, 0o700, 0o775, 0o1777, 0o2775])): void => {
    tree.dir(path, meta(mode | 0o700)); // owner rwx: extractors running as non-root can still fill it
    dirs.push(path);
  };

  // ---- fixed coverage set ----
  const cov = child('', 'coverage');
  addDir(cov, 0o755);
  addFile(child(cov, 'empty'), 0, 0o644);
  addFile(child(cov, 'one-block'), o.blockSize, 0o644);
  addFile(child(cov, 'block-plus-one'), o.blockSize + 1, 0o644);
  addFile(child(cov, 'setuid'), r.int(1, 100), 0o4755);
  addFile(child(cov, 'setgid'), r.int(1, 100), 0o2711);
  addDir(child(cov, 'sticky'), 0o1777);
  tree.fileFrom(child(cov, 'sparse'), 5 * o.blockSize + 123, { kind: 'sparse', segments: [{ offset: o.blockSize * 2, bytes: r.bytes(100) }] }, meta(0o644));
  files.push(`${cov}/sparse`);
  tree.fileFrom(child(cov, 'all-hole'), 3 * o.blockSize, { kind: 'sparse', segments: [] }, meta(0o600));
  files.push(`${cov}/all-hole`);
  addFile(child(cov, 'a'.repeat(255)), 10, 0o644);
  addFile(child(cov, 'é'.repeat(127) + 'x'), 11, 0o644); // 255 bytes of UTF-8
  addFile(child(cov, 'ünïcødé 日本語 😀'), 12, 0o644);
  tree.file(child(cov, 'old'), 'before 1970\n', { mtime: -86400 * 365 * 10, mtimeNsec: 5 });
  tree.file(child(cov, 'new'), 'after 2038\n', { mtime: 2 ** 31 + 86400, mtimeNsec: 999_999_999 });
  tree.file(child(cov, 'far'), 'after 2106\n', { mtime: 2 ** 32 + 1 });
  tree.file(child(cov, 'high-ids'), 'ids\n', { uid: 100_000, gid: 2 ** 31 - 2 });
  tree.file(child(cov, 'cap'), 'cap\n', { mode: 0o755, xattrs: new Map([['security.capability', capabilityXattr()]]) });
  if (o.xattrs) tree.file(child(cov, 'xattrs'), 'x\n', { xattrs: new Map([['user.a', new Uint8Array([1, 2, 3])], ['user.b', new Uint8Array(0)], ['trusted.big', r.bytes(200)]]) });
  tree.hardlink(child(cov, 'link1'), `${cov}/setuid`);
  tree.hardlink(child(cov, 'link2'), `${cov}/setuid`);
  tree.hardlink(child('', 'top-link'), `${cov}/one-block`);
  tree.symlink(child(cov, 'short-link'), 'empty');
  tree.symlink(child(cov, 'long-link'), 'L'.repeat(4000) + '/' + 'é'.repeat(47)); // 4095 bytes
  tree.symlink(child(cov, 'dangling'), '/nonexistent/target');
  tree.special(child(cov, 'fifo'), 'fifo', { mode: 0o644 });
  if (o.sockets) tree.special(child(cov, 'socket'), 'socket', { mode: 0o755 });
  if (o.devices) {
    tree.device(child(cov, 'null'), 'char', 1, 3, { mode: 0o666 });
    tree.device(child(cov, 'vda'), 'block', 254, 0, { mode: 0o660 });
    tree.device(child(cov, 'bigdev'), 'char', 4095, 1_048_575, { mode: 0o600 }); // largest 12-bit major, 20-bit minor
  }
  // A deep path: 30 levels, total path length well under PATH_MAX (4096).
  let deep = child(cov, 'deep');
  addDir(deep, 0o755);
  for (let i = 0; i < 30; i++) {
    deep = child(deep, `level-${i}-${'d'.repeat(r.int(1, 60))}`);
    addDir(deep, 0o755);
  }
  addFile(child(deep, 'bottom'), r.int(0, 300), 0o644);

  // ---- random entries ----
  for (let i = 0; i < o.count; i++) {
    const parent = r.pick(dirs);
    if (parent.length > 3000) continue;
    const kind = r.pick(['file', 'file', 'file', 'file', 'dir', 'dir', 'symlink', 'hardlink', 'device', 'fifo'] as const);
    const path = child(parent);
    switch (kind) {
      case 'file': {
        const size = r.pick([0, r.int(1, 100), o.blockSize, o.blockSize * r.int(2, 4), r.int(1, o.maxFileSize)]);
        addFile(path, Math.min(size, o.maxFileSize));
        break;
      }
      case 'dir':
        addDir(path);
        break;
      case 'symlink':
        tree.symlink(path, r.bool() ? randomName(r, new Set()) : '../'.repeat(r.int(0, 3)) + r.pick(files.length ? files : ['x']), meta(0o777));
        break;
      case 'hardlink':
        if (files.length) tree.hardlink(path, r.pick(files));
        break;
      case 'device':
        if (o.devices) tree.device(path, r.bool() ? 'char' : 'block', r.int(0, 4095), r.int(0, 1_048_575), meta(r.pick([0o600, 0o660, 0o666])));
        break;
      case 'fifo':
        tree.special(path, 'fifo', meta(0o644));
        break;
    }
  }
  return tree;
}
