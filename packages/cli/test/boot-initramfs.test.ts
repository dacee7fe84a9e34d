// End to end: real Debian parts, a real build, a real boot in QEMU (TCG), and the app answering
// over a forwarded port. The sample JAR checks what the machine looks like from inside.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openArchive } from '@mkimage/kernel-fetch';
import { build } from '../src/build/build.js';
import { bootAndWait, qemuArgs } from '../src/qemu/index.js';
import { get, helloJar, liveSkipReason, tempDir } from './helpers/live.js';
import { makeElf } from './app-fixtures.js';
import { CA_CERTIFICATES_PACKAGE, readCaCertificates } from '../src/runtime/cacerts.js';
import { writeFile } from 'node:fs/promises';

const skip = await liveSkipReason();
if (skip) t.comment(`skipping boot tests: ${skip}`);

const BOOT_TIMEOUT_MS = 120_000;

/** The QEMU command line the README gives for an initramfs output directory. */
function directBoot(out: string, hostPort: number, memoryMiB = 512): string[] {
  return qemuArgs({
    machine: 'pc', memoryMiB, cpus: 2,
    kernel: { kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.img'), append: readFileSync(join(out, 'cmdline'), 'utf8').trim() },
    net: { hostfwd: [{ hostPort, guestPort: 8080 }] },
  });
}

t.test('the hello JAR boots as PID 1, unprivileged, without a shell, and its exit stops the machine', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-boot-');
  t.teardown(cleanup);
  const jar = await helloJar();
  const out = join(dir, 'hello');
  const events: string[] = [];
  const result = await build({
    app: jar, output: out, format: 'initramfs',
    env: { GREETING: 'hi there', QUOTED: `it's "quoted" $HOME` },
    appArgs: ['a b', "it's", ''],
    javaOpts: ['-Xmx128m', '-Dmkimage.test=yes please'],
    lockFile: join(dir, 'mkimage.lock'),
    onProgress: (e) => { if (e.type === 'step' && e.status === 'end') events.push(e.step); },
  });
  t.same(result.parts.map((p) => p.name), ['vmlinuz', 'initrd.img', 'cmdline']);
  t.ok(events.includes('runtime') && events.includes('write'), 'progress events for each step');
  t.comment(`initramfs: ${JSON.stringify(result.contents)}; our overhead ${result.overheadBytes} bytes compressed`);
  t.ok(result.overheadBytes !== undefined && result.overheadBytes > 100_000 && result.overheadBytes < 1.5 * 1024 * 1024, `mkimage's own overhead is under 1.5 MB (${result.overheadBytes} bytes)`);

  const booted = await bootAndWait({
    args: ({ hostPort }) => directBoot(out, hostPort!),
    ready: { httpPort: 8080, path: '/', body: 'hello' },
    timeoutMs: BOOT_TIMEOUT_MS, retries: 2,
  });
  t.teardown(() => booted.stop());
  t.comment(`first HTTP 200 after ${booted.timings.firstHttp200Ms} ms (TCG, attempts: ${booted.attempts})`);
  const port = booted.hostPort!;
  const info = (await get(port, '/info')).body;
  t.match(info, /^pid=1$/m, 'the app is PID 1');
  t.match(info, /^Uid: 1000 1000 1000 1000$/m, 'runs as the unprivileged app user');
  t.match(info, /^CapEff: 0000000000000400$/m, 'keeps only CAP_NET_BIND_SERVICE');
  t.match(info, /^user\.home=\/home\/app$/m);
  t.match(info, /^hostname=hello-/m, 'a real hostname that resolves');
  t.equal(/^args=(.*)$/m.exec(info)?.[1], ['a b', "it's", ''].join('\0'), 'app arguments arrive verbatim');
  t.equal((await get(port, '/env/GREETING')).body, 'hi there');
  t.equal((await get(port, '/env/QUOTED')).body, `it's "quoted" $HOME`);
  // The JVM trusts exactly the roots of Debian's ca-certificates (the cacerts mkimage wrote).
  const archive = await openArchive({ suite: 'bookworm', lockFile: join(dir, 'mkimage.lock') });
  const [caPkg] = await archive.resolve([CA_CERTIFICATES_PACKAGE]);
  const roots = (await readCaCertificates(await archive.unpack(caPkg!))).length;
  t.equal((await get(port, '/trust')).body, `issuers=${roots}`, `the default TrustManager accepts the ${roots} Debian roots`);
  t.equal((await get(port, '/exists?path=/etc/ssl/certs/ca-certificates.crt')).body, 'true', 'the PEM bundle is in place');
  for (const path of ['/bin/sh', '/init', '/.mkimage/busybox', '/.mkimage/launch', '/usr/bin/busybox']) {
    t.equal((await get(port, `/exists?path=${path}`)).body, 'false', `${path} is gone`);
  }
  t.equal((await get(port, '/exit/3')).body, 'bye');
  const exit = await booted.process.exited;
  t.match(booted.console(), /exitcode=0x00000300/, 'the app\'s exit status is on the console');
  t.equal(exit.exitCode, 0, 'QEMU itself exits (panic=-1 with -no-reboot)');
});

t.test('a dynamically linked ELF from a Debian package (webfsd) boots and answers', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-boot-elf-');
  t.teardown(cleanup);
  const archive = await openArchive({ suite: 'bookworm' });
  const [webfs] = await archive.resolve(['webfs']);
  const app = join(await archive.unpack(webfs!), 'usr/bin/webfsd');
  const out = join(dir, 'webfs');
  const result = await build({ app, output: out, appArgs: ['-F', '-p', '8080', '-r', '/app'], lockFile: join(dir, 'mkimage.lock') });
  t.ok(result.contents.some((c) => c.group === 'shared libraries' && c.files > 5), 'libgnutls and its closure came from Contents');
  const booted = await bootAndWait({
    args: ({ hostPort }) => directBoot(out, hostPort!, 256),
    ready: { httpPort: 8080, path: '/', body: /webfsd/ },
    timeoutMs: BOOT_TIMEOUT_MS, retries: 2,
  });
  t.teardown(() => booted.stop());
  t.comment(`webfsd: first HTTP 200 after ${booted.timings.firstHttp200Ms} ms`);
  t.match(booted.readyValue, /href="webfsd"/, 'serves its directory listing');
});

t.test('bad inputs that need the archive: unknown module, a library no package ships', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-bad-live-');
  t.teardown(cleanup);
  const jar = await helloJar();
  const out1 = join(dir, 'out1');
  await t.rejects(build({ app: jar, output: out1, modules: ['no_such_driver'], lockFile: join(dir, 'l1') }), { code: 'E_UNKNOWN_MODULE', message: /no_such_driver/ });
  t.notOk(existsSync(out1), 'nothing at the output');
  const elf = join(dir, 'needs-missing');
  await writeFile(elf, makeElf({ type: 2, interpreter: '/lib64/ld-linux-x86-64.so.2', needed: ['libmkimage-does-not-exist.so.7', 'libc.so.6'] }), { mode: 0o755 });
  const out2 = join(dir, 'out2');
  await t.rejects(build({ app: elf, output: out2, lockFile: join(dir, 'l2') }), { code: 'E_MISSING_LIBRARY', message: /libmkimage-does-not-exist\.so\.7/ });
  t.notOk(existsSync(out2), 'nothing at the output');
});


t.test('a static address from ip= on the kernel command line (autoconf off) replaces DHCP', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-boot-static-');
  t.teardown(cleanup);
  const out = join(dir, 'hello');
  await build({ app: await helloJar(), output: out, lockFile: join(dir, 'mkimage.lock') });
  const booted = await bootAndWait({
    args: ({ hostPort }) => qemuArgs({
      machine: 'pc', memoryMiB: 512, cpus: 2,
      kernel: {
        kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.img'),
        // QEMU's user network forwards to 10.0.2.15; the static address must be that one.
        append: `${readFileSync(join(out, 'cmdline'), 'utf8').trim()} ip=10.0.2.15::10.0.2.2:255.255.255.0:static-box::off:10.0.2.3`,
      },
      net: { hostfwd: [{ hostPort: hostPort!, guestPort: 8080 }] },
    }),
    ready: { httpPort: 8080, path: '/', body: 'hello' },
    timeoutMs: BOOT_TIMEOUT_MS, retries: 2,
  });
  t.teardown(() => booted.stop());
  t.match(booted.console(), /static address 10\.0\.2\.15 on eth0/, 'configured from ip=, no DHCP');
  t.match((await get(booted.hostPort!, '/info')).body, /^hostname=static-box$/m, 'the hostname from ip= is used');
});
