// The archive client against a generated, signed file:// mirror: the good path, the warm and
// offline paths, and every way a mirror can be wrong. Each failure must be one line naming the file
// and the reason, with nothing new left in the cache.
import { readFileSync, writeFileSync, truncateSync, existsSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { openArchive, resolveKernel, type ArchiveOptions } from '../src/index.js';
import { clearsign, listTree, makeKey, releaseText, standardSuites, tempDir, writeMirror, type BuiltMirror } from './helpers/archive-fixture.js';

const key = await makeKey();
const stranger = await makeKey('someone else');

async function freshMirror(edit?: (suites: ReturnType<typeof standardSuites>) => void, signers = [key.privateKey]): Promise<BuiltMirror> {
  const suites = standardSuites();
  edit?.(suites);
  return writeMirror(tempDir('mirror'), suites, signers);
}

function opts(m: BuiltMirror, cacheDir: string, extra: Partial<ArchiveOptions> = {}): ArchiveOptions {
  return { mirror: m.url, securityMirror: m.url, cacheDir, trustedKeys: [key.armored], aptDir: false, env: {}, retries: 1, backoffMs: 1, ...extra };
}

const good = await freshMirror();

t.test('good path: closure with loop, alternatives, versioned Provides, updates and security', async (t) => {
  const cache = tempDir('cache');
  const requests: string[] = [];
  const a = await openArchive(opts(good, cache, { onRequest: (u) => requests.push(u) }));
  const got = await a.resolve(['app'], { closure: true });
  t.same(
    got.map((p) => `${p.name} ${p.version} ${p.suite}`),
    [
      'app 1.0-1 bookworm',
      'libc6 2.36-9+deb12u1 bookworm-security', // newest across suites
      'libfoo 1.2-1~deb12u1 bookworm-updates', // >= 1.1 only in updates; first alternative wins
      'libgcc-s1 12.2.0-14 bookworm', // libc6 <-> libgcc-s1 loop terminates
      'provider 1.0-1 bookworm', // versioned Provides satisfies (>= 2); unversioned one does not
    ],
  );
  // Only InRelease + one index per suite were fetched (Packages listed-but-absent was never asked for).
  t.equal(requests.filter((u) => u.endsWith('/InRelease')).length, 3);
  t.equal(requests.filter((u) => /Packages(\.xz|\.gz)?$/.test(u)).length, 3);
  t.notOk(requests.some((u) => u.endsWith('/Packages')), 'uncompressed index not requested');
  for (const p of got) {
    const path = await a.download(p);
    t.equal(readFileSync(path).length, p.size);
    t.equal(p.sha256, good.debs.get(`${p.name}=${p.version}`)!.sha256, `${p.name} hash from the index`);
  }
  // '+' and epoch in a pool file name, on file://.
  const [bb] = await a.resolve(['busybox-static']);
  t.equal(bb!.version, '1:1.35.0-4+b3');
  t.match(a.packageUrl(bb!), /busybox-static_1\.35\.0-4\+b3_amd64\.deb$/);
  t.ok(existsSync(await a.download(bb!)));
  t.same(a.lock().map((e) => e.name), ['app', 'busybox-static', 'libc6', 'libfoo', 'libgcc-s1', 'provider']);

  t.test('warm: only the InRelease freshness checks go out', async (t) => {
    const warm: string[] = [];
    const b = await openArchive(opts(good, cache, { onRequest: (u) => warm.push(u) }));
    const again = await b.resolve(['app'], { closure: true });
    for (const p of again) await b.download(p);
    t.same(again, got);
    t.same(warm.map((u) => u.slice(good.url.length)).sort(), ['/dists/bookworm-security/InRelease', '/dists/bookworm-updates/InRelease', '/dists/bookworm/InRelease']);
  });

  t.test('offline: no request at all, signature still checked', async (t) => {
    const none: string[] = [];
    const c = await openArchive(opts(good, cache, { offline: true, onRequest: (u) => none.push(u) }));
    const again = await c.resolve(['app'], { closure: true });
    for (const p of again) await c.download(p);
    t.same(again, got);
    t.same(none, []);
    // The cached InRelease is re-verified: a key nobody trusts makes the offline run fail.
    const d = await openArchive(opts(good, cache, { offline: true, trustedKeys: [stranger.armored] }));
    await t.rejects(d.resolve(['app']), { code: 'E_SIGNATURE' });
  });

  t.test('offline miss: a package never downloaded', async (t) => {
    const before = listTree(cache);
    const c = await openArchive(opts(good, cache, { offline: true }));
    const [k] = await c.resolve(['linux-image-6.1.0-9-cloud-amd64']);
    const err = await c.download(k!).catch((e: unknown) => e);
    t.match(err, { code: 'E_OFFLINE_MISS', message: /^linux-image-6\.1\.0-9-cloud-amd64 6\.1\.1-1 \(.*\.deb\) is not in the cache and --offline/ });
    t.same(listTree(cache), before);
    const empty = await openArchive(opts(good, tempDir('cache'), { offline: true }));
    await t.rejects(empty.resolve(['app']), { code: 'E_OFFLINE_MISS', message: /dists\/bookworm\/InRelease is not in the cache/ });
  });
});

t.test('kernel: metapackage -> newest versioned image (security)', async (t) => {
  const a = await openArchive(opts(good, tempDir('cache')));
  const k = await resolveKernel(a);
  t.equal(k.package.name, 'linux-image-6.1.0-10-cloud-amd64');
  t.equal(k.version, '6.1.2-1');
  t.equal(k.package.suite, 'bookworm-security');
  t.equal(k.release, '6.1.0-10-cloud-amd64');
  t.match(a.packageUrl(k.package), /\/pool\/updates\/main\//);
});

t.test('Contents-style generic index access through the same chain', async (t) => {
  const a = await openArchive(opts(good, tempDir('cache')));
  const f = await a.indexFile('bookworm', 'main/binary-amd64/Packages');
  t.equal(f.name, 'main/binary-amd64/Packages.xz');
  let text = '';
  for await (const c of await a.openIndex('bookworm', 'main/binary-amd64/Packages')) text += c.toString();
  t.match(text, /^Package: app$/m);
  let contents = '';
  for await (const c of await a.openIndex('bookworm', 'main/Contents-amd64')) contents += c.toString();
  t.match(contents, /^boot\/vmlinuz-6\.1\.0-9-cloud-amd64 +misc\/linux-image-6\.1\.0-9-cloud-amd64$/m);
  t.equal((await a.indexFile('bookworm', 'main/Contents-amd64')).compression, 'gz');
  await t.rejects(a.openIndex('bookworm-updates', 'main/Contents-amd64'), { code: 'E_NOT_FOUND', message: /Contents-amd64: not listed in the suite's InRelease/ });
  // Tampered on the mirror after the first fetch: the cached verified copy is still used; a fresh cache refuses it.
  const p = join(good.root, 'dists/bookworm/main/Contents-amd64.gz');
  const orig = readFileSync(p);
  const bad = Buffer.from(orig);
  bad[bad.length - 5] ^= 1;
  writeFileSync(p, bad);
  try {
    const b = await openArchive(opts(good, tempDir('cache')));
    await t.rejects(b.openIndex('bookworm', 'main/Contents-amd64'), { code: 'E_HASH_MISMATCH', message: /Contents-amd64\.gz: SHA256/ });
  } finally {
    writeFileSync(p, orig);
  }
});

/**
 * Runs `fn` against a fresh cache and asserts the one-line error. The cache must hold no temp file
 * and only verified content (every blob hashes to its name); with `strict`, nothing at all.
 */
async function failsCleanly(
  t: Tap.Test,
  m: BuiltMirror,
  fn: (a: Awaited<ReturnType<typeof openArchive>>) => Promise<unknown>,
  want: { code: string; message: RegExp },
  extra: Partial<ArchiveOptions> & { strict?: boolean } = {},
): Promise<void> {
  const cache = tempDir('cache');
  const a = await openArchive(opts(m, cache, extra));
  const err = (await fn(a).then(
    () => undefined,
    (e: unknown) => e,
  )) as Error & { code?: string };
  t.ok(err, 'it fails');
  t.match(err, want);
  t.notMatch(err?.message ?? '', /\n/, 'one line');
  const after = listTree(cache);
  if (extra.strict) t.same(after, [], 'nothing at all in the cache');
  t.same(after.filter((p) => p.includes('.tmp-')), [], 'no temp files left');
  for (const p of after.filter((p) => /^sha256\/..\/[0-9a-f]{64}$/.test(p))) {
    t.equal(sha256File(join(cache, p)), p.slice(-64), `cached ${p} is verified content`);
  }
}
const sha256File = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
type Tap = typeof t;
declare namespace Tap {
  type Test = Parameters<Parameters<typeof t.test>[1]>[0];
}

t.test('tampered InRelease text is refused', async (t) => {
  const m = await freshMirror();
  const p = join(m.root, 'dists/bookworm/InRelease');
  writeFileSync(p, readFileSync(p, 'utf8').replace('Label: Debian', 'Label: Debiam'));
  await failsCleanly(t, m, (a) => a.resolve(['app']), { code: 'E_SIGNATURE', message: /dists\/bookworm\/InRelease: bad signature/ }, { strict: true });
  const cache = tempDir('cache');
  const a = await openArchive(opts(m, cache));
  await a.resolve(['app']).catch(() => undefined);
  t.same(listTree(cache).filter((x) => x.startsWith('release/')), [], 'tampered InRelease not cached');
});

t.test('a recorded signature check stands only for the same bytes, the same keys and keys still valid', async (t) => {
  const m = await freshMirror();
  const cache = tempDir('cache');
  await (await openArchive(opts(m, cache))).resolve(['app']);
  const records = listTree(cache).filter((x) => x.endsWith('.InRelease.verified.json'));
  t.equal(records.length, 3, 'one record per verified InRelease');
  const recordPath = join(cache, records.find((r) => readFileSync(join(cache, r), 'utf8').includes('Suite: bookworm\\n'))!);
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as { sha256: string; body: string; keysExpire: string | null };
  const inRelease = recordPath.slice(0, -'.verified.json'.length);
  t.equal(record.sha256, createHash('sha256').update(readFileSync(inRelease)).digest('hex'), 'keyed by the bytes verified');
  const offline = async (): Promise<unknown> => (await openArchive(opts(m, cache, { offline: true }))).resolve(['app']);

  // Used while it stands: a record saying something else about the same bytes is believed (which
  // shows the signature was not checked again), and a record of expired keys is not.
  const forged = { ...record, body: record.body.replace(/^(Suite|Codename): bookworm$/gm, '$1: sid') };
  writeFileSync(recordPath, JSON.stringify(forged));
  await t.rejects(offline(), { code: 'E_FORMAT', message: /is for suite sid, not bookworm/ });
  writeFileSync(recordPath, JSON.stringify({ ...forged, keysExpire: new Date(Date.now() - 1000).toISOString() }));
  await t.resolves(offline(), 'expired keys: the signature is checked again (and holds)');
  writeFileSync(recordPath, JSON.stringify(record));

  // Other bytes than the ones recorded are fully verified: in the cache, and from the mirror.
  const good = readFileSync(inRelease, 'utf8');
  writeFileSync(inRelease, good.replace('Label: Debian', 'Label: Debiam'));
  await t.rejects(offline(), { code: 'E_SIGNATURE', message: /bad signature/ });
  writeFileSync(inRelease, good);
  const mirrorFile = join(m.root, 'dists/bookworm/InRelease');
  writeFileSync(mirrorFile, readFileSync(mirrorFile, 'utf8').replace('Label: Debian', 'Label: Debiam'));
  await t.rejects((await openArchive(opts(m, cache))).resolve(['app']), { code: 'E_SIGNATURE', message: /dists\/bookworm\/InRelease: bad signature/ });
  t.equal(readFileSync(inRelease, 'utf8'), good, 'the refused InRelease did not replace the cached one');
  t.same(JSON.parse(readFileSync(recordPath, 'utf8')), record, 'nor its record');
});

t.test('an InRelease signed only by an unknown key is refused; any trusted signature suffices', async (t) => {
  const m = await freshMirror(undefined, [stranger.privateKey]);
  await failsCleanly(t, m, (a) => a.resolve(['app']), { code: 'E_SIGNATURE', message: /InRelease: signed only by keys that are not trusted \([0-9a-f]{16}\)/ }, { strict: true });
  const both = await freshMirror(undefined, [stranger.privateKey, key.privateKey]);
  const a = await openArchive(opts(both, tempDir('cache')));
  t.equal((await a.resolve(['app'])).length, 1, 'two signatures, one trusted: accepted');
});

t.test('expired Valid-Until is refused; an old Date without Valid-Until is fine', async (t) => {
  const old = new Date(Date.now() - 200 * 86400e3);
  const m = await freshMirror((s) => {
    s[0]!.date = old;
    s[2]!.date = new Date(Date.now() - 10 * 86400e3);
    s[2]!.validUntil = new Date(Date.now() - 3 * 86400e3);
  });
  await failsCleanly(t, m, (a) => a.resolve(['app']), { code: 'E_EXPIRED', message: /bookworm-security\/InRelease: expired: Valid-Until .* is in the past/ }, { strict: true });
  const ok = await freshMirror((s) => (s[0]!.date = old));
  t.ok(await (await openArchive(opts(ok, tempDir('cache')))).resolve(['app']), 'months-old Date accepted');
});

t.test('a Packages index altered by one byte is refused', async (t) => {
  const m = await freshMirror();
  const p = join(m.root, 'dists/bookworm/main/binary-amd64/Packages.xz');
  const b = readFileSync(p);
  b[b.length - 20] ^= 1;
  writeFileSync(p, b);
  await failsCleanly(t, m, (a) => a.resolve(['app']), {
    code: 'E_HASH_MISMATCH',
    message: /dists\/bookworm\/main\/binary-amd64\/Packages\.xz: SHA256 [0-9a-f]{64} does not match [0-9a-f]{64} listed in .*dists\/bookworm\/InRelease/,
  });
});

t.test('a listed-but-absent compression is skipped for the next one', async (t) => {
  const m = await freshMirror();
  rmSync(join(m.root, 'dists/bookworm/main/binary-amd64/Packages.xz'));
  const a = await openArchive(opts(m, tempDir('cache')));
  t.equal((await a.indexFile('bookworm', 'main/binary-amd64/Packages')).name, 'main/binary-amd64/Packages.gz');
  t.equal((await a.resolve(['app'], { closure: true })).length, 5);
  rmSync(join(m.root, 'dists/bookworm/main/binary-amd64/Packages.gz'));
  await failsCleanly(t, m, (a) => a.resolve(['app']), { code: 'E_NOT_FOUND', message: /Packages: listed in InRelease but the mirror serves none of/ });
});

t.test('a .deb altered by one byte is refused and not cached', async (t) => {
  const m = await freshMirror();
  const p = join(m.root, m.debs.get('libalt=3.0-1')!.filename);
  const b = readFileSync(p);
  b[100] ^= 0x40;
  writeFileSync(p, b);
  await failsCleanly(t, m, async (a) => a.download((await a.resolve(['libalt']))[0]!), {
    code: 'E_HASH_MISMATCH',
    message: /libalt_3\.0-1_amd64\.deb: SHA256 [0-9a-f]{64} does not match [0-9a-f]{64} listed in .*dists\/bookworm\/main\/binary-amd64\/Packages/,
  });
});

t.test('a truncated .deb on the mirror is refused', async (t) => {
  const m = await freshMirror();
  const p = join(m.root, m.debs.get('libalt=3.0-1')!.filename);
  truncateSync(p, 200);
  await failsCleanly(t, m, async (a) => a.download((await a.resolve(['libalt']))[0]!), {
    code: 'E_HASH_MISMATCH',
    message: /libalt_3\.0-1_amd64\.deb: size 200 does not match \d+ listed in/,
  });
});

t.test('a missing package names itself and the suites searched', async (t) => {
  await failsCleanly(t, good, (a) => a.resolve(['no-such-package']), {
    code: 'E_NOT_FOUND',
    message: /^package no-such-package not found in bookworm, bookworm-updates, bookworm-security \(amd64\)/,
  });
});

t.test('an unsatisfiable dependency names it and who needed it', async (t) => {
  await failsCleanly(t, good, (a) => a.resolve(['needs-missing'], { closure: true }), {
    code: 'E_UNSATISFIABLE',
    message: /^needs-missing 1\.0-1 \(bookworm\) depends on "does-not-exist \(>= 1\)", which cannot be satisfied: no package does-not-exist/,
  });
  await failsCleanly(t, good, (a) => a.resolve(['needs-newer'], { closure: true }), {
    code: 'E_UNSATISFIABLE',
    message: /"libalt \(>= 4\) \| libfoo \(>> 2\)".*available libalt versions 3\.0-1 do not satisfy >= 4; available libfoo versions 1\.2-1~deb12u1, 1\.0-1 do not satisfy >> 2/,
  });
});

t.test('dependency loop resolves cleanly (each package once)', async (t) => {
  const a = await openArchive(opts(good, tempDir('cache')));
  const got = await a.resolve(['libgcc-s1'], { closure: true });
  t.same(got.map((p) => p.name), ['libc6', 'libgcc-s1']);
});

t.test('a wrong-suite InRelease (replayed from another suite) is refused', async (t) => {
  const m = await freshMirror();
  const text = releaseText({ suite: 'bookworm-updates', packages: [] }, []);
  writeFileSync(join(m.root, 'dists/bookworm/InRelease'), await clearsign(text, [key.privateKey]));
  await failsCleanly(t, m, (a) => a.resolve(['app']), { code: 'E_FORMAT', message: /dists\/bookworm\/InRelease: is for suite bookworm-updates, not bookworm/ }, { strict: true });
});

t.test('unpack: extracted once into the cache, shared by concurrent builds', async (t) => {
  const cache = tempDir('cache');
  const [a, b] = await Promise.all([openArchive(opts(good, cache)), openArchive(opts(good, cache))]);
  const [ka, kb] = await Promise.all([resolveKernel(a), resolveKernel(b)]);
  const [da, db] = await Promise.all([a.unpack(ka.package), b.unpack(kb.package)]);
  t.equal(da, db);
  t.equal(readFileSync(join(da, 'boot/vmlinuz-6.1.0-10-cloud-amd64'), 'utf8'), 'kernel 10\n');
  t.same(listTree(join(cache, 'unpacked')), [ka.package.sha256, ...listTree(da).map((p) => `${ka.package.sha256}/${p}`)], 'no temp dirs left');
});
