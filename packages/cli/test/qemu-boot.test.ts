// Real boots under QEMU (TCG here): Debian's cloud kernel with a busybox initramfs (see qemu-guest.ts).
import t from 'tap';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuArgs, type QemuOptions } from '../src/qemu/args.js';
import { bootAndWait, runToExit } from '../src/qemu/boot.js';
import { BootTimeoutError, QemuExitedError } from '../src/qemu/errors.js';
import { findOvmf, findQemu } from '../src/qemu/find.js';
import { copyOvmfVars } from '../src/qemu/ovmf-vars.js';
import { liveQemuCount } from '../src/qemu/process.js';
import { cmdline, testGuest } from './qemu-guest.js';

const qemu = await findQemu();
t.comment(`QEMU ${qemu.binary}, accel ${qemu.accel} (${qemu.accelReason})`);
const guest = await testGuest();
const dir = await mkdtemp(join(tmpdir(), 'mkimage-qemu-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
t.afterEach(() => t.equal(liveQemuCount(), 0, 'no QEMU left running'));

const base = (mode: string, more: Partial<QemuOptions> = {}): QemuOptions => ({
  accel: qemu.accel, kernel: { kernel: guest.kernel, initrd: guest.initrd, append: cmdline(mode) }, net: false, ...more,
});

t.test('runToExit: the init exits, the kernel panics, QEMU exits and the console shows the status', async (t) => {
  const r = await runToExit({ qemu, args: qemuArgs(base('exit')), timeoutMs: 60000, consoleFile: join(dir, 'exit.log') });
  t.equal(r.exitCode, 0, 'panic=-1 + -no-reboot: QEMU exits cleanly');
  t.match(r.console, /MKIMAGE-TEST-EXITING/);
  t.match(r.console, /Attempted to kill init! exitcode=0x00000300/);
  t.same(r.initExit, { code: 3 }, "the app's exit status, from the panic line");
  t.equal(await readFile(join(dir, 'exit.log'), 'utf8'), r.console, 'the console file holds the same text');
  t.comment(`exit after ${Math.round(r.timings.exitMs)} ms, first console byte at ${Math.round(r.timings.firstConsoleMs ?? -1)} ms`);
});

t.test('runToExit on the pc machine (i440fx + SeaBIOS): poweroff -f stops QEMU', async (t) => {
  const r = await runToExit({ qemu, args: qemuArgs(base('poweroff', { machine: 'pc' })), timeoutMs: 60000 });
  t.equal(r.exitCode, 0);
  t.match(r.console, /MKIMAGE-TEST-POWEROFF/);
  t.equal(r.initExit, undefined, 'a clean poweroff is not an init exit');
  t.notMatch(r.console, /insmod \S+ failed/);
});

t.test('bootAndWait over HTTP: a free port is forwarded and polled until the right body', async (t) => {
  const boot = await bootAndWait({
    qemu, timeoutMs: 60000, retries: 1,
    args: ({ hostPort }) => qemuArgs(base('http', { net: { hostfwd: [{ hostPort: hostPort!, guestPort: 8080 }] } })),
    ready: { httpPort: 8080, path: '/', body: 'hello\n' },
  });
  try {
    t.equal(boot.readyValue, 'hello\n');
    t.equal(boot.attempts, 1);
    t.ok(boot.hostPort! > 0);
    t.match(boot.console(), /MKIMAGE-TEST-HTTPD-UP/);
    t.ok(boot.timings.firstHttp200Ms! > 0);
    t.comment(`first HTTP 200 after ${Math.round(boot.timings.firstHttp200Ms!)} ms (TCG)`);
  } finally {
    await boot.stop();
  }
  t.ok(boot.process.hasExited());
});

t.test('a wrong body never counts as ready; a hung boot is retried; then BootTimeoutError', async (t) => {
  const wrong = bootAndWait({
    qemu, timeoutMs: 12000, retries: 0,
    args: ({ hostPort }) => qemuArgs(base('http', { net: { hostfwd: [{ hostPort: hostPort!, guestPort: 8080 }] } })),
    ready: { httpPort: 8080, body: 'goodbye\n' },
  });
  await t.rejects(wrong, BootTimeoutError);

  // Attempt 0 is started with its CPUs stopped (-S), like a firmware hang; attempt 1 boots.
  const retried: number[] = [];
  const boot = await bootAndWait({
    qemu, timeoutMs: 25000, retries: 2, consoleFile: join(dir, 'retry.log'),
    args: ({ attempt }) => [...qemuArgs(base('marker')), ...(attempt === 0 ? ['-S'] : [])],
    ready: { serialMarker: /MKIMAGE-TEST-MARKER/ },
    onRetry: (a) => retried.push(a),
  }).catch((e: unknown) => e);
  t.notOk(boot instanceof Error, boot instanceof Error ? boot.message : 'booted on a retry');
  if (!(boot instanceof Error)) {
    const b = boot as Awaited<ReturnType<typeof bootAndWait>>;
    t.equal(b.attempts, 2);
    t.same(retried, [1]);
    t.ok(b.timings.lostToRetriesMs >= 25000);
    await b.stop(); // the console file is complete once QEMU has stopped
    t.match(await readFile(join(dir, 'retry.log.1'), 'utf8'), /MKIMAGE-TEST-MARKER/);
  }

  const err = await bootAndWait({
    qemu, timeoutMs: 1500, retries: 1, args: [...qemuArgs(base('marker')), '-S'], ready: { serialMarker: /never/ },
  }).catch((e: unknown) => e);
  t.type(err, BootTimeoutError);
  t.match((err as Error).message, /guest not ready \(console marker \/never\/\) within 1500 ms in 2 attempt\(s\)/);
  t.equal((err as BootTimeoutError).code, 'E_BOOT_TIMEOUT');
});

t.test('QEMU failing at start is reported at once with its own message', async (t) => {
  const err = await bootAndWait({
    qemu, timeoutMs: 30000, retries: 3,
    args: qemuArgs(base('marker', { kernel: { kernel: join(dir, 'no-such-vmlinuz') } })), ready: { serialMarker: /x/ },
  }).catch((e: unknown) => e);
  t.type(err, QemuExitedError);
  t.match((err as Error).message, /QEMU exited \(status 1\) before the guest was ready: .*no-such-vmlinuz/);
  t.equal((err as QemuExitedError).data.attempts, 1, 'no retry for a deterministic failure');
});

t.test('disks (virtio snapshot + NVMe), fw_cfg and SMBIOS reach the guest; the images stay unchanged', async (t) => {
  const vda = join(dir, 'vda.raw');
  const nvme = join(dir, 'nvme,with,commas.raw');
  await writeFile(vda, Buffer.concat([Buffer.from('VIRTIO-DISK-OK!!'), Buffer.alloc(1 << 20)]));
  await writeFile(nvme, Buffer.concat([Buffer.from('NVME-DISK-OK!!!!'), Buffer.alloc(1 << 20)]));
  const env = join(dir, 'env');
  await writeFile(env, 'GREETING=hello world\nSECOND=2\n');
  const digest = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
  const before = [await digest(vda), await digest(nvme)];
  const r = await runToExit({
    qemu, timeoutMs: 90000,
    args: qemuArgs(base('devices', {
      disks: [{ file: vda, bus: 'virtio' }, { file: nvme, bus: 'nvme' }],
      fwCfg: [{ name: 'opt/mkimage/env', file: env }],
      smbios1: { manufacturer: 'Amazon EC2', product: 't3.micro' },
    })),
  });
  t.equal(r.exitCode, 0);
  t.match(r.console, /VDA=VIRTIO-DISK-OK!!/);
  t.match(r.console, /NVME=NVME-DISK-OK!!!!/);
  t.match(r.console, /FWCFG=GREETING=hello world\|SECOND=2\|/);
  t.match(r.console, /VENDOR=Amazon EC2/);
  t.match(r.console, /VDA-AFTER=overwritten-by-guest/, 'the guest could write (to the snapshot overlay)');
  t.same([await digest(vda), await digest(nvme)], before, 'snapshot=on: host images unchanged');
});

t.test('UEFI: OVMF (pflash code + per-run vars copy) boots the kernel', async (t) => {
  const ovmf = await findOvmf();
  t.comment(`OVMF from ${ovmf.source}`);
  if (ovmf.kind !== 'pflash') {
    t.fail(`expected split OVMF images, found ${ovmf.file}`);
    return;
  }
  const vars = await copyOvmfVars(ovmf, dir);
  const template = await readFile(ovmf.varsTemplate);
  try {
    const boot = await bootAndWait({
      qemu, timeoutMs: 120000, retries: 2,
      args: qemuArgs(base('marker', { firmware: { pflash: { code: ovmf.code, vars: vars.path } } })),
      ready: { serialMarker: /MKIMAGE-TEST-MARKER/ },
    });
    t.comment(`UEFI marker after ${Math.round(boot.timings.markerMs!)} ms`);
    t.match(boot.console(), /EFI stub|MKIMAGE-TEST-INIT/);
    await boot.stop();
    t.same(await readFile(ovmf.varsTemplate), template, 'the template itself is never written');
  } finally {
    await vars.cleanup();
  }
});

t.test('QEMU dies with the process that started it (exit, SIGTERM, even SIGKILL)', async (t) => {
  const processJs = new URL('../dist/qemu/process.js', import.meta.url).pathname;
  for (const how of ['exit', 'SIGTERM', 'SIGKILL']) {
    const script = `
      import { startQemu } from ${JSON.stringify(processJs)};
      const q = startQemu(${JSON.stringify(qemu.binary)}, ${JSON.stringify([...qemuArgs(base('marker')), '-S'])});
      console.log(q.pid);
      setTimeout(() => ${how === 'exit' ? 'process.exit(0)' : `process.kill(process.pid, '${how}')`}, 500);
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const status = await new Promise<{ code: number | null; signal: string | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
    const pid = Number(out.trim());
    t.ok(pid > 0, `${how}: child started QEMU ${pid} and ended with ${JSON.stringify(status)}`);
    if (how !== 'exit') t.equal(status.signal, how, 'the signal still ends the process as it would have');
    let alive = true;
    for (let i = 0; i < 40 && alive; i++) {
      try {
        process.kill(pid, 0);
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
        if (/^\d+ \(.*\) Z/.test(stat)) alive = false; // a zombie waiting for its reaper is dead
        else await new Promise((r) => setTimeout(r, 50));
      } catch {
        alive = false;
      }
    }
    t.notOk(alive, `${how}: QEMU ${pid} is gone`);
  }
});
