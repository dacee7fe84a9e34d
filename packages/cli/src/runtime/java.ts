// The Java runtime of an image: a JRE trimmed by `jlink` to the modules the app uses (found by
// `jdeps`), taken from Debian's OpenJDK packages and cached content-addressed, so that a rebuild
// after an app change skips jlink entirely.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sysroot } from './sysroot.js';
import { CodeError } from '../errors.js';

/** Debian's OpenJDK per suite: the default JDK of the release (jmods live in -jdk-headless). */
export const JDK_BY_SUITE: Record<string, { feature: number; packages: string[] }> = {
  bookworm: { feature: 17, packages: ['openjdk-17-jdk-headless', 'openjdk-17-jre-headless'] },
  trixie: { feature: 21, packages: ['openjdk-21-jdk-headless', 'openjdk-21-jre-headless'] },
};

/** Libraries the JDK's own tools need to run from the sysroot (libjvm links libstdc++). */
export const JDK_TOOL_LIBRARIES = ['libc6', 'zlib1g', 'libstdc++6', 'libgcc-s1'];

/**
 * Modules every server image gets on top of what jdeps finds: TLS with elliptic curves (JDK 17
 * keeps the EC provider in its own module, which jdeps cannot see being used).
 */
export const ALWAYS_MODULES = ['jdk.crypto.ec'];

/**
 * jlink options: small and deterministic (no CDS archive: JDK 17 does not write it reproducibly).
 * Not `--strip-debug`: on Linux it also strips native libraries by running the host's `objcopy`
 * through a native helper (jspawnhelper), so the output would depend on the host's binutils, and
 * trixie's helper needs a newer glibc than the host may have. Debian's libraries come stripped.
 */
export function jlinkOptions(feature: number): string[] {
  // JDK 21 deprecates the numbered levels; zip-6 is what level 2 meant (JDK-8293667).
  const compress = feature >= 21 ? '--compress=zip-6' : '--compress=2';
  return ['--strip-java-debug-attributes', '--no-man-pages', '--no-header-files', compress];
}

/** Class file major version -> Java feature release (JVMS §4.1: 61 = Java 17, 65 = Java 21). */
export function featureOfClassVersion(major: number): number {
  return major - 44;
}

/** A JDK that can run its tools: Debian's (through a sysroot) or a local one (--jdk). */
export interface JdkTools {
  /** Runs `bin/<tool>` of the JDK; resolves with stdout. */
  run(tool: string, args: string[]): Promise<string>;
  /** Identifies the JDK's exact contents for the runtime cache key. */
  identity: string;
  feature: number;
}

export interface JreRequest {
  jdk: JdkTools;
  jar: string;
  cacheDir: string;
  extraModules?: string[];
}

export interface Jre {
  /** Host directory holding the jlinked runtime (bin/java, lib/...). */
  dir: string;
  modules: string[];
  cached: boolean;
}

export class JavaError extends CodeError {}

/** Finds the JDK home inside the sysroot for a feature release. */
export async function findJdkHome(sysroot: Sysroot, feature: number): Promise<string> {
  const home = `usr/lib/jvm/java-${feature}-openjdk-amd64`;
  try {
    await stat(join(sysroot.dir, home, 'bin', 'jlink'));
  } catch {
    throw new JavaError('E_NO_JDK', `no jlink in ${home} of the Debian OpenJDK ${feature} packages; is openjdk-${feature}-jdk-headless available for this suite?`);
  }
  return home;
}

/** The modules an app needs, by jdeps (multi-release JARs read at the runtime's release). */
export async function moduleDeps(jdk: JdkTools, jar: string): Promise<string[]> {
  const out = await jdk.run('jdeps', ['--multi-release', String(jdk.feature), '--print-module-deps', '--ignore-missing-deps', jar]);
  const line = out.trim().split('\n').pop() ?? '';
  const modules = line.split(',').map((m) => m.trim()).filter((m) => /^[A-Za-z0-9_.]+$/.test(m));
  return modules.length ? modules : ['java.base'];
}

/** jdeps' answer for this JAR and JDK, remembered by content: a warm rebuild skips jdeps too. */
async function cachedModuleDeps(req: JreRequest, onStep?: (step: string) => void): Promise<string[]> {
  const key = createHash('sha256').update(await readFile(req.jar)).update(`\0${req.jdk.identity}\0${req.jdk.feature}`).digest('hex');
  const file = join(req.cacheDir, 'jdeps', `${key}.txt`);
  const cached = await readFile(file, 'utf8').catch(() => undefined);
  if (cached !== undefined) return cached.split(',').filter(Boolean);
  onStep?.('jdeps');
  const modules = await moduleDeps(req.jdk, req.jar);
  await mkdir(join(req.cacheDir, 'jdeps'), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, modules.join(','));
  await rename(tmp, file);
  return modules;
}

/** The JRE for an app: from the cache when the same JDK and module set were linked before. */
export async function jlinkRuntime(req: JreRequest, onStep?: (step: string) => void): Promise<Jre> {
  const found = await cachedModuleDeps(req, onStep);
  const modules = [...new Set(['java.base', ...found, ...ALWAYS_MODULES, ...(req.extraModules ?? [])])].sort();
  const key = createHash('sha256')
    .update(JSON.stringify({ jdk: req.jdk.identity, modules, options: jlinkOptions(req.jdk.feature) }))
    .digest('hex');
  const dir = join(req.cacheDir, 'jre', key);
  try {
    await stat(join(dir, 'release'));
    return { dir, modules, cached: true };
  } catch { /* not linked yet */ }
  onStep?.('jlink');
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(join(req.cacheDir, 'jre'), { recursive: true });
  try {
    await req.jdk.run('jlink', ['--add-modules', modules.join(','), ...jlinkOptions(req.jdk.feature), '--output', tmp]);
    await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      await rm(tmp, { recursive: true, force: true }); // a concurrent build linked the same runtime
    });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir, modules, cached: false };
}
