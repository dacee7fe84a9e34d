// The public entry point: open a (mirror, suite set), resolve package names to exact verified
// packages, download and unpack them through the content-addressed cache, and keep the lockfile.
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Cache, defaultCacheDir, discard } from './cache.js';
import { extractDeb } from './deb/index.js';
import { HashMismatchError, LockError, NotFoundError, OfflineMissError } from './errors.js';
import { trustAnchors, type TrustedKey } from './keys.js';
import { readLockFile, writeLockFile, type LockEntry } from './lockfile.js';
import type { PackageRecord } from './packages-index.js';
import type { Release } from './release.js';
import { PackageUniverse, resolvePackages, type Candidate } from './resolve.js';
import { findMirrors, type MirrorChoice } from './sources.js';
import { SuiteSource, type IndexFile, type SuiteContext } from './suite.js';
import { mirrorUrl, type ProgressEvent } from './transport.js';

export interface ArchiveOptions {
  /** Main suite (default 'bookworm'); its -updates and -security suites are searched too. */
  suite?: string;
  /** Override the searched suites entirely (names ending in -security use the security mirror). */
  suites?: string[];
  mirror?: string;
  securityMirror?: string;
  /** Archive component(s) to search (default ['main']). */
  components?: string[];
  /** Cache root (default $XDG_CACHE_HOME/mkimage or ~/.cache/mkimage). */
  cacheDir?: string;
  /** Make no network request at all: use the cached InRelease (re-verified) and cached files. */
  offline?: boolean;
  /** mkimage.lock path: when the file exists its packages are used exactly. */
  lockFile?: string;
  /** Ignore the lock's pins (resolve afresh); `saveLock()` then rewrites it. */
  updateLock?: boolean;
  onProgress?: (e: ProgressEvent) => void;
  /** Called for every request sent to a mirror (tests count them). */
  onRequest?: (url: string) => void;
  /** Trust anchors instead of the bundled Debian archive keys (tests use a throwaway key). */
  trustedKeys?: TrustedKey[];
  /** Environment for MKIMAGE_DEBIAN_MIRROR etc. and XDG_CACHE_HOME (default process.env). */
  env?: Record<string, string | undefined>;
  /** apt configuration directory to read sources from (default /etc/apt); false to ignore apt. */
  aptDir?: string | false;
  /** Clock for Valid-Until checks (default now). */
  now?: Date;
  /** Download retries and first backoff delay (defaults 4 and 500 ms). */
  retries?: number;
  backoffMs?: number;
  /** Abort and retry an http transfer idle this long (default 30 000 ms). */
  idleTimeoutMs?: number;
}

/** A package chosen by resolution: everything needed to fetch and verify it. */
export interface ResolvedPackage extends PackageRecord {
  suite: string;
}

/** Suites whose names do not take -updates / -security companions. */
const ROLLING = new Set(['sid', 'unstable', 'experimental', 'rc-buggy']);

/** The default suite set for a main suite. */
export function defaultSuites(suite: string): string[] {
  if (ROLLING.has(suite) || suite.includes('-')) return [suite];
  return [suite, `${suite}-updates`, `${suite}-security`];
}

export class Archive {
  private universePromise: Promise<PackageUniverse> | undefined;
  private readonly used = new Map<string, ResolvedPackage>();

  /** @internal use openArchive() */
  constructor(
    readonly mirror: MirrorChoice,
    readonly securityMirror: MirrorChoice,
    readonly suites: string[],
    readonly cacheDir: string,
    private readonly sources: Map<string, SuiteSource>,
    private readonly cache: Cache,
    private readonly components: string[],
    private readonly lockPins: Map<string, Candidate> | undefined,
    private readonly options: ArchiveOptions,
    private readonly ctx: SuiteContext,
  ) {}

  private source(suite: string): SuiteSource {
    const s = this.sources.get(suite);
    if (!s) throw new NotFoundError(`suite ${suite} is not one of ${this.suites.join(', ')}`, { suite });
    return s;
  }

  /** The verified InRelease of a suite. */
  release(suite: string): Promise<Release> {
    return this.source(suite).release();
  }

  /** A verified, cached index file of a suite, e.g. indexFile('bookworm', 'main/Contents-amd64'). */
  indexFile(suite: string, base: string): Promise<IndexFile> {
    return this.source(suite).indexFile(base);
  }

  /** The decompressed bytes of a verified index file, e.g. openIndex('bookworm', 'main/Contents-amd64'). */
  openIndex(suite: string, base: string): Promise<Readable> {
    return this.source(suite).openIndex(base);
  }

  private universe(): Promise<PackageUniverse> {
    this.universePromise ??= (async () => {
      const sources = this.suites.map((suite) => this.source(suite));
      // Verify every InRelease before caching any, and let every request settle before failing, so
      // a bad suite leaves neither cached siblings nor temp files behind.
      const releases = await settleAll(sources.map((s) => s.verifiedRelease()));
      await Promise.all(releases.map((r) => r.commit()));
      const loaded = await settleAll(
        sources.flatMap((source) => this.components.map(async (c) => ({ suite: source.suite, index: await source.packages(c) }))),
      );
      const universe = new PackageUniverse(loaded);
      if (this.lockPins) checkPinsAgainstIndex(this.lockPins, universe, this.options.lockFile!);
      return universe;
    })();
    return this.universePromise;
  }

  /**
   * Resolves package names (or `name=version`) to exact packages, with their Depends/Pre-Depends
   * closure when `closure` is set. Sorted by name. Every result is remembered for `lock()`.
   */
  async resolve(names: string[], opts: { closure?: boolean } = {}): Promise<ResolvedPackage[]> {
    const universe = await this.universe();
    const result = resolvePackages(universe, names, { closure: opts.closure, pins: this.lockPins });
    for (const p of result) this.used.set(p.name, p);
    return result;
  }

  /** The mirror URL of a package's file. */
  packageUrl(pkg: ResolvedPackage): string {
    const mirror = pkg.suite.endsWith('-security') ? this.securityMirror.url : this.mirror.url;
    return mirrorUrl(mirror, pkg.filename);
  }

  /** Downloads (or finds in the cache) a package's .deb, verified by size and SHA256; returns its path. */
  async download(pkg: ResolvedPackage): Promise<string> {
    if (await this.cache.hasBlob(pkg.sha256, pkg.size)) return this.cache.blobPath(pkg.sha256);
    const url = this.packageUrl(pkg);
    if (this.options.offline) throw new OfflineMissError(`${pkg.name} ${pkg.version} (${url})`, { package: pkg.name });
    const pinned = this.lockPins?.get(pkg.name);
    const listedIn = pinned && pinned.sha256 === pkg.sha256 ? this.options.lockFile! : this.sourceFor(pkg).distUrl('main/binary-amd64/Packages');
    return this.sourceFor(pkg).fetchVerified(url, pkg, listedIn);
  }

  private sourceFor(pkg: ResolvedPackage): SuiteSource {
    const s = this.sources.get(pkg.suite);
    if (s) return s;
    // A locked package from a suite outside the current set: reach it through the right mirror anyway.
    const mirror = pkg.suite.endsWith('-security') ? this.securityMirror.url : this.mirror.url;
    const extra = new SuiteSource(pkg.suite, mirror, this.ctx);
    this.sources.set(pkg.suite, extra);
    return extra;
  }

  /**
   * Extracts a package once into the cache (content-addressed by the .deb's SHA256) and returns the
   * directory, laid out as `dpkg-deb -x` would. Treat it as read-only: it is shared between builds.
   */
  async unpack(pkg: ResolvedPackage): Promise<string> {
    const dest = this.cache.unpackedPath(pkg.sha256);
    if (await isDir(dest)) return dest;
    const deb = await this.download(pkg);
    const parent = join(this.cache.root, 'unpacked');
    await mkdir(parent, { recursive: true });
    const tmp = join(parent, `.tmp-${process.pid}-${Math.random().toString(16).slice(2)}-${pkg.sha256.slice(0, 12)}`);
    try {
      await extractDeb(deb, tmp, { verified: true }); // download() checked its SHA256 against Packages
      await rename(tmp, dest);
    } catch (err) {
      // The extractor names the cached file; say which package that is.
      if (err instanceof Error && !err.message.startsWith(`${pkg.name} `)) err.message = `${pkg.name} ${pkg.version}: ${err.message}`;
      const code = (err as NodeJS.ErrnoException).code;
      // Another build finished the same extraction first: use theirs.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await isDir(dest))) return dest;
      throw err;
    } finally {
      await discard(tmp);
    }
    return dest;
  }

  /** Every package resolved so far, as lockfile entries (sorted by name). */
  lock(): LockEntry[] {
    return [...this.used.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(toLockEntry);
  }

  /**
   * Writes `lock()` to the lockfile given at open (or `path`). Returns false when the file already
   * said exactly that.
   */
  async saveLock(path = this.options.lockFile): Promise<boolean> {
    if (!path) throw new LockError('no lockfile path: pass lockFile to openArchive() or a path to saveLock()');
    return writeLockFile(path, this.lock());
  }
}

/** Like Promise.all, but waits for every promise before rejecting with the first failure. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

function toLockEntry(p: ResolvedPackage): LockEntry {
  const e: LockEntry = { name: p.name, version: p.version, arch: p.arch, suite: p.suite, filename: p.filename, size: p.size, sha256: p.sha256 };
  if (p.preDepends) e.preDepends = p.preDepends;
  if (p.depends) e.depends = p.depends;
  if (p.provides) e.provides = p.provides;
  return e;
}

/** A locked package must match the signed index wherever the index still lists that version. */
function checkPinsAgainstIndex(pins: Map<string, Candidate>, universe: PackageUniverse, lockFile: string): void {
  for (const pin of pins.values()) {
    const listed = universe.candidates(pin.name).find((c) => c.version === pin.version);
    if (listed && (listed.sha256 !== pin.sha256 || listed.size !== pin.size)) {
      throw new HashMismatchError({
        file: `${pin.name} ${pin.version}`,
        expected: listed.sha256,
        actual: pin.sha256,
        listedIn: `the signed index of ${listed.suite} (the lock ${lockFile} disagrees; run with --update-lock if that is intended)`,
        what: 'locked SHA256',
      });
    }
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Opens an archive: finds the mirrors, loads the trust anchors and the lockfile. Makes no request yet. */
export async function openArchive(opts: ArchiveOptions = {}): Promise<Archive> {
  const suite = opts.suite ?? 'bookworm';
  const { mirror, security } = findMirrors({
    suite,
    mirror: opts.mirror,
    securityMirror: opts.securityMirror,
    env: opts.env,
    aptDir: opts.aptDir,
  });
  const cacheDir = opts.cacheDir ?? defaultCacheDir(opts.env);
  const cache = new Cache(cacheDir);
  const keys = await trustAnchors(opts.trustedKeys); // parsed (with openpgp) only when a signature needs checking
  const suites = opts.suites ?? defaultSuites(suite);
  const ctx: SuiteContext = {
    cache,
    keys,
    offline: !!opts.offline,
    now: opts.now,
    transport: { onProgress: opts.onProgress, onRequest: opts.onRequest, retries: opts.retries, backoffMs: opts.backoffMs, idleTimeoutMs: opts.idleTimeoutMs },
  };
  const sources = new Map(suites.map((s) => [s, new SuiteSource(s, s.endsWith('-security') ? security.url : mirror.url, ctx)]));
  let pins: Map<string, Candidate> | undefined;
  if (opts.lockFile && !opts.updateLock) {
    const entries = await readLockFile(opts.lockFile);
    if (entries) pins = new Map(entries.map((e) => [e.name, { ...e }]));
  }
  return new Archive(mirror, security, suites, cacheDir, sources, cache, opts.components ?? ['main'], pins, opts, ctx);
}
