// `runImage()`: boots an image in QEMU the right way for its kind, with its console on the
// terminal, and returns when the app exits (its status), or when the caller stops it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Firmware, PortForward } from '../qemu/args.js';
import { qemuArgs } from '../qemu/args.js';
import { findOvmf, findQemu, type Ovmf, type QemuInstall } from '../qemu/find.js';
import { copyOvmfVars } from '../qemu/ovmf-vars.js';
import { startQemu } from '../qemu/process.js';
import { composeEnv, parseEnvArg, readEnvFile, writePrivateFile } from './env.js';
import { PortInUseError, QemuRunError } from './errors.js';
import { guestEnd } from './exit.js';
import { detectImage, type RunnableImage } from './image.js';
import { parseCpus, parseMemory } from './options.js';
import { runQemuOptions } from './plan.js';
import { checkDistinct, checkPortsFree, DEFAULT_HOST_ADDR, parsePortArg } from './ports.js';

export interface RunImageOptions {
  /** An initramfs output directory (vmlinuz, initrd.img, cmdline) or a disk image (raw, qcow2, VHD). */
  image: string;
  /** Boot-time environment; entries (or `KEY=VALUE` / `KEY` strings, as -e takes) override the env file. */
  env?: Record<string, string> | ReadonlyArray<readonly [string, string] | string>;
  /** A dotenv file, passed as written (the guest reports its malformed lines by line number). */
  envFile?: string;
  /** Port forwards: objects, or `[ADDR:]HOST:GUEST[/udp]` strings as -p takes. */
  ports?: ReadonlyArray<PortForward | string>;
  /** MiB, or a size such as '512M'; default 512. */
  memory?: number | string;
  /** Default 2. */
  cpus?: number;
  /** Under TCG: 'single' (default) or 'multi'-threaded; see QemuOptions.tcgThreads. */
  tcgThreads?: 'single' | 'multi';
  /** Disk images: 'uefi' (default, OVMF) or 'bios' (SeaBIOS). Ignored for direct kernel boot. */
  firmware?: 'uefi' | 'bios';
  /** Attach the disk as NVMe (EC2 Nitro's bus) instead of virtio-blk. */
  nvme?: boolean;
  /** QEMU install (default findQemu(): KVM when usable, else TCG). */
  qemu?: QemuInstall;
  /** OVMF (default findOvmf(), only looked up for UEFI disk boots). */
  ovmf?: Ovmf;
  /** Each console chunk; default: written to process.stdout. */
  onConsole?: (text: string) => void;
  /** Host-side warnings (e.g. an env file line cut off); default: stderr. */
  onWarning?: (message: string) => void;
  /** Called once QEMU has been started. */
  onStart?: (info: RunStartInfo) => void;
  /** Aborting stops QEMU (SIGTERM, then SIGKILL) and resolves with end 'stopped'. */
  signal?: AbortSignal;
}

export interface RunStartInfo {
  image: RunnableImage;
  /** e.g. "UEFI (OVMF), raw disk on virtio-blk". */
  boot: string;
  accel: string;
  accelReason: string;
  ports: PortForward[];
  pid: number;
  /** QEMU's argv (no secrets: the env travels in a file). */
  args: string[];
}

export interface RunImageResult {
  /** 'app-exit': the app exited with `exitCode`; 'stopped': the caller aborted (exitCode 130, or 143 for reason 'SIGTERM'). */
  end: 'app-exit' | 'stopped';
  exitCode: number;
  /** The last 64 KiB of console. */
  consoleTail: string;
  args: string[];
  timings: {
    /** From the call to QEMU's spawn: image detection, QEMU/OVMF lookup, env file, port checks. */
    prepareMs: number;
    /** From QEMU's spawn to its exit. */
    runMs: number;
    firstConsoleMs?: number;
  };
}

/** QEMU's message when a hostfwd rule cannot bind (net/slirp.c). */
const HOSTFWD_FAILED = /Could not set up host forwarding rule '(?:tcp|udp):([^:']*):(\d+)-/;
/** QEMU's message on SIGINT/SIGTERM/SIGHUP (system/runstate.c qemu_system_killed). */
const QEMU_KILLED = /terminating on signal (\d+)/;

function stoppedStatus(signal: AbortSignal | undefined): number {
  return signal?.reason === 'SIGTERM' ? 143 : 130;
}

function lastLine(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !/^qemu-system-\S+: warning:/.test(l));
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}

function envEntries(env: RunImageOptions['env']): [string, string][] {
  if (!env) return [];
  const list = Array.isArray(env) ? env : Object.entries(env as Record<string, string>);
  return list.map((e) => (typeof e === 'string' ? parseEnvArg(e) : parseEnvArg(`${e[0]}=${e[1]}`)));
}

/**
 * Boots `opts.image` and waits for the app to exit. The image is never written (snapshot=on), the
 * env file (mode 0600) and the OVMF vars copy live in a private temp dir removed afterwards.
 * Throws ImageNotFoundError, ImageKindError, RunOptionError, PortInUseError, QemuNotFoundError,
 * OvmfNotFoundError before QEMU starts, and QemuRunError when QEMU or the guest kernel fails.
 */
export async function runImage(opts: RunImageOptions): Promise<RunImageResult> {
  const t0 = performance.now();
  const warn = opts.onWarning ?? ((m: string) => process.stderr.write(`mkimage: warning: ${m}\n`));

  // 1. Everything that can be wrong with the request, before anything is started or written.
  const memoryMiB = parseMemory(opts.memory ?? 512);
  const cpus = parseCpus(opts.cpus ?? 2);
  const entries = envEntries(opts.env);
  const ports = (opts.ports ?? []).map((p) => (typeof p === 'string' ? parsePortArg(p) : { hostAddr: DEFAULT_HOST_ADDR, proto: 'tcp' as const, ...p }));
  checkDistinct(ports);
  const image = await detectImage(opts.image);
  const envFile = opts.envFile === undefined ? undefined : await readEnvFile(opts.envFile);
  const qemu = opts.qemu ?? (await findQemu());
  const uefi = image.kind === 'disk' && (opts.firmware ?? 'uefi') === 'uefi';
  const ovmf = uefi ? (opts.ovmf ?? (await findOvmf())) : undefined;
  await checkPortsFree(ports);
  if (opts.signal?.aborted) return stoppedBeforeStart(opts.signal, t0);

  // 2. The per-run files: env (0600) and the OVMF variable store copy, in a 0700 temp dir.
  const dir = await mkdtemp(join(tmpdir(), 'mkimage-run-'));
  try {
    let envPath: string | undefined;
    if (envFile || entries.length > 0) {
      const env = composeEnv(envFile, entries);
      env.warnings.forEach(warn);
      envPath = join(dir, 'env');
      await writePrivateFile(envPath, env.text);
    }
    let firmware: Firmware = 'seabios';
    if (ovmf?.kind === 'pflash') firmware = { pflash: { code: ovmf.code, vars: (await copyOvmfVars(ovmf, dir)).path } };
    else if (ovmf?.kind === 'bios') firmware = { bios: ovmf.file };
    const plan = runQemuOptions({ image, accel: qemu.accel, ...(opts.tcgThreads ? { tcgThreads: opts.tcgThreads } : {}), memoryMiB, cpus, firmware, nvme: !!opts.nvme, ports, ...(envPath ? { envFile: envPath } : {}) });
    const args = qemuArgs(plan);
    if (opts.signal?.aborted) return stoppedBeforeStart(opts.signal, t0);

    // 3. Run. QEMU reads the fw_cfg file while it starts: once the guest prints anything, the
    //    values exist only in QEMU's memory and the file is removed (values may be secrets).
    const onConsole = opts.onConsole ?? ((text: string) => { process.stdout.write(text); });
    let envRemoved = false;
    const proc = startQemu(qemu.binary, args, {
      onConsole: (text) => {
        if (envPath && !envRemoved) { envRemoved = true; void rm(envPath, { force: true }); }
        onConsole(text);
      },
    });
    const prepareMs = proc.startedAt - t0;
    const boot = image.kind === 'kernel' ? 'direct kernel boot'
      : `${uefi ? `UEFI (OVMF${ovmf?.kind === 'bios' ? ' -bios' : ''})` : 'BIOS (SeaBIOS)'}, ${image.format === 'vpc' ? 'VHD' : image.format} disk on ${opts.nvme ? 'NVMe' : 'virtio-blk'}`;
    opts.onStart?.({ image, boot, accel: qemu.accel, accelReason: qemu.accelReason, ports, pid: proc.pid, args });
    const stop = () => { void proc.stop(); };
    opts.signal?.addEventListener('abort', stop, { once: true });
    let exit;
    try {
      exit = await proc.exited;
    } finally {
      opts.signal?.removeEventListener('abort', stop);
    }
    const runMs = performance.now() - proc.startedAt;
    const stderr = proc.stderr();
    const consoleText = proc.console();
    const timings: RunImageResult['timings'] = { prepareMs, runMs };
    if (proc.firstConsoleAt !== undefined) timings.firstConsoleMs = proc.firstConsoleAt - proc.startedAt;
    const result = (end: RunImageResult['end'], exitCode: number): RunImageResult => ({ end, exitCode, consoleTail: consoleText.slice(-65536), args, timings });

    // 4. How it ended. The app's exit (a kernel panic naming init's status) is the normal end.
    const ended = guestEnd(consoleText);
    if (ended.kind === 'app-exit') return result('app-exit', ended.status);
    if (opts.signal?.aborted || QEMU_KILLED.test(stderr)) return result('stopped', stoppedStatus(opts.signal));
    const fwd = HOSTFWD_FAILED.exec(stderr);
    if (fwd) {
      const f = ports.find((p) => p.hostPort === Number(fwd[2])) ?? { hostAddr: fwd[1]!, hostPort: Number(fwd[2]), guestPort: 0 };
      throw new PortInUseError(f.hostAddr ?? DEFAULT_HOST_ADDR, f.hostPort, f.guestPort);
    }
    const base = { exitCode: exit.exitCode, signal: exit.signal, stderr };
    if (ended.kind === 'panic') throw new QemuRunError({ ...base, reason: `the guest kernel panicked before the app ran: ${ended.message}` });
    if (exit.exitCode !== 0) {
      const why = lastLine(stderr);
      throw new QemuRunError({ ...base, reason: `QEMU ${exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.exitCode}`}${why ? `: ${why}` : ''}` });
    }
    throw new QemuRunError({ ...base, reason: 'the machine stopped without the app\'s exit status (the guest powered off or reset)' });
  } finally {
    // QEMU has exited (or never started): nothing holds these files any more.
    await rm(dir, { recursive: true, force: true });
  }
}

function stoppedBeforeStart(signal: AbortSignal, t0: number): RunImageResult {
  return { end: 'stopped', exitCode: stoppedStatus(signal), consoleTail: '', args: [], timings: { prepareMs: performance.now() - t0, runMs: 0 } };
}
