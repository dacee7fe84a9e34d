import t from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectElf, isExecutable } from '../src/app/elf.js';
import { ElfArchError, ElfFormatError } from '../src/app/errors.js';
import { makeElf } from './app-fixtures.js';

const dir = await mkdtemp(join(tmpdir(), 'mkimage-elf-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** What binutils' readelf says, as the independent reference. */
function readelf(path: string) {
  const d = execFileSync('readelf', ['-dW', path], { encoding: 'utf8' });
  const l = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' });
  const grab = (re: RegExp) => [...d.matchAll(re)].map((m) => m[1]!);
  return {
    needed: grab(/\(NEEDED\)\s+Shared library: \[(.*)\]/g),
    soname: grab(/\(SONAME\)\s+Library soname: \[(.*)\]/g)[0],
    runpath: grab(/\(RUNPATH\)\s+Library runpath: \[(.*)\]/g)[0],
    rpath: grab(/\(RPATH\)\s+Library rpath: \[(.*)\]/g)[0],
    interpreter: /Requesting program interpreter: (.*)\]/.exec(l)?.[1],
  };
}

async function fixture(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

t.test('host /bin/ls: dynamic PIE, same interpreter and DT_NEEDED as readelf', async (t) => {
  const info = await inspectElf('/bin/ls');
  const ref = readelf('/bin/ls');
  t.equal(info.machine, 'x86-64');
  t.equal(info.static, false);
  t.equal(info.type, 'dyn');
  t.equal(info.pie, true);
  t.equal(info.interpreter, ref.interpreter);
  t.equal(info.interpreter, '/lib64/ld-linux-x86-64.so.2');
  t.same(info.needed, ref.needed);
  t.ok(info.needed.includes('libc.so.6'));
  t.ok(isExecutable(info));
});

t.test('host libc.so.6: a shared library with DT_SONAME', async (t) => {
  const libc = execFileSync('sh', ['-c', 'readlink -f /lib/x86_64-linux-gnu/libc.so.6'], { encoding: 'utf8' }).trim();
  const info = await inspectElf(libc);
  const ref = readelf(libc);
  t.equal(info.soname, 'libc.so.6');
  t.equal(info.soname, ref.soname);
  t.same(info.needed, ref.needed);
});

t.test('host /sbin/ldconfig: static PIE (no PT_INTERP, no DT_NEEDED)', async (t) => {
  const info = await inspectElf('/sbin/ldconfig');
  t.equal(info.static, true);
  t.equal(info.interpreter, undefined);
  t.same(info.needed, []);
  t.equal(readelf('/sbin/ldconfig').interpreter, undefined);
  t.ok(isExecutable(info), 'a static PIE is an executable');
});

t.test('crafted ELF: every dynamic string read back as readelf reads it', async (t) => {
  const p = await fixture('dyn', makeElf({
    interpreter: '/lib64/ld-linux-x86-64.so.2', needed: ['libz.so.1', 'libc.so.6'], soname: 'libapp.so.3',
    runpath: '$ORIGIN/../lib:/opt/app/lib', rpath: '/ignored', flags1: 0x08000000,
  }));
  const ref = readelf(p);
  t.same(ref.needed, ['libz.so.1', 'libc.so.6'], 'readelf agrees the fixture is well formed');
  const info = await inspectElf(p);
  t.same(info.needed, ref.needed);
  t.equal(info.soname, ref.soname);
  t.equal(info.interpreter, ref.interpreter);
  t.same(info.runpath, ref.runpath!.split(':'));
  t.equal(info.runpathTag, 'DT_RUNPATH', 'RUNPATH wins over RPATH, as in ld.so');
  t.equal(info.pie, true);
  t.equal(info.static, false);
});

t.test('crafted ELF: DT_RPATH alone is used; ET_EXEC without PT_INTERP or needs is static', async (t) => {
  const r = await inspectElf(await fixture('rpath', makeElf({ needed: ['libm.so.6'], rpath: '/a:/b' })));
  t.same(r.runpath, ['/a', '/b']);
  t.equal(r.runpathTag, 'DT_RPATH');
  t.equal(isExecutable(r), false, 'ET_DYN without PT_INTERP or DF_1_PIE is a plain library');
  const s = await inspectElf(await fixture('static', makeElf({ type: 2, noDynamic: true })));
  t.equal(s.static, true);
  t.equal(s.type, 'exec');
  t.ok(isExecutable(s));
});

t.test('other architectures are named in a one-line error', async (t) => {
  const cases: [string, Parameters<typeof makeElf>[0], string][] = [
    ['aarch64', { machine: 183 }, 'is an ELF for aarch64, mkimage builds x86-64 images'],
    ['i386', { machine: 3, elfClass: 1 }, 'is an ELF for i386, mkimage builds x86-64 images'],
    ['riscv', { machine: 243 }, 'is an ELF for riscv, mkimage builds x86-64 images'],
    ['x32', { elfClass: 1 }, 'x32'],
    ['unknown', { machine: 4242 }, 'is an ELF for machine 4242'],
  ];
  for (const [name, spec, text] of cases) {
    const p = await fixture(`arch-${name}`, makeElf(spec));
    await t.rejects(inspectElf(p), ElfArchError, name);
    const err = await inspectElf(p).catch((e: ElfArchError) => e);
    t.match(err.message, text, name);
    t.equal(err.code, 'E_ELF_ARCH');
    t.notOk(err.message.includes('\n'), 'one line');
  }
});

t.test('truncated and corrupt ELFs are rejected with E_ELF_FORMAT', async (t) => {
  const ls = await readFile('/bin/ls');
  const cases: [string, Uint8Array, RegExp][] = [
    ['header only', ls.subarray(0, 40), /shorter than the 64-byte ELF64 header/],
    ['cut in the program headers', ls.subarray(0, 200), /program headers end at byte \d+, file has 200/],
    ['cut before the dynamic strings', makeElf({ needed: ['libc.so.6'] }).subarray(0, 250), /truncated|past|unterminated/],
    ['relocatable object', makeElf({ type: 1 }), /relocatable object/],
    ['core dump', makeElf({ type: 4 }), /core dump/],
    ['no magic', Buffer.from('#!/bin/sh\necho hi\n'), /no ELF magic/],
    ['bad EI_CLASS', makeElf({ elfClass: 7 }), /EI_CLASS 7/],
  ];
  for (const [name, bytes, re] of cases) {
    const p = await fixture(`bad-${name.replace(/ /g, '-')}`, bytes);
    const err = await inspectElf(p).catch((e: unknown) => e);
    t.type(err, ElfFormatError, name);
    t.match((err as Error).message, re, name);
    t.match((err as Error).message, p, 'names the file');
  }
  // The untruncated versions of the same inputs pass, so the checks above are about the damage.
  await t.resolves(inspectElf(await fixture('whole-ls', ls)));
  await t.resolves(inspectElf(await fixture('whole-dyn', makeElf({ needed: ['libc.so.6'] }))));
});

t.test('a big-endian x86-64 header is refused, and a copied real binary reads the same', async (t) => {
  const be = makeElf({ elfData: 2 });
  be.writeUInt16BE(62, 18);
  await t.rejects(inspectElf(await fixture('be', be)), ElfArchError);
  const copy = join(dir, 'ls-copy');
  await copyFile('/bin/ls', copy);
  t.same((await inspectElf(copy)).needed, (await inspectElf('/bin/ls')).needed);
});
