import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inspectElf } from '../src/app/elf.js';
import { MissingLibraryError } from '../src/app/errors.js';
import {
  debianLibraryLookup, libraryCandidates, resolveInRoots, resolveLibraryClosure, type LibraryLookup,
} from '../src/app/libs.js';
import { makeElf } from './app-fixtures.js';

const dir = await mkdtemp(join(tmpdir(), 'mkimage-libs-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

async function put(root: string, rel: string, bytes: Uint8Array | string): Promise<string> {
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, bytes);
  return p;
}
async function link(root: string, rel: string, target: string): Promise<void> {
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await symlink(target, p);
}

// An unpacked "package set" of two roots, like two .debs extracted side by side.
const pkgA = join(dir, 'pkg-a');
const pkgB = join(dir, 'pkg-b');
const app = await put(dir, 'app', makeElf({ type: 2, interpreter: '/lib64/ld-linux-x86-64.so.2', needed: ['libzeta.so.1', 'libalpha.so.2'] }));
await put(pkgA, 'lib/x86_64-linux-gnu/libalpha.so.2.0.1', makeElf({ soname: 'libalpha.so.2', needed: ['libc.so.6', 'libdelta.so.1'] }));
await link(pkgA, 'lib/x86_64-linux-gnu/libalpha.so.2', 'libalpha.so.2.0.1');
// An absolute symlink must resolve inside the package root, not on the host.
await put(pkgA, 'opt/zeta/libzeta.so.1.5', makeElf({ soname: 'libzeta.so.1', needed: ['libc.so.6', 'libbeta.so.4'] }));
await link(pkgA, 'usr/lib/x86_64-linux-gnu/libzeta.so.1', '/opt/zeta/libzeta.so.1.5');
await put(pkgB, 'usr/lib/x86_64-linux-gnu/libc.so.6', makeElf({ soname: 'libc.so.6', needed: ['ld-linux-x86-64.so.2'] }));
await put(pkgB, 'lib64/ld-linux-x86-64.so.2', makeElf({ soname: 'ld-linux-x86-64.so.2' }));
await put(pkgB, 'usr/lib/libdelta.so.1', makeElf({ soname: 'libdelta.so.1' }));
await put(pkgB, 'lib/libbeta.so.4', makeElf({ soname: 'libbeta.so.4' }));

t.test('closure over unpacked packages: BFS, each level sorted, symlinks resolved inside the roots', async (t) => {
  const closure = await resolveLibraryClosure(app, debianLibraryLookup([pkgA, pkgB]));
  t.same(closure.libraries.map((l) => [l.depth, l.soname]), [
    [1, 'libalpha.so.2'], [1, 'libzeta.so.1'],
    [2, 'libbeta.so.4'], [2, 'libc.so.6'], [2, 'libdelta.so.1'],
    [3, 'ld-linux-x86-64.so.2'],
  ]);
  const byName = Object.fromEntries(closure.libraries.map((l) => [l.soname, l]));
  t.equal(byName['libzeta.so.1']!.path, join(pkgA, 'opt/zeta/libzeta.so.1.5'), 'absolute link stays in the root');
  t.equal(byName['libalpha.so.2']!.path, join(pkgA, 'lib/x86_64-linux-gnu/libalpha.so.2.0.1'));
  t.equal(byName['libc.so.6']!.neededBy, byName['libalpha.so.2']!.path, 'first needer in visiting order');
  t.equal(byName['libc.so.6']!.info.soname, 'libc.so.6');
  // Same closure when the app lists its needs in the other order.
  const swapped = await put(dir, 'app2', makeElf({ type: 2, interpreter: '/x', needed: ['libalpha.so.2', 'libzeta.so.1'] }));
  const again = await resolveLibraryClosure(swapped, debianLibraryLookup([pkgB, pkgA]));
  t.same(again.libraries.map((l) => l.soname), closure.libraries.map((l) => l.soname));
});

t.test('a soname nobody provides: MissingLibraryError naming it and its needer', async (t) => {
  const lonely = await put(dir, 'lonely', makeElf({ type: 2, interpreter: '/x', needed: ['libalpha.so.2'] }));
  const err = await resolveLibraryClosure(lonely, debianLibraryLookup([pkgA])).catch((e: unknown) => e);
  t.type(err, MissingLibraryError);
  const e = err as MissingLibraryError;
  t.equal(e.code, 'E_MISSING_LIBRARY');
  t.equal(e.data.soname, 'libc.so.6');
  t.equal(e.data.neededBy, join(pkgA, 'lib/x86_64-linux-gnu/libalpha.so.2.0.1'));
  t.match(e.message, /^library libc\.so\.6 \(needed by .*libalpha\.so\.2\.0\.1\) is not provided by any package/);
  t.notOk(e.message.includes('\n'));
});

t.test('resolveInRoots never leaves the roots', async (t) => {
  const root = join(dir, 'escape');
  await put(root, 'usr/lib/x86_64-linux-gnu/real.so', 'x');
  await link(root, 'lib/x86_64-linux-gnu/up.so', '../../../../../../../../etc/passwd');
  await link(root, 'lib/x86_64-linux-gnu/abs.so', '/etc/passwd');
  await link(root, 'lib/x86_64-linux-gnu/ok.so', '../../usr/lib/x86_64-linux-gnu/real.so');
  await link(root, 'lib/x86_64-linux-gnu/loop.so', 'loop.so');
  t.equal(await resolveInRoots([root], 'lib/x86_64-linux-gnu/up.so'), undefined, '.. stops at the image root');
  t.equal(await resolveInRoots([root], 'lib/x86_64-linux-gnu/abs.so'), undefined, '/ is the image root');
  t.equal(await resolveInRoots([root], 'lib/x86_64-linux-gnu/loop.so'), undefined, 'symlink loops end');
  t.equal(await resolveInRoots([root], 'lib/x86_64-linux-gnu/ok.so'), join(root, 'usr/lib/x86_64-linux-gnu/real.so'));
  // A merged-/usr style directory link (lib -> usr/lib) in one root applies to another root's files.
  const merged = join(dir, 'merged');
  await mkdir(merged, { recursive: true });
  await symlink('usr/lib', join(merged, 'lib'));
  const other = join(dir, 'other');
  await put(other, 'usr/lib/x86_64-linux-gnu/libq.so.1', 'q');
  t.equal(await resolveInRoots([merged, other], 'lib/x86_64-linux-gnu/libq.so.1'), join(other, 'usr/lib/x86_64-linux-gnu/libq.so.1'));
});

t.test('candidate order: RUNPATH ($ORIGIN expanded) before the Debian multiarch dirs', async (t) => {
  const elf = await inspectElf(await put(dir, 'rp', makeElf({ needed: ['libx.so'], runpath: '$ORIGIN/../lib:/opt/x' })));
  t.same(libraryCandidates('libx.so', elf, { imageDirOf: () => 'usr/lib/jvm/bin' }), [
    'usr/lib/jvm/lib/libx.so', 'opt/x/libx.so',
    'lib/x86_64-linux-gnu/libx.so', 'usr/lib/x86_64-linux-gnu/libx.so', 'lib64/libx.so', 'usr/lib/libx.so', 'lib/libx.so',
  ]);
  t.same(libraryCandidates('libx.so', elf).slice(0, 2), ['opt/x/libx.so', 'lib/x86_64-linux-gnu/libx.so'], '$ORIGIN skipped when unknown');
});

t.test("host closures match ldd (/bin/ls, and qemu's ~50 libraries)", async (t) => {
  for (const bin of ['/bin/ls', '/usr/bin/qemu-system-x86_64']) {
    const ldd = execFileSync('ldd', [bin], { encoding: 'utf8' });
    const expected = [...ldd.matchAll(/^\s*(\S+) =>/gm)].map((m) => m[1]!).sort();
    const closure = await resolveLibraryClosure(bin, debianLibraryLookup(['/']));
    const ours = closure.libraries.map((l) => l.soname).filter((s) => !s.startsWith('ld-linux')).sort();
    t.same(ours, expected, bin);
    t.ok(closure.libraries.every((l) => l.info.machine === 'x86-64'));
  }
  // A lookup that hides libc must fail, naming libc.
  const hiding: LibraryLookup = (s, by) => (s === 'libc.so.6' ? Promise.resolve(undefined) : debianLibraryLookup(['/'])(s, by));
  await t.rejects(resolveLibraryClosure('/bin/ls', hiding), { code: 'E_MISSING_LIBRARY', data: { soname: 'libc.so.6' } });
});
