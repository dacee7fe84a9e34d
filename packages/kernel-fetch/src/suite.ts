// One suite of one mirror (e.g. bookworm-security): its verified InRelease and the index files it
// lists. Every file is checked against the signed InRelease before it is cached or parsed.
import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { Cache, discard, sha256Hex } from './cache.js';
import { decompressIndex, type IndexCompression } from './decompress.js';
import { FormatError, HashMismatchError, InternalError, NotFoundError, OfflineMissError } from './errors.js';
import { CompactIndex, COMPACT_VERSION, encodeCompact, type PackageIndexView } from './compact-index.js';
import { parsePackages, type PackageRecord } from './packages-index.js';
import type { TrustAnchors } from './keys.js';
import { parseRelease, verifyInReleaseSignature, type Release } from './release.js';
import { fetchToFile, isMissing, mirrorUrl, type TransportOptions } from './transport.js';

export interface SuiteContext {
  cache: Cache;
  keys: TrustAnchors;
  offline: boolean;
  transport: TransportOptions;
  now?: Date;
}

/** A verified index file in the cache. */
export interface IndexFile {
  /** Path under dists/<suite>/ actually used, e.g. 'main/binary-amd64/Packages.xz'. */
  name: string;
  compression: IndexCompression;
  sha256: string;
  size: number;
  /** The cached, verified file. */
  path: string;
}

/**
 * Beside a cached InRelease: the record of its signature check (see SuiteSource.loadRelease). Like
 * every verified file in the cache, it is trusted as long as the cache directory is only ours.
 */
const VERIFIED_SUFFIX = '.verified.json';

interface VerifiedRecord {
  /** SHA256 of the InRelease bytes that verified. */
  sha256: string;
  /** TrustAnchors.digest of the keys it verified with. */
  keys: string;
  signedBy: string[];
  /** ISO time after which the signing keys are expired (null: they never expire). */
  keysExpire: string | null;
  /** The signed text openpgp returned. */
  body: string;
}

// Preferred order of index compressions: smallest download first.
const INDEX_SUFFIXES: [suffix: string, kind: IndexCompression][] = [
  ['.xz', 'xz'],
  ['.gz', 'gz'],
  ['', 'none'],
];

export class SuiteSource {
  private releasePromise: Promise<{ release: Release; commit: () => Promise<void> }> | undefined;
  private readonly packagesPromises = new Map<string, Promise<PackageIndexView>>();

  constructor(
    readonly suite: string,
    readonly mirror: string,
    private readonly ctx: SuiteContext,
  ) {}

  /** URL of a path under dists/<suite>/. */
  distUrl(path: string): string {
    return mirrorUrl(this.mirror, `dists/${this.suite}/${path}`);
  }

  /** The verified InRelease; also remembered in the cache (for --offline) once verified. */
  async release(): Promise<Release> {
    const { release } = await this.verifiedRelease();
    await this.commitRelease();
    return release;
  }

  /**
   * The verified InRelease without touching the cache yet: a caller loading several suites verifies
   * them all first, then commits, so a bad suite leaves no trace of its siblings either.
   */
  verifiedRelease(): Promise<{ release: Release; commit: () => Promise<void> }> {
    this.releasePromise ??= this.loadRelease();
    return this.releasePromise;
  }

  async commitRelease(): Promise<void> {
    await (await this.verifiedRelease()).commit();
  }

  private async loadRelease(): Promise<{ release: Release; commit: () => Promise<void> }> {
    const { cache, offline } = this.ctx;
    const url = this.distUrl('InRelease');
    const key = relative(cache.root, cache.releasePath(url));
    const opts = { file: url, suite: this.suite, now: this.ctx.now };
    const readCached = async (rel: string): Promise<string | undefined> => {
      try {
        return await readFile(join(cache.root, rel), 'utf8');
      } catch {
        return undefined;
      }
    };
    const [cachedText, record] = await Promise.all([readCached(key), readCached(`${key}${VERIFIED_SUFFIX}`)]);
    // The signature check, or its record: the very same bytes (SHA256) already verified with the
    // very same trust anchors by a key still valid now are not checked again; everything read from
    // the signed text (suite, Date, Valid-Until, SHA256 list) is still checked on every run.
    const verify = async (text: string): Promise<{ release: Release; record?: string }> => {
      const sha256 = sha256Hex(text);
      const known = this.verifiedRecord(record, sha256);
      if (known) return { release: parseRelease(known.body, known.signedBy, opts) };
      const v = await verifyInReleaseSignature(text, await this.ctx.keys.load(), opts);
      const digest = this.ctx.keys.digest;
      if (digest === undefined) return { release: v.release };
      const rec: VerifiedRecord = { sha256, keys: digest, signedBy: v.release.signedBy, keysExpire: v.keysExpire?.toISOString() ?? null, body: v.body };
      return { release: v.release, record: JSON.stringify(rec) };
    };
    const noop = async (): Promise<void> => {};
    const commitRecord = (rec: string | undefined) => async (): Promise<void> => {
      if (rec !== undefined) await cache.writeAtomic(`${key}${VERIFIED_SUFFIX}`, rec);
    };
    if (offline) {
      if (cachedText === undefined) throw new OfflineMissError(`${url}`, { suite: this.suite });
      return { release: (await verify(cachedText)).release, commit: noop }; // nothing is written offline
    }
    // The freshness check: one conditional request; 304 means the cached copy is current.
    let lastModified: string | undefined;
    if (cachedText !== undefined) {
      try {
        lastModified = (JSON.parse((await readCached(`${key}.json`)) ?? '{}') as { lastModified?: string }).lastModified;
      } catch {
        /* no metadata: unconditional request */
      }
    }
    const tmp = await cache.tempPath('InRelease');
    try {
      let res;
      try {
        res = await fetchToFile(url, tmp, { ...this.ctx.transport, ifModifiedSince: lastModified });
      } catch (err) {
        if (isMissing(err)) {
          throw new NotFoundError(`${url}: no such suite on ${this.mirror}; check --suite${this.suite.endsWith('-security') ? ' and --security-mirror' : ' and --mirror'}`, {
            url,
            suite: this.suite,
          });
        }
        throw err;
      }
      if (res.notModified && cachedText !== undefined) {
        const v = await verify(cachedText);
        return { release: v.release, commit: commitRecord(v.record) };
      }
      const text = await readFile(tmp, 'utf8');
      const v = await verify(text);
      let committed = false;
      const commit = async (): Promise<void> => {
        if (committed) return;
        committed = true;
        if (text !== cachedText) await cache.writeAtomic(key, text);
        await cache.writeAtomic(`${key}.json`, JSON.stringify({ url, lastModified: res.lastModified }));
        await commitRecord(v.record)();
      };
      return { release: v.release, commit };
    } finally {
      await discard(tmp);
    }
  }

  /** The record of an earlier signature check of exactly these bytes, if it still stands. */
  private verifiedRecord(text: string | undefined, sha256: string): VerifiedRecord | undefined {
    const digest = this.ctx.keys.digest;
    if (text === undefined || digest === undefined) return undefined;
    let rec: VerifiedRecord;
    try {
      rec = JSON.parse(text) as VerifiedRecord;
    } catch {
      return undefined;
    }
    if (rec.sha256 !== sha256 || rec.keys !== digest || typeof rec.body !== 'string' || !Array.isArray(rec.signedBy) || !rec.signedBy.length) return undefined;
    const now = (this.ctx.now ?? new Date()).getTime();
    if (rec.keysExpire !== null && !(now < Date.parse(rec.keysExpire))) return undefined;
    return rec;
  }

  /**
   * The verified file for `base` (e.g. 'main/binary-amd64/Packages'): the first compression the
   * InRelease lists that the mirror actually serves. Listed-but-absent files are skipped.
   */
  async indexFile(base: string): Promise<IndexFile> {
    const release = await this.release();
    const listed = INDEX_SUFFIXES.map(([s, kind]) => ({ entry: release.files.get(base + s), kind })).filter((x) => x.entry);
    if (!listed.length) {
      throw new NotFoundError(`${this.distUrl(base)}: not listed in the suite's InRelease (no ${base}, .xz or .gz); is the component or architecture right?`, {
        suite: this.suite,
        file: base,
      });
    }
    const { cache } = this.ctx;
    for (const { entry, kind } of listed) {
      if (await cache.hasBlob(entry!.sha256, entry!.size)) {
        return { name: entry!.path, compression: kind, sha256: entry!.sha256, size: entry!.size, path: cache.blobPath(entry!.sha256) };
      }
    }
    if (this.ctx.offline) throw new OfflineMissError(this.distUrl(listed[0]!.entry!.path), { suite: this.suite });
    const tried: string[] = [];
    for (const { entry, kind } of listed) {
      const url = this.distUrl(entry!.path);
      const path = await this.fetchVerified(url, entry!, `${this.distUrl('InRelease')}`).catch((err) => {
        if (isMissing(err)) {
          tried.push(url);
          return undefined;
        }
        throw err;
      });
      if (path) return { name: entry!.path, compression: kind, sha256: entry!.sha256, size: entry!.size, path };
    }
    throw new NotFoundError(`${this.distUrl(base)}: listed in InRelease but the mirror serves none of ${tried.join(', ')}`, { suite: this.suite, tried });
  }

  /** Downloads `url` to a temp file, checks size and SHA256 against `want`, then caches it. */
  async fetchVerified(url: string, want: { size: number; sha256: string }, listedIn: string): Promise<string> {
    const { cache } = this.ctx;
    const tmp = await cache.tempPath(url.slice(url.lastIndexOf('/') + 1));
    try {
      const got = await fetchToFile(url, tmp, { ...this.ctx.transport, total: want.size });
      if (got.size !== want.size) {
        throw new HashMismatchError({ file: url, what: 'size', expected: String(want.size), actual: String(got.size), listedIn });
      }
      if (got.sha256 !== want.sha256) throw new HashMismatchError({ file: url, expected: want.sha256, actual: got.sha256, listedIn });
      return await cache.commitBlob(tmp, want.sha256);
    } finally {
      await discard(tmp);
    }
  }

  /** A decompressed stream of a verified index file (e.g. 'main/Contents-amd64'). */
  async openIndex(base: string): Promise<Readable> {
    const f = await this.indexFile(base);
    return decompressIndex(f.compression, createReadStream(f.path), this.distUrl(f.name));
  }

  /** The amd64 + all packages of `component`, parsed once per index SHA256 and cached compactly. */
  packages(component = 'main'): Promise<PackageIndexView> {
    let p = this.packagesPromises.get(component);
    if (!p) this.packagesPromises.set(component, (p = this.loadPackages(component)));
    return p;
  }

  private async loadPackages(component: string): Promise<PackageIndexView> {
    const f = await this.indexFile(`${component}/binary-amd64/Packages`);
    const { cache } = this.ctx;
    try {
      const idx = CompactIndex.load(asciiOrText(await readFile(cache.parsedPath(f.sha256, COMPACT_VERSION))), f.sha256);
      if (idx) return idx;
    } catch {
      /* not parsed yet: parse the verified index below */
    }
    let records: PackageRecord[];
    try {
      records = await parsePackages(decompressIndex(f.compression, createReadStream(f.path), this.distUrl(f.name)));
    } catch (err) {
      throw new FormatError(this.distUrl(f.name), `cannot decompress or parse: ${(err as Error).message}`);
    }
    const text = encodeCompact(records, f.sha256);
    await cache.writeAtomic(relative(cache.root, cache.parsedPath(f.sha256, COMPACT_VERSION)), text);
    const idx = CompactIndex.load(text, f.sha256);
    if (!idx) throw new InternalError(`compact index of ${f.name} does not read back`);
    return idx;
  }
}

/** ASCII bytes as they are (every Debian index seen so far: searched without decoding it whole), else UTF-8 text. */
function asciiOrText(bytes: Buffer): Buffer | string {
  return isAscii(bytes) ? bytes : bytes.toString('utf8');
}
