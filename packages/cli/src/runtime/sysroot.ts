// A sysroot: several unpacked Debian packages merged into one directory tree, so that Debian's own
// programs (the JDK's javac, jdeps, jlink) run on the build host with Debian's own glibc, whatever
// the host's distribution, and so that an app's shared libraries can be looked up by path.
//
// Merging uses hard links into the content-addressed cache (cheap, same file system) and rewrites
// absolute symlinks (Debian's JDK links lib/jvm.cfg to /etc/java-17-openjdk/...) into relative ones
// that stay inside the sysroot.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { CodeError } from '../errors.js';
import { findInPackage, mergedUsrPaths } from '../merged-usr.js';

export class SysrootError extends CodeError {}

export interface SysrootPart {
  /** Package name, for messages. */
  name: string;
  /** Content identity of the part (the .deb's SHA256). */
  sha256: string;
  /** Directory the package was unpacked into. */
  dir: string;
}

/** glibc's search path on Debian amd64 (multiarch directories first), relative to a root. */
export const LIBRARY_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'usr/lib64', 'lib', 'usr/lib'];
export const DYNAMIC_LOADER = 'lib64/ld-linux-x86-64.so.2';
/** Where merged-/usr packages (trixie's libc6) ship the loader; /lib64 is then base-files' symlink. */
export const MERGED_USR_LOADER = mergedUsrPaths(DYNAMIC_LOADER)[1];

export class Sysroot {
  constructor(readonly dir: string, readonly parts: readonly SysrootPart[]) {}

  /**
   * Runs a Debian program from the sysroot through the sysroot's dynamic loader, so the host's glibc
   * version does not matter. Resolves with stdout; rejects with stderr's last lines on failure.
   */
  async run(program: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
    const child = spawn(await this.loader(), ['--library-path', this.libraryPath(), join(this.dir, program), ...args], {
      cwd: opts.cwd, env: { LANG: 'C.UTF-8', PATH: '/usr/bin:/bin', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (status !== 0) {
      const tail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join(' / ');
      throw new SysrootError('E_TOOL_FAILED', `${posix.basename(program)} failed (exit ${status}): ${tail || 'no output'}`, { program, args });
    }
    return Buffer.concat(out).toString('utf8');
  }

  /** Host path of the sysroot's dynamic loader (bookworm: /lib64, trixie: /usr/lib64). */
  async loader(): Promise<string> {
    const found = await findInPackage(this.dir, DYNAMIC_LOADER);
    if (found) return found;
    throw new SysrootError('E_NO_LOADER', `no ${DYNAMIC_LOADER} or ${MERGED_USR_LOADER} in the sysroot of ${this.parts.map((p) => p.name).join(', ')}; is libc6 among them?`, { dir: this.dir });
  }

  /** The loader's --library-path: the multiarch directories, where Debian's libraries live. */
  libraryPath(): string {
    return LIBRARY_DIRS.slice(0, 2).map((d) => join(this.dir, d)).join(':');
  }

  /** Resolves a path inside the sysroot, following symlinks without ever leaving the sysroot. */
  async resolve(path: string, depth = 0): Promise<string | undefined> {
    if (depth > 40) return undefined;
    const parts = path.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      const next = cur ? `${cur}/${parts[i]}` : parts[i]!;
      let st;
      try { st = await lstat(join(this.dir, next)); } catch { return undefined; }
      if (st.isSymbolicLink()) {
        const target = await readlink(join(this.dir, next));
        const base = target.startsWith('/') ? target : posix.join(posix.dirname(next), target);
        return this.resolve(posix.normalize([base, ...parts.slice(i + 1)].join('/')).replace(/^\/+/, ''), depth + 1);
      }
      cur = next;
    }
    return cur;
  }
}

/**
 * Builds (once, content-addressed under `cacheDir/sysroot/`) the merged tree of the given parts.
 * Later parts win on conflicting paths, as dpkg would refuse them anyway.
 */
export async function makeSysroot(cacheDir: string, parts: SysrootPart[]): Promise<Sysroot> {
  const sorted = [...parts].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
  const key = createHash('sha256').update(sorted.map((p) => p.sha256).join('\n')).digest('hex');
  const dir = join(cacheDir, 'sysroot', key);
  try {
    await stat(join(dir, '.complete'));
    return new Sysroot(dir, sorted);
  } catch { /* not built yet */ }
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    for (const part of sorted) await mergeTree(part.dir, tmp, '');
    await copyFile('/dev/null', join(tmp, '.complete')).catch(async () => { await mkdir(join(tmp, '.complete')); });
    await mkdir(dirname(dir), { recursive: true });
    await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      // Another build made the same sysroot first: use theirs.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      await rm(tmp, { recursive: true, force: true });
    });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return new Sysroot(dir, sorted);
}

async function mergeTree(src: string, dst: string, rel: string): Promise<void> {
  const names = (await readdir(join(src, rel))).sort();
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const from = join(src, r);
    const to = join(dst, r);
    const st = await lstat(from);
    if (st.isDirectory()) {
      await mkdir(to, { recursive: true });
      await mergeTree(src, dst, r);
    } else if (st.isSymbolicLink()) {
      const target = await readlink(from);
      // Absolute links point into the package's own file system: keep them inside the sysroot.
      const fixed = target.startsWith('/') ? relative(posix.dirname(`/${r}`), target) || '.' : target;
      await rm(to, { force: true });
      await symlink(fixed, to);
    } else if (st.isFile()) {
      await rm(to, { force: true });
      await link(from, to).catch(() => copyFile(from, to, fsc.COPYFILE_FICLONE));
    }
  }
}
