// The generated launcher is run for real on the build host: it must unlink itself, switch user,
// keep only CAP_NET_BIND_SERVICE, start the app as PID 1 of a new PID namespace and exec it with
// argv and environment untouched, and exit with the app's status.
import t from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLauncher } from '../src/init/launcher.js';

const dir = mkdtempSync(join(tmpdir(), 'mkimage-launcher-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function install(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes, { mode: 0o755 });
  return path;
}

t.test('is a valid static x86-64 ELF executable', async (t) => {
  const bytes = buildLauncher({ user: { uid: 1000, gid: 1000 } });
  const path = install('inspect', bytes);
  const header = execFileSync('readelf', ['-h', '-l', path], { encoding: 'utf8' });
  t.match(header, /Class:\s+ELF64/);
  t.match(header, /Machine:\s+Advanced Micro Devices X86-64/);
  t.match(header, /Type:\s+EXEC/);
  t.notMatch(header, /INTERP/, 'no dynamic loader');
  t.ok(bytes.length < 2048, `small (${bytes.length} bytes)`);
});

t.test('as root: keeps root, execs verbatim arguments and environment, unlinks itself', async (t) => {
  const path = install('root', buildLauncher());
  const r = spawnSync(path, ['/bin/sh', '-c', 'id -u; printf "%s|" "$@"; echo "$GREETING"', 'sh', 'a b', "it's", ''], {
    encoding: 'utf8', env: { GREETING: 'hi  there', PATH: '/usr/bin:/bin' },
  });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, `${process.getuid?.() ?? 0}\na b|it's||hi  there\n`);
  t.notOk(existsSync(path), 'the launcher removed itself');
});

t.test('drops to the app user with only CAP_NET_BIND_SERVICE', { skip: process.getuid?.() !== 0 ? 'needs root to switch users (CI runs as root)' : false }, async (t) => {
  const path = install('drop', buildLauncher({ user: { uid: 65534, gid: 65533 } }));
  const r = spawnSync(path, ['/bin/sh', '-c', 'id -u; id -g; id -G; grep -E "^Cap(Eff|Prm|Inh|Amb)" /proc/self/status'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const [uid, gid, groups, ...caps] = r.stdout.trim().split('\n');
  t.equal(uid, '65534');
  t.equal(gid, '65533');
  t.equal(groups, '65533', 'supplementary groups cleared');
  for (const line of caps) t.match(line, /:\s+0000000000000400$/, `${line.split(':')[0]} is exactly CAP_NET_BIND_SERVICE`);
  t.equal(caps.length, 4);
});

t.test('enters the working directory; a missing one fails with one line', async (t) => {
  const ok = spawnSync(install('cd', buildLauncher({ workdir: '/usr/share' })), ['/bin/pwd'], { encoding: 'utf8' });
  t.equal(ok.stdout, '/usr/share\n');
  const bad = spawnSync(install('cd-missing', buildLauncher({ workdir: '/nonexistent/dir' })), ['/bin/pwd'], { encoding: 'utf8' });
  t.equal(bad.status, 127);
  t.equal(bad.stderr, 'mkimage launcher: cannot enter the working directory /nonexistent/dir\n');
});

t.test('a missing app: one line on stderr, status 127', async (t) => {
  const path = install('missing', buildLauncher());
  const r = spawnSync(path, ['/nonexistent/app'], { encoding: 'utf8' });
  t.equal(r.status, 127);
  t.equal(r.stderr, 'mkimage launcher: cannot execute the app (missing file or wrong architecture?)\n');
});

const asRoot = process.getuid?.() !== 0 ? 'needs root for a PID namespace (CI runs as root)' : false;

t.test('the app is PID 1 of its own PID namespace, with its own /proc', { skip: asRoot }, async (t) => {
  const r = spawnSync(install('pidns', buildLauncher()), ['/bin/sh', '-c', 'echo $$; readlink /proc/self; cat /proc/1/comm; exit 7'], { encoding: 'utf8' });
  t.equal(r.stdout, '1\n2\nsh\n', 'getpid() is 1, its first child (readlink) is 2, and /proc/1 is the app');
  t.equal(r.status, 7, 'the launcher exits with the app\'s status');
  t.equal(r.stderr, '');
});

t.test('an app killed by a signal: the launcher exits 128 + the signal, as a shell reports it', { skip: asRoot }, async (t) => {
  const launcher = spawn(install('pidns-kill', buildLauncher()), ['/bin/sh', '-c', 'echo ready; exec sleep 60'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => launcher.stdout.once('data', resolve));
  // The app (our process's grandchild) seen from the host's PID namespace: the launcher's child.
  const children = readFileSync(`/proc/${launcher.pid}/task/${launcher.pid}/children`, 'utf8').trim().split(' ');
  t.equal(children.length, 1, 'the launcher has one child: the app');
  process.kill(Number(children[0]), 'SIGKILL');
  const [code, signal] = await once(launcher, 'exit');
  t.equal(signal, null);
  t.equal(code, 128 + 9);
});
