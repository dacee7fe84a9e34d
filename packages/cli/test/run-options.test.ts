// `mkimage run` without booting: the env file it writes is read back by the guest's own dotenv
// parser (DOTENV_AWK in the host's awk, evaluated by sh), the QEMU plan keeps the image read-only
// and the env off the command line, images are told apart by content, and bad input gets one line.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOTENV_AWK } from '../src/init/dotenv.js';
import { qemuArgs } from '../src/qemu/args.js';
import { composeEnv, dotenvQuote, parseEnvArg, unterminatedQuoteLine } from '../src/run/env.js';
import { ImageKindError, ImageNotFoundError, PortInUseError, RunOptionError } from '../src/run/errors.js';
import { guestEnd } from '../src/run/exit.js';
import { detectImage } from '../src/run/image.js';
import { parseCpus, parseMemory } from '../src/run/options.js';
import { runQemuOptions } from '../src/run/plan.js';
import { runImage } from '../src/run/run.js';
import { checkPortsFree, parsePortArg } from '../src/run/ports.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bundle', 'mkimage.js');
const dir = mkdtempSync(join(tmpdir(), 'mkimage-run-opts-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'dotenv.awk'), DOTENV_AWK);

/** What the guest makes of a dotenv text: the init script's awk + eval, then the environment. */
function guestParse(text: string): { env: Record<string, string>; comments: string[] } {
  writeFileSync(join(dir, 'input'), text);
  const out = execFileSync('awk', ['-v', 'src=fw_cfg', '-f', join(dir, 'dotenv.awk'), join(dir, 'input')], { encoding: 'utf8' });
  const r = spawnSync('/usr/bin/env', ['-i', '/bin/sh', '-c', 'eval "$1"; env -0', 'sh', out], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const kv of r.stdout.split('\0').filter(Boolean)) {
    const i = kv.indexOf('=');
    if (!['PWD', 'SHLVL', '_', 'OLDPWD'].includes(kv.slice(0, i))) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { env, comments: out.split('\n').filter((l) => l.startsWith('# ')) };
}

t.test('-e values survive the dotenv quoting exactly, as the guest parses them', async (t) => {
  const values: Record<string, string> = {
    PLAIN: 'hello', SPACES: '  two  words  ', QUOTES: `it's "quoted"`, DOLLAR: '$HOME ${X} $(id) `id`',
    BACKSLASH: 'C:\\path\\n not a newline\\', NEWLINES: 'line 1\nline 2\r\n\tindented', HASH: 'a # not a comment',
    EMPTY: '', EQUALS: 'a=b=c', UNICODE: 'grüße ✓',
  };
  const { text } = composeEnv(undefined, Object.entries(values));
  const { env, comments } = guestParse(text);
  t.same(env, values);
  t.same(comments, []);
  t.equal(dotenvQuote('a"b'), '"a\\"b"');
  // The check can fail: an unquoted value loses its trailing blanks and its " # ..." tail.
  t.not(guestParse('X=  a # b  \n').env.X, '  a # b  ');
});

t.test('env file first, as written; -e lines after it win; malformed lines are left for the guest to report', async (t) => {
  const file = { name: 'app.env', text: 'FROM_FILE=1\nthis line is bad\nGREETING=from file\n1BAD=x\n' };
  const { text, warnings } = composeEnv(file, [['GREETING', 'from -e']]);
  t.same(warnings, []);
  const { env, comments } = guestParse(text);
  t.same(env, { FROM_FILE: '1', GREETING: 'from -e' });
  t.same(comments, ['# mkimage-init: fw_cfg line 2: expected KEY=VALUE; line skipped', '# mkimage-init: fw_cfg line 4: invalid variable name; line skipped'],
    'the guest names the lines of the user\'s file');
  // A file without a final newline still ends its last line before the -e lines.
  t.same(guestParse(composeEnv({ name: 'f', text: 'A=1' }, [['B', '2']]).text).env, { A: '1', B: '2' });
});

t.test('an unterminated double quote is cut off on the host, so it cannot swallow the -e lines', async (t) => {
  const file = { name: 'app.env', text: 'A=1\nB="never closed\nC=3\n' };
  t.equal(unterminatedQuoteLine(file.text), 2);
  // Without the cut, the guest reads the -e line into B's value: this is what we prevent.
  t.notOk('SECRET' in guestParse(file.text + 'SECRET="s"\n').env);
  const { text, warnings } = composeEnv(file, [['SECRET', 's']]);
  t.same(warnings, ['app.env line 2: unterminated double quote; lines 2-3 skipped']);
  t.same(guestParse(text).env, { A: '1', SECRET: 's' });
  // Quotes that do close (escaped quotes, multi-line values, a trailing backslash) are not cut.
  for (const ok of ['A="x\\"y"\n', 'A="multi\nline"\nB=2\n', 'A="ends with \\\nnext"\n', "A='single \" quote'\n", '# B="x\n']) {
    t.equal(unterminatedQuoteLine(ok), undefined, JSON.stringify(ok));
    t.same(guestParse(ok).comments, [], `guest agrees: ${JSON.stringify(ok)}`);
  }
});

t.test('-e parsing', async (t) => {
  t.same(parseEnvArg('K=v=w'), ['K', 'v=w']);
  t.same(parseEnvArg('K='), ['K', '']);
  t.same(parseEnvArg('TOKEN', { TOKEN: 's3cret' }), ['TOKEN', 's3cret'], '-e KEY takes the shell\'s value');
  t.throws(() => parseEnvArg('TOKEN', {}), { code: 'E_RUN_OPTIONS', message: /TOKEN is not set in this shell/ });
  t.throws(() => parseEnvArg('1X=y'), RunOptionError);
  t.throws(() => parseEnvArg('A-B=y'), RunOptionError);
  t.throws(() => parseEnvArg('A=\0'), RunOptionError);
});

t.test('-p, --memory, --cpus', async (t) => {
  t.same(parsePortArg('8080:80'), { hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80, proto: 'tcp' });
  t.same(parsePortArg('0.0.0.0:8080:80/udp'), { hostAddr: '0.0.0.0', hostPort: 8080, guestPort: 80, proto: 'udp' });
  t.same(parsePortArg('9000'), { hostAddr: '127.0.0.1', hostPort: 9000, guestPort: 9000, proto: 'tcp' });
  for (const bad of ['0:80', '8080:70000', 'x:80', '1:2:3:4', 'localhost:80:80', '']) t.throws(() => parsePortArg(bad), RunOptionError, bad);
  t.equal(parseMemory('512M'), 512);
  t.equal(parseMemory('2G'), 2048);
  t.equal(parseMemory('1536'), 1536);
  t.equal(parseMemory('1GiB'), 1024);
  for (const bad of ['32M', '1.5M', 'lots', '512X']) t.throws(() => parseMemory(bad), RunOptionError, bad);
  t.equal(parseCpus(4), 4);
  t.throws(() => parseCpus(0), RunOptionError);
});

t.test('the app\'s exit status from the console', async (t) => {
  const panic = (code: string) => `[    9.1] Kernel panic - not syncing: Attempted to kill init! exitcode=${code}\n[    9.2] CPU: 0 PID: 1\n`;
  t.same(guestEnd(`boot\n${panic('0x00000700')}`), { kind: 'app-exit', status: 7, waitStatus: 0x700 });
  t.same(guestEnd(panic('0x00000000')), { kind: 'app-exit', status: 0, waitStatus: 0 });
  t.same(guestEnd(panic('0x0000ff00')), { kind: 'app-exit', status: 255, waitStatus: 0xff00 });
  t.same(guestEnd(panic('0x00000009')), { kind: 'app-exit', status: 137, waitStatus: 9 }, 'killed by SIGKILL: 128+9');
  t.same(guestEnd('[ 1.0] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n'),
    { kind: 'panic', message: 'VFS: Unable to mount root fs on unknown-block(0,0)' });
  t.same(guestEnd('hello: exiting with status 7\n'), { kind: 'none' }, 'the app\'s own words are not the kernel\'s');
});

t.test('images are told apart by content', async (t) => {
  const file = (name: string, bytes: Buffer) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
  const gpt = Buffer.alloc(4096); gpt.write('EFI PART', 512); gpt[510] = 0x55; gpt[511] = 0xaa;
  const qcow = Buffer.alloc(4096); Buffer.from([0x51, 0x46, 0x49, 0xfb]).copy(qcow);
  const vhd = Buffer.concat([gpt, Buffer.alloc(512)]); vhd.write('conectix', 4096);
  t.same(await detectImage(file('a.img', gpt)), { kind: 'disk', file: join(dir, 'a.img'), format: 'raw' });
  t.same(await detectImage(file('named.img', qcow)), { kind: 'disk', file: join(dir, 'named.img'), format: 'qcow2' }, 'by magic, not by name');
  t.same(await detectImage(file('a.vhd', vhd)), { kind: 'disk', file: join(dir, 'a.vhd'), format: 'vpc' });
  await t.rejects(detectImage(file('zeros.img', Buffer.alloc(4096))), ImageKindError);
  await t.rejects(detectImage(join(dir, 'missing.img')), ImageNotFoundError);
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(out, 'vmlinuz'), 'k');
  await t.rejects(detectImage(out), { code: 'E_IMAGE_KIND', message: /without initrd\.img, cmdline/ });
  writeFileSync(join(out, 'initrd.img'), 'i');
  writeFileSync(join(out, 'cmdline'), 'console=ttyS0 panic=-1 quiet\n');
  t.same(await detectImage(out), { kind: 'kernel', dir: out, kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.img'), cmdline: 'console=ttyS0 panic=-1 quiet' });
});

t.test('the QEMU plan: image in snapshot mode, env over fw_cfg only, forwards on 127.0.0.1', async (t) => {
  const ports = [parsePortArg('8080:80')];
  const disk = qemuArgs(runQemuOptions({
    image: { kind: 'disk', file: '/images/a,b.qcow2', format: 'qcow2' }, accel: 'tcg', memoryMiB: 512, cpus: 2,
    firmware: { pflash: { code: '/fw/CODE.fd', vars: '/run/VARS.fd' } }, nvme: true, ports, envFile: '/run/env',
  })).join(' ');
  t.match(disk, /-drive if=none,id=disk0,format=qcow2,file=\/images\/a,,b\.qcow2,snapshot=on /);
  t.match(disk, /-device nvme,drive=disk0,serial=mkimage0,bootindex=0/);
  t.match(disk, /if=pflash,format=raw,unit=0,readonly=on,file=\/fw\/CODE\.fd .*unit=1,file=\/run\/VARS\.fd/);
  t.match(disk, /hostfwd=tcp:127\.0\.0\.1:8080-:80/);
  t.match(disk, /-fw_cfg name=opt\/mkimage\/env,file=\/run\/env/);
  t.match(disk, /-serial stdio/);
  t.notMatch(disk, /-append|-kernel/);
  const kernel = qemuArgs(runQemuOptions({
    image: { kind: 'kernel', dir: '/o', kernel: '/o/vmlinuz', initrd: '/o/initrd.img', cmdline: 'console=ttyS0 panic=-1' },
    accel: 'tcg', memoryMiB: 256, cpus: 1, firmware: 'seabios', nvme: false, ports: [], envFile: '/run/env',
  }));
  t.equal(kernel[kernel.indexOf('-append') + 1], 'console=ttyS0 panic=-1', 'the image\'s own command line, nothing added');
  t.ok(kernel.includes('-no-reboot'), 'the panic after the app exits ends QEMU');
  t.equal(kernel[kernel.indexOf('-accel') + 1], 'tcg,thread=single', 'single-threaded TCG unless asked');
  const multi = qemuArgs(runQemuOptions({
    image: { kind: 'kernel', dir: '/o', kernel: '/o/vmlinuz', initrd: '/o/initrd.img', cmdline: 'x' },
    accel: 'tcg', tcgThreads: 'multi', memoryMiB: 256, cpus: 2, firmware: 'seabios', nvme: false, ports: [],
  }));
  t.equal(multi[multi.indexOf('-accel') + 1], 'tcg,thread=multi', '--tcg-threads multi reaches QEMU');
});

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

t.test('a host port in use is found before QEMU starts', async (t) => {
  const { server, port } = await listen();
  t.teardown(() => server.close());
  await t.rejects(checkPortsFree([parsePortArg(`${port}:8080`)]), PortInUseError);
  await t.rejects(checkPortsFree([parsePortArg(`${port}:8080`)]), { message: new RegExp(`host port 127\\.0\\.0\\.1:${port} \\(for -p ${port}:8080\\) is already in use`) });
  server.close();
  await new Promise((r) => setTimeout(r, 50));
  await t.resolves(checkPortsFree([parsePortArg(`${port}:8080`)]), 'free again once closed');
});

function mkimage(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function oneLine(t: Test, r: ReturnType<typeof mkimage>, pattern: RegExp): void {
  t.equal(r.status, 1, 'exit status 1');
  t.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  t.match(r.stderr, pattern);
  t.equal(r.stdout, '', 'nothing on the console: QEMU never started');
}

t.test('CLI: a missing image, a port in use, bad -e/-p: one line each, before QEMU starts', async (t) => {
  oneLine(t, mkimage(['run', join(dir, 'no-such.img')]), /^mkimage: .*no-such\.img: no such image; give a disk image/);
  const out = join(dir, 'out'); // a complete-looking output dir from the test above
  const { server, port } = await listen();
  t.teardown(() => server.close());
  oneLine(t, mkimage(['run', out, '-p', `${port}:8080`]), new RegExp(`^mkimage: host port 127\\.0\\.0\\.1:${port} \\(for -p ${port}:8080\\) is already in use`));
  oneLine(t, mkimage(['run', out, '-e', 'not valid=1']), /^mkimage: -e "not valid=1": expected KEY=VALUE/);
  // -e and -p take one value each: given before the image, they do not swallow it.
  oneLine(t, mkimage(['run', '-e', 'A=1', '-p', `${port}:8080`, out]), new RegExp(`host port 127\\.0\\.0\\.1:${port} .*is already in use`));
  oneLine(t, mkimage(['run', out, '-p', '80800:80']), /^mkimage: -p "80800:80": "80800" is not a port/);
  // Node 20 itself reads a `--env-file` anywhere in argv (nodejs/node#54232, fixed in later
  // majors) and fails first with its own line; either way: one line naming the file, non-zero.
  const noEnv = mkimage(['run', out, '--env-file', join(dir, 'none.env')]);
  t.not(noEnv.status, 0);
  t.equal(noEnv.stderr.trimEnd().split('\n').length, 1, `one line: ${noEnv.stderr}`);
  t.match(noEnv.stderr, /none\.env: (no such file|not found)/);
  await t.rejects(runImage({ image: out, envFile: join(dir, 'none.env') }), { code: 'E_RUN_OPTIONS', message: /^--env-file ".*none\.env": no such file$/ });
  // No QEMU on PATH: the hint names the Debian package.
  mkdirSync(join(dir, 'empty-bin'));
  const noQemu = spawnSync(process.execPath, [main, 'run', out], { encoding: 'utf8', env: { PATH: join(dir, 'empty-bin') } });
  oneLine(t, { status: noQemu.status, stderr: noQemu.stderr, stdout: noQemu.stdout }, /^mkimage: qemu-system-x86_64 not found on PATH; install QEMU \(Debian\/Ubuntu: apt-get install qemu-system-x86\)$/m);
  // QEMU itself fails (this "vmlinuz" is one byte): its own message, and status 125, not an app status.
  const bad = mkimage(['run', out]);
  t.equal(bad.status, 125, 'a QEMU failure has its own exit status');
  t.match(bad.stderr, /^mkimage: QEMU exited with status 1: .*(kernel|vmlinuz)/m);
  const both = mkimage(['run', out, '--bios', '--uefi']);
  t.equal(both.status, 2, 'usage error');
  t.match(both.stderr, /mutually exclusive/);
});
