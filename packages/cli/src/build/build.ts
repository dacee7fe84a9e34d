// build(): the whole pipeline behind `mkimage <app> -o <out>`, as one typed call that other build
// tools embed. The CLI is a thin layer over it.
//
//   inspect the app -> resolve Debian parts -> download + unpack (verified, cached) -> kernel and
//   module closure -> runtime (jlinked JRE for a JAR) -> shared library closure -> file tree ->
//   write the output atomically.
import { constants, createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { openArchive, resolveKernel, type Archive, type ResolvedPackage } from '@mkimage/kernel-fetch';
import { FileTree, atomicDirectory, compressInitramfs, cpioStream, hasZstd, planExt4, treeFromDirectory, writeAtomically } from '@mkimage/rootfs';
import { detectApp, type DetectedApp } from '../app/index.js';
import { isEnvName, splitWords } from '../init/shell.js';
import { findInPackage, mergedUsrPaths } from '../merged-usr.js';
import { JDK_BY_SUITE, JDK_TOOL_LIBRARIES, jlinkRuntime, type JdkTools } from '../runtime/java.js';
import { debianJdk, localJdk } from '../runtime/jdk.js';
import { CA_CERTIFICATES_PACKAGE, addCaCertificates, readCaCertificates } from '../runtime/cacerts.js';
import { BuildError } from './errors.js';
import { guidToBytes } from '@mkimage/disk';
import { compressDiskInitrd, rootPartUuid, writeDiskImage, writeExt4Image } from './disk-image.js';
import { addBaseLayout, addInitStage } from './image-tree.js';
import { addKernelModules, kernelFilesIn } from './kernel.js';
import { planLibraries } from './libraries.js';
import {
  APP_USER, BASE_CMDLINE, DEFAULT_KERNEL_PACKAGE, DEFAULT_MODULES, DEFAULT_SUITE, IMPLEMENTED_FORMATS, EFI_STUB_PACKAGE,
  formatFromOutput, type BuildEvent, type BuildOptions, type BuildPart, type BuildResult,
} from './options.js';
import { StepTimer } from './timer.js';
import { ownOverhead, summarizeTree } from './summary.js';
import { providerLookup } from './provide.js';

/** Where things live inside the image. */
export const IMAGE_JRE = 'usr/lib/jvm/jre';
export const IMAGE_APP_DIR = 'app';

/** The JVM flags every image gets: no display, UTF-8 regardless of locale data. */
const JVM_BASE_OPTS = ['-Djava.awt.headless=true', '-Dfile.encoding=UTF-8'];

function envPairs(env: BuildOptions['env']): Array<[string, string]> {
  const pairs: Array<[string, string]> = Array.isArray(env) ? [...env] : Object.entries(env ?? {});
  for (const [k] of pairs) {
    if (!isEnvName(k)) throw new BuildError('E_BAD_ENV', `--env ${k}: not a valid variable name (letters, digits and _, not starting with a digit)`);
  }
  return pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const emit = (e: BuildEvent): void => options.onProgress?.(e);
  const timer = new StepTimer(emit);
  const format = options.format ?? formatFromOutput(options.output);
  if (!IMPLEMENTED_FORMATS.includes(format)) {
    throw new BuildError('E_FORMAT', `--format ${format} is not known; use one of ${IMPLEMENTED_FORMATS.join(', ')}`);
  }
  const compress = options.compress ?? 'gzip';
  if (compress === 'zstd' && !hasZstd) throw new BuildError('E_COMPRESS', 'zstd compression needs Node >= 22.15; use --compress gzip');
  const suite = options.suite ?? DEFAULT_SUITE;
  const epoch = options.epoch ?? 0;
  const env = envPairs(options.env);
  const user = options.user === 'root' ? undefined : APP_USER;
  const appPath = resolve(options.app);
  const output = options.output === '-' ? '-' : resolve(options.output);
  if (output === '-' && format !== 'raw' && format !== 'qcow2' && format !== 'vhd' && format !== 'ext4') {
    throw new BuildError('E_OUTPUT', `-o - (stdout) needs a single-file format; use --format raw`);
  }

  // 1. What the app is.
  const app = await timer.run('inspect', () => detectApp(appPath));
  if (output !== '-') await checkOutput(output);
  // A local JDK (--jdk) is checked before anything is downloaded.
  const localTools = app.kind === 'jar' && options.jdk ? await localJdk(options.jdk) : undefined;

  // 2. Debian parts, verified through the signed chain and cached.
  const archive = await timer.run('resolve', () => openArchive({
    suite, mirror: options.mirror, securityMirror: options.securityMirror, cacheDir: options.cacheDir,
    offline: options.offline, updateLock: options.updateLock,
    lockFile: options.lockFile ?? join(dirname(appPath), 'mkimage.lock'),
    onProgress: (progress) => emit({ type: 'download', progress }),
  }));
  const flavour = (options.kernelPackage ?? DEFAULT_KERNEL_PACKAGE).replace(/^linux-image-/, '');
  const jdk = app.kind === 'jar' && !options.jdk ? JDK_BY_SUITE[suite] : undefined;
  if (app.kind === 'jar' && !options.jdk && !jdk) {
    throw new BuildError('E_NO_JDK', `no default OpenJDK known for suite ${suite}; pass --jdk PATH to a local JDK, or use --suite bookworm|trixie`);
  }
  const isDisk = format === 'raw' || format === 'qcow2' || format === 'vhd';
  const efiStubPackage = options.efiStubPackage ?? EFI_STUB_PACKAGE;
  const { kernel, busybox, caCerts, runtime, boot } = await timer.run('resolve', async () => {
    const kernel = await resolveKernel(archive, { flavour });
    const [busybox] = await archive.resolve(['busybox-static']);
    // Trust anchors for every image: the JRE's cacerts and /etc/ssl/certs come from this package.
    const [caCerts] = await archive.resolve([CA_CERTIFICATES_PACKAGE]);
    // A JAR needs the JDK (for jdeps/jlink) unless --jdk names a local one; its libraries come from
    // the same packages. An ELF app starts from glibc; other libraries come via Contents.
    const runtimeNames = app.kind === 'jar' ? [...(jdk?.packages ?? []), ...JDK_TOOL_LIBRARIES] : ['libc6', 'libgcc-s1'];
    const runtime = await archive.resolve(runtimeNames);
    const boot = isDisk ? await archive.resolve([efiStubPackage]) : [];
    return { kernel, busybox: busybox!, caCerts: caCerts!, runtime, boot };
  });

  const unpacked = await timer.run('download', async () => {
    const all = [kernel.package, busybox, caCerts, ...runtime, ...boot];
    const dirs = new Map<string, string>();
    for (const pkg of all) dirs.set(pkg.name, await archive.unpack(pkg));
    return dirs;
  });
  const dirOf = (pkg: ResolvedPackage): string => unpacked.get(pkg.name)!;

  // The root tree holds the app, its runtime and /etc. For an initramfs image the init stage and
  // modules go into the same tree; for a disk they go into a small initramfs of their own.
  const tree = new FileTree();
  addBaseLayout(tree, { ...(user ? { user } : {}) });
  const initTree = isDisk ? new FileTree() : tree;
  if (isDisk) addBaseLayout(initTree, {});

  // 3. Kernel and the drivers the machine needs, in dependency order.
  const kernelDir = dirOf(kernel.package);
  const { vmlinuz, modulesRoot } = await timer.run('kernel', () => kernelFilesIn(kernelDir, kernel.release));
  const modules = await timer.run('kernel', () => addKernelModules(initTree, modulesRoot, {
    defaults: DEFAULT_MODULES, requested: options.modules ?? [],
    onWarning: (message) => emit({ type: 'warning', message }),
  }));

  // What the init stage will run (it depends on nothing the runtime step finds).
  const appName = basename(appPath);
  const appImagePath = `${IMAGE_APP_DIR}/${app.kind === 'jar' ? 'app.jar' : appName}`;
  const command = app.kind === 'jar'
    ? [`/${IMAGE_JRE}/bin/java`, ...JVM_BASE_OPTS, ...(options.javaOpts ?? []), '-jar', `/${appImagePath}`, ...(options.appArgs ?? [])]
    : [`/${appImagePath}`, ...(options.appArgs ?? [])];

  // 4. The init stage (the module list is final since step 3). It comes before the runtime so that
  //    a disk's small initramfs is compressed while the runtime and libraries are gathered.
  // bookworm ships bin/busybox; trixie (merged /usr) usr/bin/busybox (named by the error if neither).
  const busyboxPath = (await findInPackage(dirOf(busybox), 'bin/busybox')) ?? join(dirOf(busybox), mergedUsrPaths('bin/busybox')[1]);
  const initOptions = {
    busybox: { path: busyboxPath, size: (await stat(busyboxPath)).size },
    modules, env, command, workdir: `/${IMAGE_APP_DIR}`,
    hostnameBase: hostnameFrom(appName),
    ...(user ? { user } : {}),
  };
  // The summary's overhead figure compresses the init stage once more: start it as soon as that
  // tree is final, so it runs alongside what follows (compression works off the main thread).
  let overhead: Promise<number> | undefined;
  const measureOverhead = (t: FileTree): void => {
    if (options.measureOverhead === false) return;
    overhead = ownOverhead(t, compress);
    overhead.catch(() => {}); // awaited at the end; an earlier failure must not leave it unhandled
  };
  // A disk's small initramfs needs only the init stage and the root's PARTUUID (from the content
  // seed), so it is compressed now, on a worker thread, instead of at the write.
  let seed: string | undefined;
  let diskInitrd: { rootPartUuid: string; bytes: Promise<Uint8Array> } | undefined;
  if (isDisk) {
    seed = await contentSeed(appPath, [kernel.package, busybox, caCerts, ...runtime, ...boot], options);
    const partuuid = rootPartUuid(seed);
    const partuuidBytesHex = Buffer.from(guidToBytes(partuuid)).toString('hex');
    addInitStage(initTree, { ...initOptions, root: { partuuid, partuuidBytesHex, fstype: 'ext4' } });
    initTree.setTimes(epoch);
    measureOverhead(initTree);
    const bytes = compressDiskInitrd(initTree, compress);
    bytes.catch(() => {}); // awaited by the write
    diskInitrd = { rootPartUuid: partuuid, bytes };
  }

  // 5. The app and its runtime.
  const appSize = (await stat(appPath)).size;
  tree.dir(IMAGE_APP_DIR, { mode: 0o755 });
  tree.hostFile(appImagePath, appPath, appSize, { mode: app.kind === 'jar' ? 0o644 : 0o755 });
  const elfs: Array<{ hostPath: string; imagePath: string }> = [];
  const placed: Array<{ hostDir: string; imagePath: string }> = [];
  if (app.kind === 'jar') {
    const jre = await timer.run('runtime', () => javaRuntime(app, options, archive, runtime, localTools, emit));
    treeFromDirectory(jre.dir, { tree, prefix: IMAGE_JRE, uid: 0, gid: 0 });
    tree.normalizeModes(IMAGE_JRE);
    placed.push({ hostDir: jre.dir, imagePath: IMAGE_JRE });
    for (const e of tree.entries()) {
      if (e.type === 'file' && e.path.startsWith(IMAGE_JRE + '/') && e.data.kind === 'file' && isElfCandidate(e.path)) {
        elfs.push({ hostPath: e.data.path, imagePath: e.path });
      }
    }
    emit({ type: 'detail', step: 'runtime', message: `JRE modules: ${jre.modules.join(',')}${jre.cached ? ' (cached)' : ''}` });
  } else if (!app.static) {
    elfs.push({ hostPath: appPath, imagePath: appImagePath });
  }
  const certs = await timer.run('runtime', () => readCaCertificates(dirOf(caCerts)));
  addCaCertificates(tree, certs, { epoch, ...(app.kind === 'jar' ? { jre: IMAGE_JRE } : {}) });

  // 6. Shared libraries from Debian packages, as ld.so will look for them.
  await timer.run('libraries', async () => {
    const libs = await planLibraries({
      elfs, placed, roots: runtime.map(dirOf),
      provide: providerLookup(archive, suite, (pkg) => emit({ type: 'detail', step: 'libraries', message: `adding ${pkg.name} ${pkg.version} for a library` })),
    });
    for (const [imagePath, hostPath] of [...libs.files].sort()) {
      tree.hostFile(imagePath, hostPath, (await stat(hostPath)).size, { mode: 0o755 });
    }
    if (libs.interpreter) {
      tree.hostFile(libs.interpreter.imagePath, libs.interpreter.hostPath, (await stat(libs.interpreter.hostPath)).size, { mode: 0o755 });
    }
  });

  if (!isDisk) addInitStage(tree, initOptions);
  tree.setTimes(epoch);
  if (!isDisk) measureOverhead(tree);

  // 7. Output, all or nothing.
  const cmdline = BASE_CMDLINE.join(' ');
  const parts: BuildPart[] = [];
  const partitions: BuildResult['partitions'] = [];
  await timer.run('write', async () => {
    if (format === 'initramfs') {
      await atomicDirectory(output, async (dir) => {
        const kernelCopy = await writeAtomically(join(dir, 'vmlinuz'), createReadStream(vmlinuz));
        const initrd = await writeAtomically(join(dir, 'initrd.img'), compressInitramfs(cpioStream(tree), compress));
        const cmdlineFile = await writeAtomically(join(dir, 'cmdline'), Readable.from([Buffer.from(cmdline + '\n')]));
        parts.push(
          { name: 'vmlinuz', path: join(output, 'vmlinuz'), bytes: kernelCopy.bytes, sha256: kernelCopy.sha256, detail: `${kernel.package.name} ${kernel.version}` },
          { name: 'initrd.img', path: join(output, 'initrd.img'), bytes: initrd.bytes, sha256: initrd.sha256, detail: compress },
          { name: 'cmdline', path: join(output, 'cmdline'), bytes: cmdlineFile.bytes, sha256: cmdlineFile.sha256, detail: cmdline },
        );
      });
    } else if (format === 'ext4') {
      const written = await writeExt4Image(output, planExt4(tree, { epoch, label: 'root', size: 'fit' }));
      parts.push({ name: basename(output), path: output, bytes: written.bytes, sha256: written.sha256, detail: 'ext4 root file system' });
    } else {
      const fileOf = (name: string, rel: string): string => join(dirOf(boot.find((b) => b.name === name)!), rel);
      const disk = await writeDiskImage(output, format, {
        root: tree,
        initrd: diskInitrd!,
        vmlinuz,
        efiStub: fileOf(efiStubPackage, EFI_STUB),
        cmdline, osRelease: osRelease(appName, kernel.release), compress, epoch,
        seed: seed!,
        ...(options.sizeBytes !== undefined ? { sizeBytes: options.sizeBytes } : {}),
        label: hostnameFrom(appName),
      });
      parts.push({ name: basename(output), path: output, bytes: disk.bytes, sha256: disk.sha256, detail: `${format} disk` });
      for (const p of disk.partitions) partitions.push(p);
    }
  });
  await archive.saveLock();

  const packages = archive.lock().map((l) => ({ name: l.name, version: l.version, sha256: l.sha256 }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // The release identity: the file's SHA256, or for a directory the SHA256 of its parts' listing.
  const digest = parts.length === 1
    ? parts[0]!.sha256!
    : createHash('sha256').update(parts.map((p) => `${p.sha256}  ${p.name}\n`).join('')).digest('hex');
  return {
    output, format, digest, parts, partitions, contents: summarizeTree(isDisk ? [tree, initTree] : [tree]),
    ...(overhead ? { overheadBytes: await overhead } : {}), timings: timer.timings, packages,
    kernelRelease: kernel.release, cmdline,
  };
}

/** systemd-boot-efi's stub for Unified Kernel Images (x86-64). */
const EFI_STUB = 'usr/lib/systemd/boot/efi/linuxx64.efi.stub';

function osRelease(appName: string, kernelRelease: string): string {
  return `NAME="mkimage"\nID=mkimage\nPRETTY_NAME="${appName} (mkimage, Linux ${kernelRelease})"\n`;
}

/** A seed for every identity in the image (GUIDs, UUIDs), from the inputs only. */
async function contentSeed(app: string, pkgs: ResolvedPackage[], options: BuildOptions): Promise<string> {
  const h = createHash('sha256');
  h.update(await readFile(app));
  for (const p of [...pkgs].sort((a, b) => (a.name < b.name ? -1 : 1))) h.update(`${p.name} ${p.sha256}\n`);
  h.update(JSON.stringify([options.env, options.appArgs, options.javaOpts, options.user, options.modules, options.sizeBytes]));
  return h.digest('hex');
}


async function javaRuntime(
  app: Extract<DetectedApp, { kind: 'jar' }>, options: BuildOptions, archive: Archive,
  runtime: ResolvedPackage[], localTools: JdkTools | undefined, emit: (e: BuildEvent) => void,
): Promise<{ dir: string; modules: string[]; cached: boolean }> {
  const suite = options.suite ?? DEFAULT_SUITE;
  const jdk = localTools ?? await debianJdk(archive, suite, runtime);
  if (app.javaRelease !== undefined && app.javaRelease > jdk.feature) {
    throw new BuildError('E_JAVA_VERSION', `${app.path} needs Java ${app.javaRelease} (class file ${app.classMajor}), but the JDK is ${jdk.feature}; use --suite trixie (Java 21) or --jdk PATH`);
  }
  return jlinkRuntime({ jdk, jar: app.path, cacheDir: archive.cacheDir }, (step) => emit({ type: 'detail', step: 'runtime', message: step }));
}

/** Files in a JRE that may be ELF objects (ld.so needs their closure). */
function isElfCandidate(path: string): boolean {
  return path.endsWith('.so') || /\/bin\/[^/]+$/.test(path) || path.endsWith('/jspawnhelper') || path.endsWith('/jexec');
}

function hostnameFrom(appName: string): string {
  const base = appName.replace(/\.jar$/i, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return base || 'mkimage';
}

/** Fails early (before any download) when the output cannot be written; creates missing parents. */
async function checkOutput(output: string): Promise<void> {
  const parent = dirname(output);
  try {
    await mkdir(parent, { recursive: true });
    await access(parent, constants.W_OK);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new BuildError('E_OUTPUT', `cannot write ${output}: its directory ${parent} is not writable (${reason}); choose another output path`, { path: output });
  }
}

export { splitWords };
export type { Archive };
