import t from 'tap';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectApp } from '../src/app/detect.js';
import { classBytes, makeElf, makeZip } from './app-fixtures.js';

const dir = await mkdtemp(join(tmpdir(), 'mkimage-detect-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const put = async (name: string, bytes: Uint8Array | string) => {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
};

t.test('a runnable JAR and an ELF executable are recognised', async (t) => {
  const jar = await detectApp(await put('app.jar', makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Main-Class: a.B\n' }, { name: 'a/B.class', data: classBytes(61) }])));
  t.equal(jar.kind, 'jar');
  t.equal(jar.kind === 'jar' && jar.mainClass, 'a.B');
  const elf = await detectApp('/bin/ls');
  t.equal(elf.kind, 'elf');
  t.equal(elf.kind === 'elf' && elf.interpreter, '/lib64/ld-linux-x86-64.so.2');
  const prefixed = await detectApp(await put('launcher.jar', makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Main-Class: a.B\n' }], { prefix: '#!/bin/sh\n' })));
  t.equal(prefixed.kind, 'jar', 'a JAR behind a launcher script');
});

t.test('everything else: one-line errors with stable codes', async (t) => {
  const cases: [string, string | Promise<string>, string, RegExp][] = [
    ['missing', join(dir, 'nope.jar'), 'E_APP_NOT_FOUND', /nope\.jar: no such file; give the path of a runnable JAR or an x86-64 ELF executable/],
    ['directory', (async () => { await mkdir(join(dir, 'd')); return join(dir, 'd'); })(), 'E_APP_NOT_FOUND', /is a directory/],
    ['text', put('notes.txt', 'hello\n'), 'E_UNSUPPORTED_APP', /notes\.txt is neither a runnable JAR nor an x86-64 ELF executable$/],
    ['shell script', put('run.sh', '#!/bin/sh\necho hi\n'), 'E_UNSUPPORTED_APP', /run\.sh is neither a runnable JAR nor an x86-64 ELF executable/],
    ['no Main-Class', put('lib.jar', makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' }])), 'E_NO_MAIN_CLASS',
      /^lib\.jar has no Main-Class in META-INF\/MANIFEST\.MF; build it as a runnable JAR \(e\.g\. jar --main-class \.\.\.\)$/],
    ['no manifest', put('bare.jar', makeZip([{ name: 'a/B.class', data: classBytes(61) }])), 'E_NO_MAIN_CLASS', /bare\.jar has no Main-Class/],
    ['unterminated Main-Class', put('nonl.jar', makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\nMain-Class: a.B' }])),
      'E_NO_MAIN_CLASS', /has no line ending, so java ignores it/],
    ['aarch64', put('arm', makeElf({ machine: 183, type: 2, interpreter: '/lib/ld-linux-aarch64.so.1' })), 'E_ELF_ARCH',
      /arm is an ELF for aarch64, mkimage builds x86-64 images$/],
    ['shared library', put('libx.so', makeElf({ soname: 'libx.so' })), 'E_UNSUPPORTED_APP', /it is an ELF shared library/],
    ['corrupt zip', put('broken.jar', makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Main-Class: a.B\n' }]).subarray(0, 40)), 'E_ZIP_FORMAT',
      /broken\.jar: not a valid JAR\/ZIP/],
  ];
  for (const [name, path, code, re] of cases) {
    const err = await detectApp(await path).catch((e: unknown) => e) as { code?: string; message: string };
    t.equal(err.code, code, name);
    t.match(err.message, re, name);
    t.notOk(err.message.includes('\n'), `${name}: one line`);
  }
});
