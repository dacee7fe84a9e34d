// extractDeb against dpkg-deb -x on the same packages, and damaged packages that must fail with
// one line and leave nothing behind.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { debTarMembers, extractDeb, readDebControl, readDebEntries, type SkippedEntry } from '../src/deb/index.js';
import { planXzFileRegion } from '../src/compress/xz-parallel.js';
import { makeDeb, SAMPLE, snapshot, type FixtureEntry } from './deb-fixture.js';

async function failure(p: Promise<unknown>): Promise<Error & { code?: string; data?: Record<string, unknown> }> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: Error & { code?: string }) => e,
  );
}

// Parents the archive does not list get the extraction time as mtime, on both sides: the two tools
// run a moment apart (a second boundary may fall between them), so those mtimes are not compared.
const LISTED = new Set(SAMPLE.map((e) => e.name.replace(/^\.\//, '').replace(/\/$/, '')));
const listedMtimesOnly = (s: ReturnType<typeof snapshot>): ReturnType<typeof snapshot> =>
  Object.fromEntries(Object.entries(s).map(([p, i]) => [p, LISTED.has(p) ? i : { ...i, mtime: 0 }]));

for (const kind of ['xz', 'gz', 'zst', 'none'] as const) {
  t.test(`data.tar${kind === 'none' ? '' : `.${kind}`}: extractDeb equals dpkg-deb -x`, async (t) => {
    const dir = t.testdir({});
    const deb = join(dir, 'fixture.deb');
    writeFileSync(deb, await makeDeb(SAMPLE, kind));
    execFileSync('dpkg-deb', ['-x', deb, join(dir, 'ref')]);
    const r = await extractDeb(deb, join(dir, 'ours'));
    t.same(r.skipped, []);
    t.equal(r.entries, SAMPLE.length - 1, 'every entry but the root');
    const ref = snapshot(join(dir, 'ref'));
    const ours = snapshot(join(dir, 'ours'));
    t.same(listedMtimesOnly(ours), listedMtimesOnly(ref), 'types, modes, owners, mtimes, contents, link targets, hard-link groups');
    // The comparison is not vacuous: the tree holds what the fixture says.
    t.equal(ours['usr/bin/tool']?.mode, '4755', 'setuid kept');
    t.equal(ours['usr/bin/other']?.mode, '2711', 'setgid kept');
    t.equal(ours['var/tmp']?.mode, '1777', 'sticky dir');
    t.equal(ours['usr/lib/abs']?.target, '/etc/passwd', 'absolute symlink target stored, not followed');
    t.same(ours['usr/bin/tool']?.links, ['usr/bin/alias', 'usr/bin/tool', 'usr/lib/tool-again'], 'hard links share an inode');
    t.equal(ours['usr/bin']?.mtime, 1600000000, 'directory mtime applied after its children');
    t.equal(ours['usr/lib/big.bin']?.mode, '640', 'a file bigger than the write batch limit, streamed');
    t.same(ours['usr/lib/big.bin']?.links, ['usr/lib/big-again', 'usr/lib/big.bin'], 'hard link to the streamed file');
    t.ok(ours['usr/lib/after-big']?.sha, 'a small file after it');
    if (process.getuid?.() === 0) t.equal(ours['usr/bin/other']?.uid, 1000, 'owner restored as root');
  });
}

t.test('readDebControl and readDebEntries', async (t) => {
  const dir = t.testdir({});
  const deb = join(dir, 'fixture.deb');
  writeFileSync(deb, await makeDeb(SAMPLE, 'xz'));
  const control = await readDebControl(deb);
  t.equal(control.Package, 'fixture');
  t.equal(control.Version, '1.0-1');
  t.equal(control.Description, 'test package\nmore text\n.\nend');
  t.equal(execFileSync('dpkg-deb', ['-f', deb, 'Version']).toString().trim(), control.Version, 'dpkg-deb agrees');
  const seen: string[] = [];
  for await (const e of readDebEntries(deb)) {
    seen.push(`${e.type}:${e.path}${e.hardlinkTarget ? `=>${e.hardlinkTarget}` : ''}`);
    if (e.path === 'usr/bin/tool') {
      let s = '';
      for await (const c of e.body) s += Buffer.from(c).toString();
      t.equal(s, '#!/bin/sh\necho tool\n');
    }
    // other bodies are left unread on purpose: the reader must skip them
  }
  t.same(seen.slice(0, 4), ['dir:', 'dir:usr', 'dir:usr/bin', 'file:usr/bin/tool']);
  t.ok(seen.includes('hardlink:usr/lib/tool-again=>usr/bin/tool'));
  t.equal(seen.length, SAMPLE.length);
});

t.test('modes and owners do not depend on the umask or a setgid destination', async (t) => {
  // Files are created with their final mode when the umask allows it and chown is skipped when the
  // creator already owns them; these two setups must take the slow path and still match the package.
  const dir = t.testdir({});
  const deb = join(dir, 'fixture.deb');
  writeFileSync(deb, await makeDeb(SAMPLE, 'xz'));
  const old = process.umask(0o027);
  try {
    await extractDeb(deb, join(dir, 'umask'));
  } finally {
    process.umask(old);
  }
  const u = snapshot(join(dir, 'umask'));
  t.equal(u['usr/lib/libx.so.1.2']?.mode, '644', 'umask 027 does not strip o+r from a 0644 file');
  t.equal(u['usr/bin/tool']?.mode, '4755', 'setuid kept under umask 027');
  if (process.getuid?.() !== 0) return;
  mkdirSync(join(dir, 'sgid'));
  chownSync(join(dir, 'sgid'), 0, 4242);
  chmodSync(join(dir, 'sgid'), 0o2775);
  await extractDeb(deb, join(dir, 'sgid'));
  const g = snapshot(join(dir, 'sgid'));
  t.equal(g['usr/lib/libx.so.1.2']?.gid, 0, 'group from the package, not from the setgid directory');
  t.equal(g['usr/bin/other']?.gid, 1000, 'non-root group restored');
  t.equal(g['usr/bin/tool']?.mode, '4755', 'setuid kept after chown');
});

t.test('extracting into an existing tree merges and keeps unrelated files', async (t) => {
  const dir = t.testdir({ dest: { keep: 'mine', usr: { 'local.txt': 'x' } } });
  const deb = join(dir, 'fixture.deb');
  writeFileSync(deb, await makeDeb(SAMPLE, 'gz'));
  await extractDeb(deb, join(dir, 'dest'));
  const snap = snapshot(join(dir, 'dest'));
  t.ok(snap['keep'] && snap['usr/local.txt'] && snap['usr/bin/tool']);
  t.notOk(readdirSync(join(dir, 'dest')).some((n) => n.startsWith('.mkimage-extract-')), 'temp dir removed');
});

t.test('filter, and device nodes are skipped and reported', async (t) => {
  const dir = t.testdir({});
  const deb = join(dir, 'dev.deb');
  const entries: FixtureEntry[] = [...SAMPLE, { name: './dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3 }];
  writeFileSync(deb, await makeDeb(entries, 'gz'));
  const skipped: SkippedEntry[] = [];
  const r = await extractDeb(deb, join(dir, 'out'), { onSkip: (s) => skipped.push(s) });
  t.same(skipped.map((s) => [s.path, s.type]), [['dev/null', 'char']]);
  t.same(r.skipped.length, 1);
  t.notOk(existsSync(join(dir, 'out/dev/null')));

  await extractDeb(deb, join(dir, 'libs'), { filter: (p) => p.startsWith('usr/lib/libx') });
  t.same(Object.keys(snapshot(join(dir, 'libs'))), ['usr', 'usr/lib', 'usr/lib/libx.so.1', 'usr/lib/libx.so.1.2']);

  const err = await failure(extractDeb(deb, join(dir, 'hl'), { filter: (p) => p === 'usr/bin/alias' }));
  t.equal(err.code, 'E_DEB_EXTRACT', 'hard link whose target was filtered out');
  t.match(err.message, /usr\/bin\/alias.*hard link to usr\/bin\/tool/);
  t.notOk(existsSync(join(dir, 'hl')), 'nothing left');
});

t.test('damaged packages: one-line errors, nothing left at the destination', async (t) => {
  const dir = t.testdir({ existing: { 'a.txt': 'keep me' } });
  const good = await makeDeb(SAMPLE, 'xz');
  const cases: Array<[string, Buffer | Promise<Buffer>, string, RegExp]> = [];
  cases.push(['truncated ar', good.subarray(0, good.length - 300), 'E_DEB_FORMAT', /data\.tar\.xz: truncated/]);
  const badHeader = Buffer.from(good);
  badHeader.write('XX', 8 + 58, 'latin1'); // first member's ar_fmag
  cases.push(['bad member header', badHeader, 'E_DEB_FORMAT', /bad member header terminator/]);
  const badMagic = Buffer.from(good);
  badMagic.write('!<arcx>\n', 0, 'latin1');
  cases.push(['not an ar archive', badMagic, 'E_DEB_FORMAT', /not an ar archive/]);
  const badXz = Buffer.from(good);
  const dataAt = good.indexOf('data.tar.xz/') + 60;
  const dataSize = Number.parseInt(good.subarray(dataAt - 12, dataAt - 2).toString('latin1'), 10);
  badXz[dataAt + Math.floor(dataSize / 2)]! ^= 0x40; // inside data.tar.xz's blocks
  cases.push(['corrupt xz block', badXz, 'E_DECOMPRESS', /data\.tar\.xz: corrupt xz data/]);
  cases.push(['path traversal', makeDeb([{ name: './', type: 'directory' }, { name: './ok', content: 'x' }, { name: '../evil', content: 'x' }], 'gz'), 'E_DEB_UNSAFE_PATH', /\.\.\/evil: path contains "\.\."/]);
  cases.push(['absolute path', makeDeb([{ name: '/etc/evil', content: 'x' }], 'gz'), 'E_DEB_UNSAFE_PATH', /absolute path/]);
  // In an xz package the error stops the block workers mid-stream (this test would hang if it did not).
  const many = Array.from({ length: 40 }, (_, i) => ({ name: `./f${i}`, content: randomBytes(4000).toString('hex') }));
  cases.push(['unsafe path after many xz blocks', makeDeb([{ name: './', type: 'directory' }, ...many, { name: '../evil', content: 'x' }, ...many.map((e) => ({ ...e, name: `${e.name}b` }))], 'xz'), 'E_DEB_UNSAFE_PATH', /\.\.\/evil: path contains "\.\."/]);
  cases.push(['write through a symlink', makeDeb([{ name: './link', type: 'symlink', linkname: '/tmp' }, { name: './link/pwned', content: 'x' }], 'gz'), 'E_DEB_UNSAFE_PATH', /parent link is a symlink/]);

  for (const [label, bytes, code, re] of cases) {
    const deb = join(dir, `${label.replace(/ /g, '-')}.deb`);
    writeFileSync(deb, await bytes);
    for (const dest of ['fresh', 'existing']) {
      const before = existsSync(join(dir, dest)) ? JSON.stringify(snapshot(join(dir, dest))) : undefined;
      const err = await failure(extractDeb(deb, join(dir, dest)));
      t.equal(err.code, code, `${label} (${dest}): ${err.message}`);
      t.match(err.message, re, `${label}: says what is wrong`);
      t.ok(err.message.includes(deb), `${label}: names the .deb`);
      t.notOk(err.message.includes('\n'), `${label}: one line`);
      const after = existsSync(join(dir, dest)) ? JSON.stringify(snapshot(join(dir, dest))) : undefined;
      t.equal(after, before, `${label} (${dest}): destination unchanged`);
    }
  }
  t.notOk(existsSync(join(dir, 'evil')) || existsSync('/tmp/pwned'), 'nothing written outside');
  // The pairing: dpkg-deb rejects the same container damage.
  for (const label of ['truncated ar', 'bad member header', 'corrupt xz block']) {
    const deb = join(dir, `${label.replace(/ /g, '-')}.deb`);
    mkdirSync(join(dir, 'dpkg-out'), { recursive: true });
    t.throws(() => execFileSync('dpkg-deb', ['-x', deb, join(dir, 'dpkg-out')], { stdio: 'pipe' }), `dpkg-deb rejects: ${label}`);
  }
});

t.test('a data.tar.xz block Check: verified unless the caller vouches for the .deb (verified: true)', async (t) => {
  const dir = t.testdir({});
  const deb = join(dir, 'fixture.deb');
  const bytes = Buffer.from(await makeDeb(SAMPLE, 'xz'));
  writeFileSync(deb, bytes);
  let data: { offset: number; size: number } | undefined;
  for await (const m of debTarMembers(deb)) if (m.kind === 'data') data = { offset: m.member.offset, size: m.member.header.size };
  const plan = await planXzFileRegion(deb, data!.offset, data!.size);
  t.ok(plan && plan.blocks.length > 1 && plan.checkSize > 0, 'fixture: a multi-block data.tar.xz with a Check (the parallel path)');
  const b = plan!.blocks[0]!;
  bytes[data!.offset + b.offset + b.unpaddedSize - 1]! ^= 0xff; // last byte of block 1's Check field
  writeFileSync(deb, bytes);
  const err = await failure(extractDeb(deb, join(dir, 'strict')));
  t.match(err.message, /integrity check mismatch/, `refused by default: ${err.message}`);
  t.notOk(existsSync(join(dir, 'strict')), 'nothing at the destination');
  const r = await extractDeb(deb, join(dir, 'trusting'), { verified: true });
  t.equal(r.entries, SAMPLE.length - 1, 'verified: true skips the Check (the data itself is intact)');
});
