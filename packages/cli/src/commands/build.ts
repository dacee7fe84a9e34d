// `mkimage <app> -o <out>`: the default command, a thin layer over build().
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { writeAtomically } from '@mkimage/rootfs';
import type { Argv, CommandModule } from 'yargs';
import { build } from '../build/build.js';
import { COMPRESSIONS, FORMATS, DEFAULT_KERNEL_PACKAGE, DEFAULT_SUITE, type BuildResult, type Compression, type Format } from '../build/options.js';
import { splitWords } from '../init/shell.js';
import { createReporter } from './progress.js';
import { parseSize, readSourceDateEpoch, userPath } from './common.js';

interface BuildArgs {
  app: string;
  output: string;
  format?: Format;
  env: string[];
  'java-opts'?: string;
  suite: string;
  kernel: string;
  modules?: string;
  user: string;
  compress: Compression;
  jdk?: string;
  mirror?: string;
  'security-mirror'?: string;
  'cache-dir'?: string;
  offline: boolean;
  'update-lock': boolean;
  lock?: string;
  quiet: boolean;
  size?: string;
  report?: string;
  '--'?: string[];
  _: (string | number)[];
}


export const buildCommand: CommandModule<object, BuildArgs> = {
  command: '$0 <app>',
  describe: 'Build a bootable image of an app (a runnable JAR or an x86-64 ELF executable)',
  builder: (y: Argv) => y
    .positional('app', { type: 'string', describe: 'runnable JAR (Main-Class in its manifest) or x86-64 ELF executable', demandOption: true })
    .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'output: a disk image file (raw .img, .qcow2, .vhd), an .ext4 root file system, or a directory (vmlinuz, initrd.img, cmdline) for --format initramfs; - for stdout' })
    .option('format', { type: 'string', choices: FORMATS, describe: 'image format (default from the output name: .img/.raw raw, .qcow2, .vhd, .ext4; else initramfs)' })
    .option('size', { type: 'string', describe: 'disk size, e.g. 1G (the root partition takes the rest; default: as small as the content allows)' })
    .option('env', { alias: 'e', type: 'string', array: true, nargs: 1, default: [], describe: 'environment variable for the app, KEY=VALUE (repeatable)' })
    .option('java-opts', { type: 'string', describe: 'options for the JVM, e.g. "-Xmx256m -Dkey=value" (quotes as in a shell)' })
    .option('suite', { type: 'string', default: DEFAULT_SUITE, describe: 'Debian suite for the kernel, busybox, libraries and OpenJDK (bookworm: Java 17, trixie: Java 21)' })
    .option('kernel', { type: 'string', default: DEFAULT_KERNEL_PACKAGE, describe: 'Debian kernel package' })
    .option('modules', { type: 'string', describe: 'extra kernel modules to load at boot, comma-separated (dependencies are added)' })
    .option('user', { type: 'string', default: 'app', choices: ['app', 'root'], describe: 'run the app as the unprivileged "app" user (uid 1000, may still bind ports < 1024) or as root' })
    .option('compress', { type: 'string', choices: COMPRESSIONS, default: 'gzip' as Compression, describe: 'initramfs compression' })
    .option('jdk', { type: 'string', describe: 'a local JDK home to jlink the runtime from, instead of Debian\'s OpenJDK' })
    .option('mirror', { type: 'string', describe: 'Debian mirror URL (default: $MKIMAGE_DEBIAN_MIRROR, else the host\'s apt sources)' })
    .option('security-mirror', { type: 'string', describe: 'Debian security mirror URL (default: $MKIMAGE_DEBIAN_SECURITY_MIRROR, else apt sources)' })
    .option('cache-dir', { type: 'string', describe: 'download and runtime cache (default $XDG_CACHE_HOME/mkimage)' })
    .option('offline', { type: 'boolean', default: false, describe: 'make no network request; use only the cache' })
    .option('lock', { type: 'string', describe: 'lockfile pinning package versions (default mkimage.lock beside the app)' })
    .option('update-lock', { type: 'boolean', default: false, describe: 'resolve packages afresh and rewrite the lockfile' })
    .option('report', { type: 'string', describe: 'write a JSON report: inputs and their hashes, Debian packages, partitions, sizes, digest' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only errors and the digest' })
    .example('$0 app.jar -o app.img', 'a bootable GPT disk (UEFI and BIOS)')
    .example('$0 app.jar -o out --format initramfs', 'kernel + initramfs + cmdline in out/')
    .example('$0 app.jar -o out -e GREETING=hi -- --port 8080', 'arguments after -- reach the app verbatim')
    .example('qemu-system-x86_64 -m 512 -kernel out/vmlinuz -initrd out/initrd.img -append "$(cat out/cmdline)" -nic user,model=virtio-net-pci,hostfwd=tcp::8080-:8080 -nographic -no-reboot', 'boot it')
    .epilogue('Arguments after -- are passed to the app verbatim. SOURCE_DATE_EPOCH sets every file time (default 0).'),
  handler: async (argv) => {
    const env: Array<[string, string]> = argv.env.map((kv) => {
      const i = kv.indexOf('=');
      if (i <= 0) throw Object.assign(new Error(`--env ${kv}: expected KEY=VALUE`), { code: 'E_USAGE' });
      return [kv.slice(0, i), kv.slice(i + 1)];
    });
    const output = userPath(argv.output);
    const reporter = createReporter({ quiet: argv.quiet });
    const result = await build({
      app: userPath(argv.app),
      output,
      ...(argv.format ? { format: argv.format } : {}),
      env,
      appArgs: (argv['--'] ?? []).map(String),
      javaOpts: argv['java-opts'] ? splitWords(argv['java-opts']) : [],
      suite: argv.suite,
      kernelPackage: argv.kernel,
      modules: argv.modules ? argv.modules.split(',').map((m) => m.trim()).filter(Boolean) : [],
      user: argv.user === 'root' ? 'root' : 'app',
      ...(argv.size && argv.size !== 'fit' ? { sizeBytes: parseSize(argv.size) as number } : {}),
      compress: argv.compress,
      ...(argv.jdk ? { jdk: userPath(argv.jdk) } : {}),
      ...(argv.mirror ? { mirror: argv.mirror } : {}),
      ...(argv['security-mirror'] ? { securityMirror: argv['security-mirror'] } : {}),
      ...(argv['cache-dir'] ? { cacheDir: userPath(argv['cache-dir']) } : {}),
      ...(argv.lock ? { lockFile: userPath(argv.lock) } : {}),
      offline: argv.offline,
      updateLock: argv['update-lock'],
      epoch: readSourceDateEpoch(),
      measureOverhead: !argv.quiet || argv.report !== undefined, // shown in the summary and the report only
      onProgress: reporter.onEvent,
    });
    reporter.summary(result);
    if (argv.report) await writeReport(userPath(argv.report), result, userPath(argv.app));
    // The release identity, on stdout like sha256sum (summary and progress go to stderr).
    if (output !== '-') process.stdout.write(`${result.digest}  ${result.output}\n`);
  },
};

/** The --report JSON: everything needed to tell what went into an image and to rebuild it. */
async function writeReport(path: string, r: BuildResult, app: string): Promise<void> {
  const appSha = createHash('sha256').update(await readFile(app)).digest('hex');
  const report = {
    digest: r.digest,
    format: r.format,
    output: r.output,
    inputs: { app: { path: app, sha256: appSha }, sourceDateEpoch: readSourceDateEpoch(), cmdline: r.cmdline },
    kernel: r.kernelRelease,
    packages: r.packages,
    parts: r.parts,
    partitions: r.partitions,
    contents: r.contents,
    overheadBytes: r.overheadBytes,
    timingsMs: Object.fromEntries(r.timings.map((t) => [t.step, t.ms])),
  };
  await writeAtomically(path, Readable.from([Buffer.from(JSON.stringify(report, null, 2) + '\n')]));
}
