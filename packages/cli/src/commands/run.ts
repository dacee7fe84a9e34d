// `mkimage run <image>`: boots an image in QEMU with boot-time env and port forwards; the app's exit
// status becomes this command's. The logic is in ../run/ (runImage), loaded only when run.
import type { CommandModule } from 'yargs';
import { userPath } from './common.js';

interface RunArgs {
  image: string;
  env?: string[];
  'env-file'?: string;
  publish?: string[];
  memory: string;
  cpus: number;
  'tcg-threads': string;
  bios?: boolean;
  uefi?: boolean;
  nvme: boolean;
}

/** Exit status when the run itself fails (QEMU, the guest kernel), as `docker run` uses 125. */
export const RUN_FAILED_STATUS = 125;

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <image>',
  describe: 'Boot an image in QEMU (KVM if usable, else TCG); the app\'s exit status becomes this command\'s',
  builder: (y) =>
    y
      .positional('image', { type: 'string', demandOption: true, describe: 'a disk image (.img, .qcow2, .vhd) or an initramfs output directory' })
      .option('env', { alias: 'e', type: 'string', array: true, nargs: 1, describe: 'KEY=VALUE given to the app at boot (over fw_cfg); KEY alone passes this shell\'s value' })
      .option('env-file', { type: 'string', describe: 'a dotenv file of boot-time values (-e values win)' })
      .option('publish', { alias: 'p', type: 'string', array: true, nargs: 1, describe: 'forward [ADDR:]HOST:GUEST[/udp]; ADDR defaults to 127.0.0.1' })
      .option('memory', { alias: 'm', type: 'string', default: '512M', describe: 'guest memory' })
      .option('cpus', { type: 'number', default: 2, describe: 'virtual CPUs' })
      .option('tcg-threads', { type: 'string', choices: ['single', 'multi'], default: 'single', describe: 'without KVM: run all vCPUs on one host thread (reliable) or one each (boots ~1 s faster on an idle host, but a JIT such as the JVM\'s now and then crashes)' })
      .option('uefi', { type: 'boolean', describe: 'disk images: boot with OVMF (the default)' })
      .option('bios', { type: 'boolean', describe: 'disk images: boot with SeaBIOS instead of UEFI' })
      .option('nvme', { type: 'boolean', default: false, describe: 'attach the disk as NVMe (as on EC2) instead of virtio-blk' })
      .conflicts('bios', 'uefi') as never,
  handler: async (argv) => {
    const { runImage, QemuRunError } = await import('../run/index.js');
    const ac = new AbortController();
    const onSignal = (sig: NodeJS.Signals) => {
      if (!ac.signal.aborted) process.stderr.write(`\nmkimage run: ${sig}: stopping the machine\n`);
      ac.abort(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A console piped into a reader that quits (`| head`) must not kill the run: keep QEMU going.
    const ignore = () => {};
    process.stdout.on('error', ignore);
    try {
      const result = await runImage({
        image: userPath(argv.image),
        env: argv.env ?? [],
        ...(argv['env-file'] !== undefined ? { envFile: userPath(argv['env-file']) } : {}),
        ports: argv.publish ?? [],
        memory: argv.memory,
        cpus: argv.cpus,
        tcgThreads: argv['tcg-threads'] as 'single' | 'multi',
        firmware: argv.bios ? 'bios' : 'uefi',
        nvme: argv.nvme,
        signal: ac.signal,
        onStart: (info) => {
          const fwd = info.ports.map((p) => `${p.hostAddr}:${p.hostPort}->${p.guestPort}${p.proto === 'udp' ? '/udp' : ''}`).join(', ');
          process.stderr.write(`mkimage run: ${info.boot}, ${info.accel.toUpperCase()} (${info.accelReason})${fwd ? `, forwarding ${fwd}` : ''}; Ctrl-C stops it\n`);
        },
      });
      if (result.end === 'app-exit') process.stderr.write(`mkimage run: the app exited with status ${result.exitCode}\n`);
      process.exitCode = result.exitCode;
    } catch (err) {
      if (!(err instanceof QemuRunError)) throw err;
      process.stderr.write(`mkimage: ${err.message.split('\n')[0]}\n`);
      process.exitCode = RUN_FAILED_STATUS;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('error', ignore);
    }
  },
};
