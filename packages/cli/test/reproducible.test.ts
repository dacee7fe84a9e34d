// One immutable image: the same app and lockfile give a bit-identical image whatever the build
// directory, time zone, umask, locale, file mtimes or cache (the second build starts from an empty
// cache, so jlink and every extraction run again under the other umask).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helloJar, liveSkipReason, tempDir } from './helpers/live.js';

const skip = (await liveSkipReason()) ?? false;
if (skip) t.comment(`skipping reproducibility tests: ${skip}`);
const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'mkimage.js');

interface Build { digest: string; file: string }

function mkimage(cwd: string, args: string[], env: Record<string, string>, umask: string): Build {
  // A shell sets the umask; everything else comes from env.
  const r = spawnSync('/bin/sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, main, ...args], {
    cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
  });
  if (r.status !== 0) throw new Error(`mkimage failed (${r.status}): ${r.stderr}`);
  const [digest, file] = r.stdout.trim().split(/\s+/);
  return { digest: digest!, file: file! };
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

t.test('two builds in different places, time zones, umasks and caches give the same image', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-repro-');
  t.teardown(cleanup);
  const jar = await helloJar();
  const a = join(dir, 'first', 'project');
  const b = join(dir, 'second', 'deeper', 'project');
  for (const d of [a, b]) mkdirSync(d, { recursive: true });
  copyFileSync(jar, join(a, 'hello.jar'));
  copyFileSync(jar, join(b, 'hello.jar'));
  utimesSync(join(a, 'hello.jar'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
  utimesSync(join(b, 'hello.jar'), new Date(), new Date());
  const args = (...more: string[]): string[] => ['hello.jar', '-q', '-e', 'GREETING=hi', ...more, '--', 'arg one'];

  // The first build writes mkimage.lock beside the app; the second uses a copy of it.
  const first = mkimage(a, args('-o', 'app.img'), { TZ: 'UTC', LANG: 'C' }, '022');
  copyFileSync(join(a, 'mkimage.lock'), join(b, 'mkimage.lock'));
  const second = mkimage(b, args('-o', 'app.img', '--cache-dir', join(dir, 'other-cache')), { TZ: 'Pacific/Kiritimati', LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' }, '077');
  t.match(first.digest, /^[0-9a-f]{64}$/, 'prints the image digest');
  t.equal(first.digest, sha256(first.file), 'the digest is the image file\'s SHA256');
  t.equal(second.digest, first.digest, 'bit-identical images');

  // Same again for the initramfs format (its digest covers vmlinuz, initrd.img and cmdline).
  const i1 = mkimage(a, args('-o', 'out', '--format', 'initramfs'), { TZ: 'UTC' }, '022');
  const i2 = mkimage(b, args('-o', 'out', '--format', 'initramfs', '--cache-dir', join(dir, 'other-cache')), { TZ: 'Asia/Kolkata' }, '027');
  t.equal(i2.digest, i1.digest, 'bit-identical initramfs images');
  t.equal(sha256(join(a, 'out', 'initrd.img')), sha256(join(b, 'out', 'initrd.img')));

  // And the check can fail: a different SOURCE_DATE_EPOCH or a changed env gives another image.
  const later = mkimage(a, args('-o', 'later', '--format', 'initramfs'), { TZ: 'UTC', SOURCE_DATE_EPOCH: '1700000000' }, '022');
  t.not(later.digest, i1.digest, 'SOURCE_DATE_EPOCH is part of the identity');
  const other = mkimage(a, ['hello.jar', '-q', '-e', 'GREETING=bye', '-o', 'other', '--format', 'initramfs'], { TZ: 'UTC' }, '022');
  t.not(other.digest, i1.digest, 'baked configuration is part of the identity');
  t.comment(`digest ${first.digest}`);
});

t.test('--report writes inputs, packages, partitions and the digest', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-report-');
  t.teardown(cleanup);
  copyFileSync(await helloJar(), join(dir, 'hello.jar'));
  const built = mkimage(dir, ['hello.jar', '-q', '-o', 'app.img', '--report', 'report.json'], { TZ: 'UTC' }, '022');
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  t.equal(report.digest, built.digest);
  t.equal(report.inputs.app.sha256, sha256(join(dir, 'hello.jar')));
  t.ok(report.packages.some((p: { name: string }) => p.name === 'busybox-static'));
  t.ok(report.packages.every((p: { sha256: string; version: string }) => /^[0-9a-f]{64}$/.test(p.sha256) && p.version));
  t.same(report.partitions.map((p: { name: string }) => p.name), ['ESP', 'root']);
});
