// mkimage.lock: written from a build, then used exactly; checked against signed indexes; refreshed.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { formatLock, openArchive, parseLock, type ArchiveOptions } from '../src/index.js';
import { makeKey, standardSuites, tempDir, writeMirror, type BuiltMirror } from './helpers/archive-fixture.js';

const key = await makeKey();
const opts = (m: BuiltMirror, extra: Partial<ArchiveOptions>): ArchiveOptions => ({
  mirror: m.url, securityMirror: m.url, cacheDir: tempDir('cache'), trustedKeys: [key.armored], aptDir: false, env: {}, retries: 0, ...extra,
});
const mirrorWithUpdates = (libfoo: string[]): Promise<BuiltMirror> => {
  const suites = standardSuites();
  suites[1]!.packages = libfoo.map((version) => ({ name: 'libfoo', version, preDepends: 'libc6 (>= 2.36)' }));
  return writeMirror(tempDir('mirror'), suites, [key.privateKey]);
};

const v1 = await mirrorWithUpdates(['1.2-1~deb12u1']);
const lockDir = tempDir('app');
const lockFile = join(lockDir, 'mkimage.lock');
{
  const a = await openArchive(opts(v1, { lockFile }));
  await a.resolve(['app'], { closure: true });
  await a.saveLock();
}
const written = readFileSync(lockFile, 'utf8');

t.test('the lockfile is readable text with every field a rebuild needs', async (t) => {
  t.match(written, /^# mkimage\.lock/);
  t.match(written, /\nPackage: libfoo\nVersion: 1\.2-1~deb12u1\nArchitecture: amd64\nSuite: bookworm-updates\nFilename: pool\/main\/libf\/libfoo\/libfoo_1\.2-1~deb12u1_amd64\.deb\nSize: \d+\nSHA256: [0-9a-f]{64}\nPre-Depends: libc6 \(>= 2\.36\)\n/);
  const entries = parseLock(written, 'mkimage.lock');
  t.same(entries.map((e) => e.name), ['app', 'libc6', 'libfoo', 'libgcc-s1', 'provider']);
  t.equal(formatLock(entries), written, 'parse -> format round-trips byte for byte');
  t.throws(() => parseLock('Package: x\nVersion: 1\n', 'L'), { code: 'E_LOCK', message: /^L: entry 1 has no Architecture field/ });
  t.throws(() => parseLock(written.replace(/SHA256: [0-9a-f]{8}/, 'SHA256: zz'), 'L'), { code: 'E_LOCK', message: /malformed Size or SHA256/ });
});

t.test('with a lock, the locked versions win over newer ones', async (t) => {
  const v2 = await mirrorWithUpdates(['1.2-1~deb12u1', '1.3-1~deb12u1']);
  const a = await openArchive(opts(v2, { lockFile }));
  const got = await a.resolve(['app'], { closure: true });
  t.equal(got.find((p) => p.name === 'libfoo')!.version, '1.2-1~deb12u1');
  t.equal(await a.saveLock(), false, 'unchanged lock is not rewritten');
  const u = await openArchive(opts(v2, { lockFile, updateLock: true }));
  t.equal((await u.resolve(['app'], { closure: true })).find((p) => p.name === 'libfoo')!.version, '1.3-1~deb12u1');
  const copy = join(tempDir('app'), 'mkimage.lock');
  copyFileSync(lockFile, copy);
  t.equal(await u.saveLock(copy), true);
  t.match(readFileSync(copy, 'utf8'), /Version: 1\.3-1~deb12u1/);
});

t.test('a locked version the archive has dropped is still fetched by pool path and checked', async (t) => {
  const v3 = await mirrorWithUpdates(['1.3-1~deb12u1']);
  const old = v1.debs.get('libfoo=1.2-1~deb12u1')!;
  mkdirSync(dirname(join(v3.root, old.filename)), { recursive: true });
  copyFileSync(join(v1.root, old.filename), join(v3.root, old.filename));
  const a = await openArchive(opts(v3, { lockFile }));
  const got = await a.resolve(['app'], { closure: true });
  const libfoo = got.find((p) => p.name === 'libfoo')!;
  t.equal(libfoo.version, '1.2-1~deb12u1');
  t.equal(readFileSync(await a.download(libfoo)).length, old.size);
  // The same file altered on the mirror: the lock's SHA256 catches it.
  const b = readFileSync(join(v3.root, old.filename));
  b[b.length - 1] ^= 1;
  writeFileSync(join(v3.root, old.filename), b);
  const c = await openArchive(opts(v3, { lockFile }));
  const [p] = await c.resolve(['libfoo']);
  await t.rejects(c.download(p!), { code: 'E_HASH_MISMATCH', message: /libfoo_1\.2-1~deb12u1_amd64\.deb: SHA256 \S+ does not match \S+ listed in .*mkimage\.lock/ });
});

t.test('a lock that disagrees with the signed index is refused', async (t) => {
  const bad = join(tempDir('app'), 'mkimage.lock');
  const entries = parseLock(written, lockFile);
  entries.find((e) => e.name === 'libalt' || e.name === 'libgcc-s1')!.sha256 = 'ab'.repeat(32);
  writeFileSync(bad, formatLock(entries));
  const a = await openArchive(opts(v1, { lockFile: bad }));
  await t.rejects(a.resolve(['app'], { closure: true }), {
    code: 'E_HASH_MISMATCH',
    message: /^libgcc-s1 12\.2\.0-14: locked SHA256 (ab){32} does not match [0-9a-f]{64} listed in the signed index of bookworm/,
  });
});

t.test('a locked version that no longer satisfies a new dependency says to update the lock', async (t) => {
  const suites = standardSuites();
  suites[0]!.packages.push({ name: 'wants-new-libfoo', version: '1', depends: 'libfoo (>= 1.3)' });
  suites[1]!.packages = [
    { name: 'libfoo', version: '1.2-1~deb12u1', preDepends: 'libc6 (>= 2.36)' },
    { name: 'libfoo', version: '1.3-1~deb12u1', preDepends: 'libc6 (>= 2.36)' },
  ];
  const m = await writeMirror(tempDir('mirror'), suites, [key.privateKey]);
  const a = await openArchive(opts(m, { lockFile }));
  await t.rejects(a.resolve(['wants-new-libfoo'], { closure: true }), {
    code: 'E_UNSATISFIABLE',
    message: /wants-new-libfoo 1 \(bookworm\) depends on "libfoo \(>= 1\.3\)".*pinned by the lockfile; run with --update-lock/,
  });
});
