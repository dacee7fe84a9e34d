// The same signed fixture mirror served over HTTP by a local server: percent-encoded pool paths,
// conditional InRelease requests, retries of transient failures, and truncated transfers.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { openArchive, type ArchiveOptions } from '../src/index.js';
import { listTree, makeKey, standardSuites, tempDir, writeMirror } from './helpers/archive-fixture.js';

const key = await makeKey();
const m = await writeMirror(tempDir('mirror'), standardSuites(), [key.privateKey]);
const seen: { path: string; status: number }[] = [];
/**
 * Paths that fail: 'truncate' sends half the body then drops the connection; 'stall' sends half and
 * then nothing; 'redirect' answers 302 to the same file under /moved; 'gzip' sends it gzip-encoded;
 * a number is a status to answer once.
 */
const faults = new Map<string, 'truncate' | 'stall' | 'redirect' | 'gzip' | number>();
const stalled: import('node:http').ServerResponse[] = [];

const server: Server = createServer((req, res) => {
  const asked = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
  const path = asked.startsWith('/moved/') ? asked.slice('/moved'.length) : asked;
  const file = join(m.root, path);
  const fault = faults.get(path);
  const reply = (status: number): void => {
    seen.push({ path, status });
    res.writeHead(status).end();
  };
  if (typeof fault === 'number') {
    faults.delete(path);
    return reply(fault);
  }
  if (fault === 'redirect' && asked === path) {
    seen.push({ path, status: 302 });
    res.writeHead(302, { location: `/moved${req.url}` }).end();
    return;
  }
  if (!existsSync(file) || !statSync(file).isFile()) return reply(404);
  const st = statSync(file);
  const lastModified = st.mtime.toUTCString();
  if (req.headers['if-modified-since'] === lastModified) return reply(304);
  seen.push({ path, status: 200 });
  if (fault !== 'gzip') res.writeHead(200, { 'content-length': st.size, 'last-modified': lastModified });
  if (fault === 'stall') {
    stalled.push(res);
    createReadStream(file, { start: 0, end: Math.floor(st.size / 2) }).on('data', (c) => res.write(c));
    return;
  }
  if (fault === 'gzip') {
    res.writeHead(200, { 'content-encoding': 'gzip', 'last-modified': lastModified });
    res.end(gzipSync(readFileSync(file)));
    return;
  }
  if (fault === 'truncate') {
    createReadStream(file, { start: 0, end: Math.floor(st.size / 2) }).on('data', (c) => res.write(c)).on('end', () => res.destroy());
    return;
  }
  createReadStream(file).pipe(res);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
t.teardown(() => {
  for (const r of stalled) r.destroy();
  server.close();
});
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const opts = (cacheDir: string, extra: Partial<ArchiveOptions> = {}): ArchiveOptions => ({
  mirror: url, securityMirror: url, cacheDir, trustedKeys: [key.armored], aptDir: false, env: {}, retries: 2, backoffMs: 1, ...extra,
});

t.test('over http: "+" in pool paths, conditional InRelease on a warm run', async (t) => {
  const cache = tempDir('cache');
  const a = await openArchive(opts(cache));
  const [bb] = await a.resolve(['busybox-static']);
  t.match(a.packageUrl(bb!), /busybox-static_1\.35\.0-4%2Bb3_amd64\.deb$/);
  t.ok(existsSync(await a.download(bb!)));
  seen.length = 0;
  const b = await openArchive(opts(cache));
  await b.download((await b.resolve(['busybox-static']))[0]!);
  t.same(seen.map((s) => `${s.status} ${s.path}`).sort(), ['304 /dists/bookworm-security/InRelease', '304 /dists/bookworm-updates/InRelease', '304 /dists/bookworm/InRelease']);
});

t.test('redirects are followed and a Content-Encoding is undone before the hash check', async (t) => {
  faults.set('/dists/bookworm/InRelease', 'redirect');
  const packages = ['xz', 'gz'].map((x) => `dists/bookworm/main/binary-amd64/Packages.${x}`).find((f) => existsSync(join(m.root, f)));
  t.ok(packages, 'the fixture lists a compressed Packages');
  faults.set(`/${packages}`, 'gzip');
  seen.length = 0;
  const a = await openArchive(opts(tempDir('cache')));
  t.ok((await a.resolve(['busybox-static'])).length);
  t.ok(seen.some((s) => s.status === 302 && s.path === '/dists/bookworm/InRelease'), 'the redirect was taken');
  faults.clear();
});

t.test('transient errors are retried', async (t) => {
  const cache = tempDir('cache');
  faults.set('/dists/bookworm/InRelease', 503);
  faults.set(`/${m.debs.get('libalt=3.0-1')!.filename}`, 502);
  seen.length = 0;
  const a = await openArchive(opts(cache));
  const [p] = await a.resolve(['libalt']);
  t.ok(existsSync(await a.download(p!)));
  t.equal(seen.filter((s) => s.path === '/dists/bookworm/InRelease').map((s) => s.status).join(','), '503,200');
});

t.test('a transfer cut short every time fails with E_DOWNLOAD and leaves nothing', async (t) => {
  const cache = tempDir('cache');
  const a = await openArchive(opts(cache));
  const [p] = await a.resolve(['libalt']);
  const before = listTree(cache);
  const path = `/${m.debs.get('libalt=3.0-1')!.filename}`;
  faults.set(path, 'truncate');
  seen.length = 0;
  const err = await a.download(p!).catch((e: unknown) => e);
  faults.delete(path);
  t.match(err, { code: 'E_DOWNLOAD', message: /libalt_3\.0-1_amd64\.deb: (truncated|transfer failed).* \(gave up after 3 attempts\)$/ });
  t.equal(seen.filter((s) => s.path === path).length, 3, 'first try + 2 retries');
  t.same(listTree(cache), before, 'nothing new in the cache');
});

t.test('a suite the mirror does not have', async (t) => {
  const a = await openArchive(opts(tempDir('cache'), { suite: 'trixie' }));
  await t.rejects(a.resolve(['app']), { code: 'E_NOT_FOUND', message: /dists\/trixie(-updates|-security)?\/InRelease: no such suite on http/ });
});

t.test('a stalled transfer is aborted after the idle timeout and retried', async (t) => {
  const cache = tempDir('cache');
  const a = await openArchive(opts(cache, { idleTimeoutMs: 300, retries: 1 }));
  const [p] = await a.resolve(['libalt']);
  const path = `/${m.debs.get('libalt=3.0-1')!.filename}`;
  faults.set(path, 'stall');
  const err = await a.download(p!).catch((e: unknown) => e);
  faults.delete(path);
  t.match(err, { code: 'E_DOWNLOAD', message: /libalt_3\.0-1_amd64\.deb: transfer failed after \d+ bytes: .*no data for 300 ms.* \(gave up after 2 attempts\)$/ });
  t.same(listTree(cache).filter((x) => x.includes('.tmp-')), []);
});
