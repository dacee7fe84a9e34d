// Getting bytes from a mirror into a local file: http(s) through node:http(s), file:// by reading the
// file. Hashes while writing, reports progress, retries transient failures with exponential backoff.
// (node:http rather than fetch: fetch's first use costs a cold CLI run tens of milliseconds.)
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
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
    let res: IncomingMessage;
    try {
      res = await get(url, headers, abort.signal);
    } catch (err) {
      stop();
      throw new TransientError(`cannot connect: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
    }
    const status = res.statusCode ?? 0;
    if (status === 304) {
      stop();
      res.resume();
      return { notModified: true, size: 0, sha256: '' };
    }
    if (status < 200 || status > 299) {
      stop();
      res.resume();
      const statusText = res.statusMessage || STATUS_CODES[status] || '';
      if (status === 404 || status === 410) throw new DownloadError(url, `HTTP ${status}: not found on the mirror`, { missing: true, status });
      if (TRANSIENT_STATUS.has(status)) throw new TransientError(`HTTP ${status} ${statusText}`);
      throw new DownloadError(url, `HTTP ${status} ${statusText}`, { status });
    }
    const len = res.headers['content-length'];
    // A Content-Encoding is undone below, after which Content-Length no longer counts the bytes we see.
    const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (len !== undefined && /^\d+$/.test(len) && encoding === 'identity') total = contentLength = Number(len);
    lastModified = res.headers['last-modified'] ?? undefined;
    const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : undefined;
    if (!decoder && encoding !== 'identity') {
      stop();
      res.destroy();
      throw new DownloadError(url, `unsupported Content-Encoding ${encoding}`, {});
    }
    abort.signal.addEventListener('abort', () => res.destroy(abort.signal.reason as Error), { once: true });
    body = decoder ? res.pipe(decoder) : res;
    if (decoder) res.on('error', (e) => decoder.destroy(e));
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

const MAX_REDIRECTS = 10;

/** A GET that follows redirects (like fetch's 'follow'); resolves with the final response's head. */
function get(url: string, headers: Record<string, string>, signal: AbortSignal, redirects = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch (err) {
      reject(err);
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      reject(new Error(`unsupported URL scheme ${u.protocol}`));
      return;
    }
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: 'GET', headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new Error(`more than ${MAX_REDIRECTS} redirects`));
          return;
        }
        get(new URL(location, u).href, headers, signal, redirects + 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}
