// Debian's OpenJDK as a tool: fetched through the verified archive client, merged into a sysroot
// and run with Debian's own loader. Builds use it for jdeps/jlink; the sample app uses it to compile
// (a fresh machine has no JDK).
import { openArchive, type Archive, type ArchiveOptions, type ResolvedPackage } from '@mkimage/kernel-fetch';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JDK_BY_SUITE, JDK_TOOL_LIBRARIES, JavaError, findJdkHome, type JdkTools } from './java.js';
import { makeSysroot, type Sysroot } from './sysroot.js';

export interface DebianJdk extends JdkTools {
  sysroot: Sysroot;
  /** JDK home relative to the sysroot. */
  home: string;
  packages: ResolvedPackage[];
  /** Runs a JDK tool (`javac`, `jar`, `jdeps`, `jlink`...) and returns its stdout. */
  run(tool: string, args: string[], opts?: { cwd?: string }): Promise<string>;
}

/** The packages that make up a runnable JDK for a suite. */
export function jdkPackageNames(suite: string): string[] {
  const jdk = JDK_BY_SUITE[suite];
  if (!jdk) throw new JavaError('E_NO_JDK', `no default OpenJDK known for suite ${suite}; use --suite bookworm or trixie, or --jdk PATH`);
  return [...jdk.packages, ...JDK_TOOL_LIBRARIES];
}

/** Resolves, downloads and unpacks the JDK packages of `archive`'s suite. */
export async function debianJdk(archive: Archive, suite: string, resolved?: ResolvedPackage[]): Promise<DebianJdk> {
  const packages = resolved ?? (await archive.resolve(jdkPackageNames(suite)));
  const parts = [];
  for (const p of packages) parts.push({ name: p.name, sha256: p.sha256, dir: await archive.unpack(p) });
  const sysroot = await makeSysroot(archive.cacheDir, parts);
  const feature = JDK_BY_SUITE[suite]!.feature;
  const home = await findJdkHome(sysroot, feature);
  return {
    sysroot, home, feature, packages,
    identity: packages.map((p) => p.sha256).sort().join(','),
    run: (tool, args, opts) => sysroot.run(`${home}/bin/${tool}`, args, opts),
  };
}

/** The tools a build runs from a JDK: a JRE, or a directory that is no Java home at all, lacks them. */
export const LOCAL_JDK_TOOLS = ['jlink', 'jdeps'];

/** A JDK installed on the build host (`--jdk PATH`), identified by its `release` file and path. */
export async function localJdk(home: string): Promise<JdkTools> {
  for (const tool of LOCAL_JDK_TOOLS) {
    await access(join(home, 'bin', tool), constants.X_OK).catch(() => {
      throw new JavaError('E_NO_JDK', `--jdk ${home}: no executable bin/${tool} there; point it at a JDK home (a full JDK, not a JRE), such as /usr/lib/jvm/java-17-openjdk-amd64`, { home, tool });
    });
  }
  const release = await readFile(join(home, 'release'), 'utf8').catch(() => {
    throw new JavaError('E_NO_JDK', `--jdk ${home}: no release file there; point it at a JDK home (the directory holding bin/jlink)`);
  });
  const version = /JAVA_VERSION="?(\d+)/.exec(release)?.[1];
  if (!version) throw new JavaError('E_NO_JDK', `--jdk ${home}: its release file names no JAVA_VERSION`);
  const run = promisify(execFile);
  return {
    feature: Number(version),
    identity: createHash('sha256').update(home).update(release).digest('hex'),
    run: async (tool, args) => {
      try {
        return (await run(join(home, 'bin', tool), args, { maxBuffer: 64 << 20 })).stdout;
      } catch (err) {
        const e = err as { stderr?: string; code?: unknown; message: string };
        throw new JavaError('E_TOOL_FAILED', `${tool} from ${home} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-2).join(' / ')}`);
      }
    },
  };
}

/** Opens the archive and returns its suite's JDK (for scripts such as the sample app's build). */
export async function openDebianJdk(opts: ArchiveOptions = {}): Promise<DebianJdk> {
  const suite = opts.suite ?? 'bookworm';
  return debianJdk(await openArchive({ ...opts, suite }), suite);
}
