// Getting bytes from a mirror into a local file: http(s) through fetch, file:// by reading the file.
// Hashes while writing, reports progress, retries transient failures with exponential backoff.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DownloadError } from './errors.js';

export interface ProgressEvent {
  url: string;
  received: number;
  /** Expected length, when known (Content-Length or the size an index lists). */
  total?: number;
  done: boolean;
}

export interface TransportOptions {
  onProgress?: (e: ProgressEvent) => void;
  /** Called once per request actually sent (file:// reads count too), for tests and diagnostics. */
  onRequest?: (url: string) => void;
  /** Attempts after the first one for transient failures (default 4). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 500). */
  backoffMs?: number;
  /** Abort (and retry) an http transfer that receives nothing for this long (default 30 000 ms). */
  idleTimeoutMs?: number;
}

export interface FetchOptions extends TransportOptions {
  total?: number;
  /** Send If-Modified-Since (http only); a 304 answer returns `{ notModified: true }` and writes nothing. */
  ifModifiedSince?: string;
}

export interface FetchResult {
  notModified: boolean;
  size: number;
  sha256: string;
  lastModified?: string;
}

/**
 * The URL of `path` (e.g. a pool `Filename:`) under a mirror. Over http(s) each segment is
 * percent-encoded ('+' becomes %2B, which some servers would otherwise read as a space); on
 * file:// the path stays literal.
 */
export function mirrorUrl(mirror: string, path: string): string {
  const base = mirror.replace(/\/+$/, '');
  if (base.startsWith('file:')) return `${base}/${path}`;
  return `${base}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** True for a DownloadError that means "the mirror does not have this file". */
export function isMissing(err: unknown): boolean {
  return err instanceof DownloadError && err.data['missing'] === true;
}

const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

class TransientError extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Downloads `url` into `dest` (overwriting it), hashing as it goes. */
export async function fetchToFile(url: string, dest: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const retries = opts.retries ?? 4;
  const backoff = opts.backoffMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(url, dest, opts);
    } catch (err) {
      if (!(err instanceof TransientError) || attempt >= retries) {
        if (err instanceof DownloadError) throw err;
        const reason = err instanceof Error ? err.message : String(err);
        throw new DownloadError(url, `${reason} (gave up after ${attempt + 1} attempts)`, { attempts: attempt + 1 }, { cause: err });
      }
      await sleep(backoff * 2 ** attempt);
    }
  }
}

async function fetchOnce(url: string, dest: string, opts: FetchOptions): Promise<FetchResult> {
  opts.onRequest?.(url);
  let body: Readable;
  let total = opts.total;
  let contentLength: number | undefined;
  let lastModified: string | undefined;
  let kick = (): void => {};
  let stop = (): void => {};
  if (url.startsWith('file:')) {
    const p = fileURLToPath(url); // '+' stays literal; only %xx escapes are decoded
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DownloadError(url, 'not found on the mirror', { missing: true, status: 404 });
      throw new DownloadError(url, (err as Error).message);
    }
    // No conditional read on file://: reading is as cheap as a stat, and mtimes have 1 s resolution.
    body = createReadStream(p);
  } else {
    let res: Response;
    const headers: Record<string, string> = {};
    if (opts.ifModifiedSince) headers['if-modified-since'] = opts.ifModifiedSince;
    // A stalled connection must not hang the build: abort when nothing arrives for a while.
    const abort = new AbortController();
    const idleMs = opts.idleTimeoutMs ?? 30_000;
    let idle = setTimeout(() => abort.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
    kick = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
    };
    stop = () => clearTimeout(idle);
    try {
      res = await fetch(url, { headers, redirect: 'follow', signal: abort.signal });
    } catch (err) {
      stop();
      throw new TransientError(`cannot connect: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    if (res.status === 304) {
      stop();
      await res.body?.cancel();
      return { notModified: true, size: 0, sha256: '' };
    }
    if (!res.ok || !res.body) {
      stop();
      await res.body?.cancel();
      if (res.status === 404 || res.status === 410) throw new DownloadError(url, `HTTP ${res.status}: not found on the mirror`, { missing: true, status: res.status });
      if (TRANSIENT_STATUS.has(res.status)) throw new TransientError(`HTTP ${res.status} ${res.statusText}`);
      throw new DownloadError(url, `HTTP ${res.status} ${res.statusText}`, { status: res.status });
    }
    const len = res.headers.get('content-length');
    // fetch undoes a Content-Encoding, after which Content-Length no longer counts the bytes we see.
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    if (len !== null && /^\d+$/.test(len) && !encoded) total = contentLength = Number(len);
    lastModified = res.headers.get('last-modified') ?? undefined;
    body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
  const hash = createHash('sha256');
  let received = 0;
  let lastReport = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      received += chunk.length;
      kick();
      const now = Date.now();
      if (opts.onProgress && now - lastReport > 100) {
        lastReport = now;
        opts.onProgress({ url, received, total, done: false });
      }
      cb(null, chunk);
    },
  });
  try {
    await pipeline(body, meter, createWriteStream(dest));
  } catch (err) {
    throw new TransientError(`transfer failed after ${received} bytes: ${(err as Error).message}`);
  } finally {
    stop();
  }
  if (contentLength !== undefined && received !== contentLength) {
    throw new TransientError(`truncated: got ${received} of ${contentLength} bytes`);
  }
  opts.onProgress?.({ url, received, total, done: true });
  return { notModified: false, size: received, sha256: hash.digest('hex'), lastModified };
}
