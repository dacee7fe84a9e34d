// `mkimage fs`: directory, tar file and tar on stdin in; bad input gives one line and no output file.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, rm, symlink, writeFile, chmod, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import tarStream from 'tar-stream';
import { e2fsck, debugfs, tempDir } from './helpers/ext4-readback.js';

const MAIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../cli/dist/bundle/mkimage.js');
const run = (args: string[], input?: Buffer, cwd?: string) =>
  spawnSync(process.execPath, [MAIN, ...args], { input, encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000', ...(cwd ? { INIT_CWD: cwd } : {}) } });

async function tarOf(entries: { name: string; body?: string; type?: 'file' | 'directory' }[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', mode: 0o644, mtime: new Date(1_600_000_000_000) }, e.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

t.test('mkimage fs', async (t) => {
  const dir = await tempDir('ext4-cli-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  await mkdir(join(src, 'etc'), { recursive: true });
  await writeFile(join(src, 'etc/hostname'), 'box\n');
  await chmod(join(src, 'etc/hostname'), 0o4755);
  await symlink('hostname', join(src, 'etc/link'));
  await writeFile(join(src, 'etc/blob'), Buffer.alloc(1 << 20, 1));

  // A relative output path resolves against INIT_CWD.
  const r1 = run(['fs', src, '-o', 'dir.ext4', '--label', 'root', '--size', '16M'], undefined, dir);
  t.equal(r1.status, 0, 'directory in', { stderr: r1.stderr });
  t.ok(e2fsck(join(dir, 'dir.ext4')).ok, 'e2fsck clean');
  t.match(debugfs(join(dir, 'dir.ext4'), ['stat /etc/hostname'])[0], /Mode:\s+04755/, 'setuid survives');
  t.equal((await readFile(join(dir, 'dir.ext4'))).length, 16 << 20, '--size 16M');

  const tar = await tarOf([{ name: 'app/', type: 'directory' }, { name: 'app/run', body: 'run\n' }]);
  const r2 = run(['fs', '-', '-o', join(dir, 'stdin.ext4'), '--journal'], tar);
  t.equal(r2.status, 0, 'tar on stdin', { stderr: r2.stderr });
  t.ok(e2fsck(join(dir, 'stdin.ext4')).ok, 'e2fsck clean');
  t.match(debugfs(join(dir, 'stdin.ext4'), ['cat /app/run'])[0], /^run$/m);
  await writeFile(join(dir, 'in.tar'), tar);
  const r3 = run(['fs', join(dir, 'in.tar'), '-o', join(dir, 'file.ext4')]);
  t.equal(r3.status, 0, 'tar file in', { stderr: r3.stderr });
  t.equal(run(['fs', join(dir, 'in.tar'), '-o', join(dir, 'again.ext4')]).status, 0);
  t.same(await readFile(join(dir, 'again.ext4')), await readFile(join(dir, 'file.ext4')), 'same input, same image');

  const before = (await readdir(dir)).sort();
  const bad = async (what: string, args: string[], input: Buffer | undefined, message: RegExp) => {
    const r = run(args, input);
    t.equal(r.status, 1, `${what}: exit 1`);
    t.match(r.stderr, message, `${what}: message`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
    t.same((await readdir(dir)).sort(), before, `${what}: nothing left at the output`);
  };
  const broken = Buffer.concat([tar.subarray(0, 700), Buffer.alloc(600, 0x41)]);
  await bad('broken tar header', ['fs', '-', '-o', join(dir, 'x.ext4')], broken, /^mkimage: tar: Invalid tar header/);
  await bad('too small', ['fs', src, '-o', join(dir, 'x.ext4'), '--size', '512K'], undefined, /^mkimage: etc\/blob: does not fit in an ext4 filesystem of 524288 bytes; it needs about \d+ bytes/);
  const longName = await tarOf([{ name: `d/${'n'.repeat(256)}`, body: 'x' }]);
  await bad('name over 255 bytes', ['fs', '-', '-o', join(dir, 'x.ext4')], longName, /^mkimage: d\/n{256}: name is 256 bytes, ext4 allows 255/);
});
