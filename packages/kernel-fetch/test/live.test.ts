// Against the real Debian archive (the mirror from MKIMAGE_DEBIAN_MIRROR or the host's apt sources):
// the cloud kernel's files extracted by mkimage are byte-identical to what dpkg-deb -x gives.
// Skipped, saying why, when no mirror is configured. Uses a cold temp cache unless
// MKIMAGE_TEST_CACHE_DIR names one to reuse.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { findMirrors, openArchive, resolveKernel } from '../src/index.js';
import { listTree, tempDir } from './helpers/archive-fixture.js';

let reason: string | undefined;
try {
  findMirrors({ suite: 'bookworm' });
} catch (err) {
  reason = `no Debian mirror configured (${(err as Error).message})`;
}
if (reason) {
  t.skip(`live test: ${reason}`);
} else {
  const cacheDir = process.env['MKIMAGE_TEST_CACHE_DIR'] || tempDir('live-cache');
  if (!process.env['MKIMAGE_TEST_CACHE_DIR']) t.teardown(() => rmSync(cacheDir, { recursive: true, force: true }));

  t.test('bookworm cloud kernel: mkimage extraction == dpkg-deb -x', async (t) => {
    const archive = await openArchive({ cacheDir });
    t.comment(`mirror ${archive.mirror.url} (${archive.mirror.origin}); security ${archive.securityMirror.url}`);
    const k = await resolveKernel(archive);
    t.match(k.package.name, /^linux-image-\d+\.\d+\.\d+-\d+-cloud-amd64$/);
    t.ok((await archive.release('bookworm')).signedBy.length > 0, 'InRelease verified against the bundled Debian keys');
    const dir = await archive.unpack(k.package);
    t.equal(await archive.unpack(k.package), dir, 'second unpack reuses the cached tree');
    const deb = await archive.download(k.package);
    const ref = tempDir('dpkg');
    t.teardown(() => rmSync(ref, { recursive: true, force: true }));
    execFileSync('dpkg-deb', ['-x', deb, ref]);
    const vmlinuz = `boot/vmlinuz-${k.release}`;
    const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
    t.equal(sha(join(dir, vmlinuz)), sha(join(ref, vmlinuz)), `${vmlinuz} byte-identical`);
    t.ok(lstatSync(join(dir, vmlinuz)).size > 5e6, 'a real kernel image');
    // The whole tree: same paths, types, modes, link targets; regular files' bytes spot-checked by size.
    const a = listTree(dir);
    t.same(a, listTree(ref), 'same paths');
    let diffs = 0;
    for (const p of a) {
      const x = lstatSync(join(dir, p));
      const y = lstatSync(join(ref, p));
      if (x.mode !== y.mode || x.size !== y.size || (x.isSymbolicLink() && readlinkSync(join(dir, p)) !== readlinkSync(join(ref, p)))) diffs++;
      if (x.isFile() && x.mtimeMs !== y.mtimeMs) diffs++;
    }
    t.equal(diffs, 0, `${a.length} entries: same mode, size, mtime and link target`);
  });

  t.test('trixie resolves too (its own keys, .xz-only security index)', async (t) => {
    const archive = await openArchive({ cacheDir, suite: 'trixie' });
    const k = await resolveKernel(archive);
    t.match(k.package.name, /^linux-image-6\.\d+\.\d+\S*-cloud-amd64$/);
    const closure = await archive.resolve(['busybox-static', 'openjdk-21-jdk-headless'], { closure: true });
    t.ok(closure.some((p) => p.name === 'libc6'), 'closure reaches libc6');
  });
}
