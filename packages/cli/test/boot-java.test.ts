// The Java runtime's other sources, end to end: a local JDK (`--jdk PATH`) instead of Debian's
// packages, and trixie's OpenJDK 21 (merged /usr, .ko.xz modules). Each image boots in QEMU and the
// sample app reports the Java release it runs on and how many CAs its JVM trusts.
import t, { type Test } from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openArchive } from '@mkimage/kernel-fetch';
import { build } from '../src/build/build.js';
import { bootAndWait, qemuArgs } from '../src/qemu/index.js';
import { CA_CERTIFICATES_PACKAGE, readCaCertificates } from '../src/runtime/cacerts.js';
import { openDebianJdk } from '../src/runtime/jdk.js';
import { makeZip } from './app-fixtures.js';
import { get, helloJar, liveSkipReason, tempDir } from './helpers/live.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'mkimage.js');
const BOOT_TIMEOUT_MS = 120_000;

t.test('--jdk at a directory without bin/jlink: one line, nothing at the output, nothing fetched', async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-jdk-bad-');
  t.teardown(cleanup);
  const jar = join(dir, 'app.jar');
  writeFileSync(jar, makeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\nMain-Class: a.B\r\n' }]));
  const jre = join(dir, 'a-jre');
  mkdirSync(join(jre, 'bin'), { recursive: true });
  writeFileSync(join(jre, 'bin', 'java'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(jre, 'release'), 'JAVA_VERSION="17.0.1"\n');

  const out = join(dir, 'out');
  // No mirror is reachable: the check must come before the archive is opened.
  const r = spawnSync(process.execPath, [main, jar, '-o', out, '--format', 'initramfs', '--jdk', jre], {
    encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), MKIMAGE_DEBIAN_MIRROR: 'file:///nonexistent' },
  });
  t.equal(r.status, 1, 'exit status 1');
  const lines = r.stderr.trimEnd().split('\n');
  t.equal(lines.length, 1, `one line: ${r.stderr}`);
  t.match(lines[0], /^mkimage: --jdk .*a-jre: no executable bin\/jlink there; point it at a JDK home/);
  t.notOk(existsSync(out), 'nothing at the output path');

  await t.rejects(build({ app: jar, output: out, jdk: join(dir, 'missing'), lockFile: join(dir, 'l'), mirror: 'file:///nonexistent' }), { code: 'E_NO_JDK', message: /missing: no executable bin\/jlink/ });
  // Tools present but no release file: not a JDK home either.
  writeFileSync(join(jre, 'bin', 'jlink'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(jre, 'bin', 'jdeps'), '#!/bin/sh\n', { mode: 0o755 });
  rmSync(join(jre, 'release'));
  await t.rejects(build({ app: jar, output: out, jdk: jre, lockFile: join(dir, 'l'), mirror: 'file:///nonexistent' }), { code: 'E_NO_JDK', message: /no release file/ });
  writeFileSync(join(jre, 'release'), 'IMPLEMENTOR="nobody"\n');
  await t.rejects(build({ app: jar, output: out, jdk: jre, lockFile: join(dir, 'l'), mirror: 'file:///nonexistent' }), { code: 'E_NO_JDK', message: /JAVA_VERSION/ });
  t.notOk(existsSync(out), 'nothing at the output path');
});

const skip = (await liveSkipReason()) ?? false;
if (skip) t.comment(`skipping Java boot tests: ${skip}`);

/** Boots an initramfs output directory and waits for the sample app's hello. */
async function bootHello(t: Test, out: string): Promise<number> {
  const booted = await bootAndWait({
    args: ({ hostPort }) => qemuArgs({
      machine: 'pc', memoryMiB: 512, cpus: 2,
      kernel: { kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.img'), append: readFileSync(join(out, 'cmdline'), 'utf8').trim() },
      net: { hostfwd: [{ hostPort: hostPort!, guestPort: 8080 }] },
    }),
    ready: { httpPort: 8080, path: '/', body: 'hello' },
    timeoutMs: BOOT_TIMEOUT_MS, retries: 2,
  });
  t.teardown(() => booted.stop());
  t.comment(`first HTTP 200 after ${booted.timings.firstHttp200Ms} ms (TCG, attempts: ${booted.attempts})`);
  t.equal(booted.readyValue, 'hello', 'GET / answers hello');
  return booted.hostPort!;
}

/** The number of roots in a suite's ca-certificates (what the JVM must trust). */
async function debianRoots(suite: string, lockFile: string): Promise<number> {
  const archive = await openArchive({ suite, lockFile });
  const [pkg] = await archive.resolve([CA_CERTIFICATES_PACKAGE]);
  return (await readCaCertificates(await archive.unpack(pkg!))).length;
}

t.test('--jdk PATH: a JDK on the build host links the runtime; the image boots', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-jdk-local-');
  t.teardown(cleanup);
  // The "local JDK": Debian's OpenJDK 17 as unpacked in mkimage's cache, run directly by the host
  // (not through the sysroot's loader), as any JDK installed on the host would be.
  const debian = await openDebianJdk({ suite: 'bookworm' });
  const home = join(debian.sysroot.dir, debian.home);
  try {
    await promisify(execFile)(join(home, 'bin', 'jlink'), ['--version']);
  } catch (err) {
    t.skip(`Debian's JDK 17 does not run directly on this host (${(err as Error).message.split('\n')[0]})`);
    return;
  }
  const out = join(dir, 'hello');
  const lockFile = join(dir, 'mkimage.lock');
  const result = await build({ app: await helloJar(), output: out, format: 'initramfs', jdk: home, lockFile });
  const names = result.packages.map((p) => p.name);
  t.notOk(names.some((n) => n.startsWith('openjdk-')), `no OpenJDK package was fetched (${names.join(' ')})`);
  t.ok(result.contents.some((c) => c.group === 'Java runtime' && c.bytes > 10_000_000), 'the image holds a jlinked runtime');
  const port = await bootHello(t, out);
  t.match((await get(port, '/info')).body, /^java\.version=17\./m, 'the app runs on the local JDK\'s release');
  t.equal((await get(port, '/trust')).body, `issuers=${await debianRoots('bookworm', lockFile)}`, 'its cacerts is Debian\'s, as with Debian\'s JDK');
});

t.test('--suite trixie: OpenJDK 21, a 6.12 kernel with .ko.xz modules, merged /usr', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-trixie-');
  t.teardown(cleanup);
  const lockFile = join(dir, 'mkimage.lock');
  try {
    await (await openArchive({ suite: 'trixie', lockFile })).resolve(['libc6']);
  } catch (err) {
    if ((err as { code?: string }).code !== 'E_NOT_FOUND') throw err;
    t.skip(`the mirror has no trixie: ${(err as Error).message}`);
    return;
  }
  const out = join(dir, 'hello');
  const started = Date.now();
  const result = await build({ app: await helloJar(), output: out, format: 'initramfs', suite: 'trixie', lockFile });
  t.comment(`trixie build: ${Date.now() - started} ms (${result.timings.map((x) => `${x.step} ${x.ms} ms`).join(', ')})`);
  t.match(result.kernelRelease, /^6\.12\./, 'trixie\'s kernel');
  t.ok(result.packages.some((p) => p.name === 'openjdk-21-jre-headless'), 'Debian\'s OpenJDK 21');
  const port = await bootHello(t, out);
  const info = (await get(port, '/info')).body;
  t.match(info, /^java\.version=21\./m, 'the app runs on Java 21');
  t.match(info, /^pid=1$/m, 'as PID 1');
  t.equal((await get(port, '/trust')).body, `issuers=${await debianRoots('trixie', lockFile)}`, 'the JVM trusts trixie\'s ca-certificates');
});
