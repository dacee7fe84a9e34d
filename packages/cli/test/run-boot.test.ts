// `mkimage run` end to end: the hello app built once as an initramfs directory and once as a raw
// disk, booted by the real CLI. The app reports the env it was given, its exit status becomes the
// command's, Ctrl-C stops the machine, and the disk's digest never changes.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../src/build/build.js';
import { freePort } from '../src/qemu/boot.js';
import { get, helloJar, liveSkipReason, tempDir } from './helpers/live.js';

const skip = await liveSkipReason();
if (skip) t.comment(`skipping mkimage run boot tests: ${skip}`);
const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'mkimage.js');
/** TCG on a busy 2-core machine: boots take 10-40 s. */
const BOOT_MS = 150_000;

interface Run {
  port: number;
  console(): string;
  stderr(): string;
  /** Resolves with the command's exit status (or signal). */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(sig: NodeJS.Signals): void;
}

function mkimageRun(args: string[], port: number): Run {
  const child = spawn(process.execPath, [main, 'run', ...args, '-p', `${port}:8080`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  const timer = setTimeout(() => child.kill('SIGKILL'), BOOT_MS + 60_000);
  void done.then(() => clearTimeout(timer));
  return { port, console: () => out, stderr: () => err, done, kill: (s) => child.kill(s) };
}

/** Polls GET / until the app answers "hello" (or the command ends). */
async function ready(run: Run): Promise<void> {
  let ended = false;
  void run.done.then(() => { ended = true; });
  const deadline = performance.now() + BOOT_MS;
  while (performance.now() < deadline && !ended) {
    const res = await get(run.port, '/').catch(() => undefined);
    if (res?.status === 200 && res.body === 'hello') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the app did not answer: ended=${ended}\nstderr: ${run.stderr()}\nconsole tail: ${run.console().slice(-2000)}`);
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

t.test('mkimage run', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-run-boot-');
  t.teardown(cleanup);
  const jar = await helloJar();
  const lockFile = join(dir, 'mkimage.lock');
  const initramfs = join(dir, 'hello');
  const disk = join(dir, 'hello.img');
  await build({ app: jar, output: initramfs, format: 'initramfs', lockFile });
  await build({ app: jar, output: disk, format: 'raw', lockFile });
  const digest = await sha256(disk);

  await t.test('initramfs dir: -e and --env-file reach the app, malformed lines are reported, GET /exit/7 -> status 7', async (t) => {
    const envFile = join(dir, 'app.env');
    await writeFile(envFile, 'FROM_FILE=file value\nthis line is malformed\nGREETING=overridden by -e\n');
    const run = mkimageRun([initramfs, '-e', 'GREETING=one', '--env-file', envFile], await freePort());
    await ready(run);
    t.equal((await get(run.port, '/env/GREETING')).body, 'one');
    t.equal((await get(run.port, '/env/FROM_FILE')).body, 'file value');
    t.match(run.console(), /# mkimage-init: fw_cfg line 2: expected KEY=VALUE; line skipped/, 'the malformed line is named on the console');
    t.notMatch(run.console(), /this line is malformed/, 'its text is not shown (it could be a secret)');
    t.match(run.stderr(), /^mkimage run: direct kernel boot, (TCG|KVM) /);
    await get(run.port, '/exit/7').catch(() => undefined);
    const end = await run.done;
    t.equal(end.code, 7, 'the app\'s exit status is the command\'s');
    t.match(run.console(), /exitcode=0x00000700/);
  });

  await t.test('raw disk, UEFI: one value; exits 0 -> status 0', async (t) => {
    const run = mkimageRun([disk, '-e', 'GREETING=first run'], await freePort());
    await ready(run);
    t.equal((await get(run.port, '/env/GREETING')).body, 'first run');
    t.match(run.stderr(), /UEFI \(OVMF\), raw disk on virtio-blk/);
    await get(run.port, '/exit/0').catch(() => undefined);
    t.equal((await run.done).code, 0);
  });

  await t.test('the same disk, SeaBIOS + NVMe: another value (quotes, $, newline); Ctrl-C stops it with 130', async (t) => {
    const value = 'second "run" $HOME\\n\nline 2';
    const run = mkimageRun([disk, '--bios', '--nvme', '-e', `GREETING=${value}`], await freePort());
    await ready(run);
    t.equal((await get(run.port, '/env/GREETING')).body, value);
    t.match(run.stderr(), /BIOS \(SeaBIOS\), raw disk on NVMe/);
    t.notMatch(run.console(), /second "run"/, 'the value is not on the console');
    run.kill('SIGINT');
    const end = await run.done;
    t.equal(end.code, 130, 'Ctrl-C: 128 + SIGINT');
    await t.rejects(get(run.port, '/'), 'the machine is gone');
  });

  t.equal(await sha256(disk), digest, 'the image\'s sha256 is unchanged after the runs');
});
