// The `mkimage` command users run is the esbuild bundle (dist/bundle/mkimage.js), not the modules
// tsc emits: it must behave the same, including the code it runs on worker threads from function
// source text (libdeflate's pool, the xz block decoder), whose require() calls the bundler rewrites.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { helloJar, liveSkipReason, repoRoot, tempDir } from './helpers/live.js';

const cliDir = join(repoRoot, 'packages', 'cli');
const pkg = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const bundle = join(cliDir, pkg.bin.mkimage!);
const modules = join(cliDir, 'dist', 'main.js');
const run = async (entry: string, args: string[]) => (await promisify(execFile)(process.execPath, [entry, ...args], { maxBuffer: 16 << 20 })).stdout;

t.test('the bin is the bundle: executable, with a node shebang, and knows its version', async (t) => {
  t.match(pkg.bin.mkimage, /^\.\/dist\/bundle\//);
  t.ok(existsSync(bundle), `${bundle} exists (pnpm build makes it)`);
  t.ok((statSync(bundle).mode & 0o111) !== 0, 'executable');
  t.match(readFileSync(bundle, 'utf8').slice(0, 20), /^#!\/usr\/bin\/env node\n/);
  t.equal((await run(bundle, ['--version'])).trim(), pkg.version);
  t.equal(await run(bundle, ['--help']), await run(modules, ['--help']), 'the same help as the unbundled command');
});

const skip = (await liveSkipReason()) ?? false;

t.test('bundle and modules build the same initramfs, compressed on worker threads', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-bundle-');
  t.teardown(cleanup);
  const jar = await helloJar();
  const lock = join(dir, 'mkimage.lock');
  const digest = async (entry: string, out: string) => (await run(entry, [jar, '-q', '--lock', lock, '--format', 'initramfs', '-o', join(dir, out)])).split(/\s+/)[0];
  const viaModules = await digest(modules, 'modules');
  // The summary's overhead figure compresses the init stage again, on the deflate pool's workers.
  t.match(await run(bundle, [jar, '--lock', lock, '--format', 'initramfs', '-o', join(dir, 'summary')]), /^[0-9a-f]{64}\s/m);
  t.match(viaModules, /^[0-9a-f]{64}$/);
  t.equal(await digest(bundle, 'bundle'), viaModules);
});

t.test('the bundle unpacks a .deb, decoding xz blocks on worker threads', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-bundle-xz-');
  t.teardown(cleanup);
  // A cache of its own: the package is downloaded, verified and decoded afresh.
  const args = ['fetch', 'busybox-static', '--lock', join(dir, 'mkimage.lock'), '--cache-dir', join(dir, 'cache')];
  await run(bundle, [...args, '--extract', join(dir, 'bundle')]);
  await run(modules, [...args, '--extract', join(dir, 'modules')]);
  const busybox = readFileSync(join(dir, 'bundle', 'bin', 'busybox'));
  t.ok(busybox.length > 1 << 20, 'bin/busybox unpacked');
  t.same(busybox, readFileSync(join(dir, 'modules', 'bin', 'busybox')));
});
