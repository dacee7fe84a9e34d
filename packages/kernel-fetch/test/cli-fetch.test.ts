// `mkimage fetch` end to end (the built CLI in a child process) against the signed fixture mirror:
// output, --extract compared with dpkg-deb -x, and failures: exit 1, one line, nothing at the output.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { listTree, makeKey, standardSuites, tempDir, writeMirror, type BuiltMirror } from './helpers/archive-fixture.js';

const CLI = fileURLToPath(new URL('../../cli/dist/bundle/mkimage.js', import.meta.url));
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (pnpm build)`);

const key = await makeKey();
const keyring = join(tempDir('keys'), 'test-archive.asc');
writeFileSync(keyring, key.armored);

async function mirror(edit?: (root: string, m: BuiltMirror) => void): Promise<BuiltMirror> {
  const m = await writeMirror(tempDir('mirror'), standardSuites(), [key.privateKey]);
  edit?.(m.root, m);
  return m;
}

function run(m: BuiltMirror, args: string[], cache = tempDir('cache'), initCwd = ''): { status: number | null; stdout: string; stderr: string; cache: string } {
  const r = spawnSync(process.execPath, [CLI, 'fetch', ...args, '--mirror', m.url, '--security-mirror', m.url, '--keyring', keyring, '--cache-dir', cache], {
    encoding: 'utf8',
    env: { ...process.env, INIT_CWD: initCwd, XDG_CACHE_HOME: tempDir('xdg') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, cache };
}

const good = await mirror();

t.test('prints each package, version, suite and SHA256; --extract matches dpkg-deb -x', async (t) => {
  const out = join(tempDir('out'), 'root');
  const r = run(good, ['app', 'busybox-static', '--closure', '--extract', out]);
  t.equal(r.stderr, '');
  t.equal(r.status, 0);
  const lines = r.stdout.trim().split('\n').map((l) => l.split(/\s+/));
  t.same(lines.map((l) => l.slice(0, 3).join(' ')), [
    'app 1.0-1 bookworm',
    'busybox-static 1:1.35.0-4+b3 bookworm',
    'libc6 2.36-9+deb12u1 bookworm-security',
    'libfoo 1.2-1~deb12u1 bookworm-updates',
    'libgcc-s1 12.2.0-14 bookworm',
    'provider 1.0-1 bookworm',
  ]);
  for (const [name, version, , sha] of lines) t.equal(sha, good.debs.get(`${name}=${version}`)!.sha256);
  // The reference: dpkg-deb -x of the same .deb files into one directory.
  const ref = tempDir('ref');
  for (const [name, version] of lines) execFileSync('dpkg-deb', ['-x', join(good.root, good.debs.get(`${name}=${version}`)!.filename), ref]);
  t.same(listTree(out), listTree(ref));
  t.equal(readFileSync(join(out, 'bin/busybox'), 'utf8'), readFileSync(join(ref, 'bin/busybox'), 'utf8'));
  // A non-empty output directory is refused rather than merged into.
  const again = run(good, ['app', '--extract', out]);
  t.equal(again.status, 1);
  t.match(again.stderr, /^mkimage: .*root exists and is not empty; --extract needs a new or empty directory\n$/);
});

/** A failing run: exit 1, exactly one `mkimage: ...` line, no output directory, no temp or unverified files. */
function fails(t: Tap.Test, m: BuiltMirror, args: string[], message: RegExp, strict = false): void {
  const parent = tempDir('out');
  const out = join(parent, 'root');
  const r = run(m, [...args, '--extract', out]);
  t.equal(r.status, 1, 'exit status 1');
  t.match(r.stderr, /^mkimage: [^\n]+\n$/, 'one line');
  t.match(r.stderr, message);
  t.equal(r.stdout, '');
  t.same(listTree(parent), [], 'nothing at the --extract output (not even a temp dir)');
  const cached = listTree(r.cache);
  if (strict) t.same(cached, [], 'nothing in the cache');
  t.same(cached.filter((p) => p.includes('.tmp')), [], 'no temp files in the cache');
}
type Tap = typeof t;
declare namespace Tap {
  type Test = Parameters<Parameters<typeof t.test>[1]>[0];
}

t.test('failures through the CLI', async (t) => {
  const tampered = await mirror((root) => {
    const p = join(root, 'dists/bookworm/InRelease');
    writeFileSync(p, readFileSync(p, 'utf8').replace(/^(Date: .*)$/m, '$1\nX-Note: added'));
  });
  fails(t, tampered, ['app'], /dists\/bookworm\/InRelease: bad signature/, true);
  const stranger = await makeKey('stranger');
  const unknown = await writeMirror(tempDir('mirror'), standardSuites(), [stranger.privateKey]);
  fails(t, unknown, ['app'], /InRelease: signed only by keys that are not trusted/, true);
  const expired = await writeMirror(
    tempDir('mirror'),
    standardSuites().map((s) => (s.suite === 'bookworm-security' ? { ...s, date: new Date(Date.now() - 9 * 86400e3), validUntil: new Date(Date.now() - 2 * 86400e3) } : s)),
    [key.privateKey],
  );
  fails(t, expired, ['app'], /bookworm-security\/InRelease: expired: Valid-Until/, true);
  const badIndex = await mirror((root) => {
    const p = join(root, 'dists/bookworm-updates/main/binary-amd64/Packages.xz');
    const b = readFileSync(p);
    b[12] ^= 0x10;
    writeFileSync(p, b);
  });
  fails(t, badIndex, ['app'], /bookworm-updates\/main\/binary-amd64\/Packages\.xz: SHA256 \S+ does not match \S+ listed in/);
  const badDeb = await mirror((root, m) => {
    const p = join(root, m.debs.get('libgcc-s1=12.2.0-14')!.filename);
    const b = readFileSync(p);
    b[b.length >> 1] ^= 1;
    writeFileSync(p, b);
  });
  fails(t, badDeb, ['app', '--closure'], /libgcc-s1_12\.2\.0-14_amd64\.deb: SHA256 \S+ does not match/);
  const truncated = await mirror((root, m) => {
    const p = join(root, m.debs.get('app=1.0-1')!.filename);
    writeFileSync(p, readFileSync(p).subarray(0, 100));
  });
  fails(t, truncated, ['app'], /app_1\.0-1_amd64\.deb: size 100 does not match \d+ listed in/);
  fails(t, good, ['app', 'nonexistent-pkg'], /package nonexistent-pkg not found in bookworm, bookworm-updates, bookworm-security/);
  fails(t, good, ['needs-missing', '--closure'], /needs-missing 1\.0-1 \(bookworm\) depends on "does-not-exist \(>= 1\)"/);
  const r = run(good, ['app', '--offline']);
  t.equal(r.status, 1);
  t.match(r.stderr, /^mkimage: .*dists\/bookworm\/InRelease is not in the cache and --offline forbids downloading it/);
});

t.test('dependency loop and offline through the CLI', async (t) => {
  const cache = tempDir('cache');
  const first = run(good, ['libgcc-s1', '--closure'], cache);
  t.equal(first.status, 0);
  t.match(first.stdout, /^libc6 +2\.36-9\+deb12u1 .*\nlibgcc-s1 +12\.2\.0-14 /);
  const offline = run(good, ['libgcc-s1', '--closure', '--offline'], cache);
  t.equal(offline.status, 0);
  t.equal(offline.stdout, first.stdout);
  const miss = run(good, ['libalt', '--offline'], cache);
  t.equal(miss.status, 1);
  t.match(miss.stderr, /^mkimage: libalt 3\.0-1 \(file:.*libalt_3\.0-1_amd64\.deb\) is not in the cache and --offline forbids/);
});

t.test('--lock: written when absent, then used; --update-lock refreshes', async (t) => {
  const dir = tempDir('app');
  const lock = join(dir, 'mkimage.lock');
  t.equal(run(good, ['libfoo', '--lock', lock]).status, 0);
  t.match(readFileSync(lock, 'utf8'), /Package: libfoo\nVersion: 1\.2-1~deb12u1\n/);
  const pinned = readFileSync(lock, 'utf8').replace('Version: 1.2-1~deb12u1', 'Version: 1.0-1').replace(/Suite: bookworm-updates\nFilename: \S+\nSize: \d+\nSHA256: \S+/, () => {
    const d = good.debs.get('libfoo=1.0-1')!;
    return `Suite: bookworm\nFilename: ${d.filename}\nSize: ${d.size}\nSHA256: ${d.sha256}`;
  });
  writeFileSync(lock, pinned);
  const r = run(good, ['libfoo', '--lock', lock]);
  t.match(r.stdout, /^libfoo +1\.0-1 +bookworm /);
  t.equal(readFileSync(lock, 'utf8'), pinned, 'an existing lock is not rewritten');
  const u = run(good, ['libfoo', '--lock', lock, '--update-lock']);
  t.match(u.stdout, /^libfoo +1\.2-1~deb12u1 /);
  t.match(readFileSync(lock, 'utf8'), /Version: 1\.2-1~deb12u1/);
});

t.test('relative paths are the user\'s (INIT_CWD, as pnpm sets it), not the workspace root', async (t) => {
  const user = tempDir('user');
  const r = run(good, ['busybox-static', '--extract', 'rootfs', '--lock', 'mkimage.lock'], tempDir('cache'), user);
  t.equal(r.status, 0, r.stderr);
  t.equal(readFileSync(join(user, 'rootfs/bin/busybox'), 'utf8'), 'not really busybox\n');
  t.ok(existsSync(join(user, 'mkimage.lock')));
});

t.test('a package that fails extraction (path escaping the root) leaves no output and no new parent', async (t) => {
  const suites = standardSuites();
  suites[0]!.packages.push({ name: 'evil', version: '1', files: { 'usr/ok': 'fine\n', '../../escape': 'bad\n' } });
  const m = await writeMirror(tempDir('mirror'), suites, [key.privateKey]);
  const parent = tempDir('out');
  const r = run(m, ['busybox-static', 'evil', '--extract', join(parent, 'new/nested/root')]);
  t.equal(r.status, 1);
  t.match(r.stderr, /^mkimage: evil 1: [^\n]*\.\.[^\n]*refusing to extract this package\n$/);
  t.same(listTree(parent), [], 'neither the output nor its new parents remain');
});
