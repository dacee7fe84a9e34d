// The boot harness: start QEMU, wait until the guest is ready (an HTTP answer with the right body,
// or a marker on the serial console), time out and retry boots that hang (under TCG a few in a
// hundred hang in firmware), and always leave no QEMU behind.
import { request } from 'node:http';
import { createServer } from 'node:net';
import { BootTimeoutError, QemuExitedError, QemuOptionError } from './errors.js';
import { findQemu, type QemuInstall } from './find.js';
import { startQemu, type QemuExit, type QemuProcess } from './process.js';

export interface BootContext {
  /** The free host port picked for this attempt (when waiting for HTTP). */
  hostPort?: number;
  /** 0 for the first attempt. */
  attempt: number;
}

export type ReadyCheck =
  /** GET http://127.0.0.1:<host port><path> until it answers 200 with `body` (exact string or RegExp). */
  | { httpPort: number; path?: string; body?: string | RegExp; hostPort?: number }
  /** A line (or any text) on the serial console. */
  | { serialMarker: RegExp };

interface CommonOptions {
  /** QEMU install (from findQemu) or a binary path; default findQemu(). */
  qemu?: QemuInstall | string;
  /** QEMU's argv, or a function of the attempt (to use the picked port, or a fresh OVMF vars copy). */
  args: readonly string[] | ((ctx: BootContext) => readonly string[] | Promise<readonly string[]>);
  /** Per attempt. */
  timeoutMs: number;
  /** Extra attempts after a hang. */
  retries?: number;
  /** Write each attempt's console to this file (`.N` appended for attempts after the first). */
  consoleFile?: string;
  onConsole?: (text: string) => void;
  /** Called before each retry (for logs). */
  onRetry?: (attempt: number, reason: string) => void;
}

export interface BootOptions extends CommonOptions {
  ready: ReadyCheck;
}

export interface BootTimings {
  /** From spawning QEMU to the first console byte. */
  firstConsoleMs?: number;
  /** From spawning QEMU to readiness. */
  readyMs: number;
  /** From spawning QEMU to the first HTTP 200 with the right body. */
  firstHttp200Ms?: number;
  /** From spawning QEMU to the serial marker. */
  markerMs?: number;
  /** Time spent in attempts that hung, before the successful one. */
  lostToRetriesMs: number;
}

export interface BootResult {
  /** Console so far (keeps growing until stop()). */
  console(): string;
  process: QemuProcess;
  hostPort?: number;
  /** The HTTP body or the marker match. */
  readyValue: string;
  attempts: number;
  timings: BootTimings;
  /** Kill QEMU and wait for it. */
  stop(): Promise<QemuExit>;
}

/** Asks the kernel for a free TCP port on 127.0.0.1 (closed again, so QEMU can bind it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One GET; resolves with status and body, or undefined on any connection error (reset, refused, timeout). */
function httpGet(port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < 1 << 20) body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function bodyMatches(body: string, want: string | RegExp | undefined): boolean {
  if (want === undefined) return true;
  return typeof want === 'string' ? body === want : want.test(body);
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** QEMU's message when a hostfwd port is taken (a race with another program): retry on a new port. */
const HOSTFWD_FAILED = /Could not set up host forwarding rule/;
/**
 * A kernel that panicked before running init (under TCG on a loaded host, e.g. "timer doesn't work
 * through Interrupt-remapped IO-APIC"): the machine never got to the guest, so retry like a hang.
 * A panic after init ran ("Attempted to kill init") is the guest's own exit and is not retried.
 */
const EARLY_PANIC = /Kernel panic - not syncing: (?!Attempted to kill init)/;

async function resolveQemu(q: CommonOptions['qemu']): Promise<string> {
  if (typeof q === 'string') return q;
  return (q ?? (await findQemu())).binary;
}

function consoleFileFor(base: string | undefined, attempt: number): string | undefined {
  return base === undefined ? undefined : attempt === 0 ? base : `${base}.${attempt}`;
}

/**
 * Boots and waits until `ready`. On a timeout the attempt is killed and retried (up to `retries`);
 * on an early QEMU exit it fails at once with QemuExitedError (except a host port race, retried).
 * The returned QEMU keeps running until stop().
 */
export async function bootAndWait(opts: BootOptions): Promise<BootResult> {
  const binary = await resolveQemu(opts.qemu);
  const ready = opts.ready;
  const http = 'httpPort' in ready ? ready : undefined;
  if (http && http.hostPort === undefined && typeof opts.args !== 'function') {
    throw new QemuOptionError('args', 'give args as a function of { hostPort } (or ready.hostPort) so the harness can forward a free port');
  }
  const retries = opts.retries ?? 2;
  const waitingFor = http ? `HTTP 200 from guest port ${http.httpPort}${http.path ?? '/'}` : `console marker ${(ready as { serialMarker: RegExp }).serialMarker}`;
  let lost = 0;
  let lastConsole = '';

  for (let attempt = 0; attempt <= retries; attempt++) {
    const hostPort = http ? (http.hostPort ?? (await freePort())) : undefined;
    const args = typeof opts.args === 'function' ? await opts.args(hostPort === undefined ? { attempt } : { hostPort, attempt }) : opts.args;
    const consoleFile = consoleFileFor(opts.consoleFile, attempt);
    const qemu = startQemu(binary, args, consoleFile === undefined ? { onConsole: opts.onConsole } : { consoleFile, onConsole: opts.onConsole });
    const deadline = qemu.startedAt + opts.timeoutMs;
    let outcome: { value: string } | 'timeout' | 'exited';
    try {
      outcome = http ? await pollHttp(qemu, hostPort!, http, deadline) : await waitMarker(qemu, (ready as { serialMarker: RegExp }).serialMarker, deadline);
    } catch (err) {
      await qemu.stop();
      throw err;
    }
    if (typeof outcome === 'object') {
      const readyMs = performance.now() - qemu.startedAt;
      const timings: BootTimings = { readyMs, lostToRetriesMs: lost };
      if (qemu.firstConsoleAt !== undefined) timings.firstConsoleMs = qemu.firstConsoleAt - qemu.startedAt;
      if (http) timings.firstHttp200Ms = readyMs;
      else timings.markerMs = readyMs;
      const result: BootResult = {
        console: () => qemu.console(), process: qemu, readyValue: outcome.value, attempts: attempt + 1, timings,
        stop: () => qemu.stop(),
      };
      if (hostPort !== undefined) result.hostPort = hostPort;
      return result;
    }
    const exit = await qemu.stop();
    lastConsole = qemu.console();
    const retryable = (HOSTFWD_FAILED.test(qemu.stderr()) && http?.hostPort === undefined) || EARLY_PANIC.test(lastConsole);
    if (outcome === 'exited' && (!retryable || attempt >= retries)) {
      const data = { attempts: attempt + 1, timeoutMs: opts.timeoutMs, consoleTail: lastConsole.slice(-4000), exitCode: exit.exitCode, signal: exit.signal, stderr: qemu.stderr() };
      throw new QemuExitedError(consoleFile === undefined ? data : { ...data, consoleFile });
    }
    lost += performance.now() - qemu.startedAt;
    if (attempt < retries) opts.onRetry?.(attempt + 1, outcome === 'timeout' ? `no ${waitingFor} within ${opts.timeoutMs} ms` : EARLY_PANIC.test(lastConsole) ? 'kernel panic before init' : 'host port taken');
  }
  const data = { attempts: retries + 1, timeoutMs: opts.timeoutMs, consoleTail: lastConsole.slice(-4000), waitingFor };
  throw new BootTimeoutError(opts.consoleFile === undefined ? data : { ...data, consoleFile: opts.consoleFile });
}

async function pollHttp(qemu: QemuProcess, port: number, check: { path?: string; body?: string | RegExp }, deadline: number): Promise<{ value: string } | 'timeout' | 'exited'> {
  // Before the guest listens, QEMU's user network accepts and then resets the connection: keep polling.
  for (;;) {
    if (qemu.hasExited()) return 'exited';
    const left = deadline - performance.now();
    if (left <= 0) return 'timeout';
    const res = await httpGet(port, check.path ?? '/', Math.min(2000, Math.max(100, left)));
    if (res && res.status === 200 && bodyMatches(res.body, check.body)) return { value: res.body };
    if (qemu.hasExited()) return 'exited';
    await delay(Math.min(50, Math.max(0, deadline - performance.now()))); // detection latency, not load: slirp answers locally
  }
}

async function waitMarker(qemu: QemuProcess, marker: RegExp, deadline: number): Promise<{ value: string } | 'timeout' | 'exited'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), Math.max(0, deadline - performance.now())); });
  try {
    return await Promise.race([
      qemu.waitForConsole(marker).then((m) => ({ value: m[0] }), () => 'exited' as const),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How PID 1 ended, from the kernel's panic line "Attempted to kill init! exitcode=0x%08x" (a wait
 * status, kernel/exit.c): exit code in bits 8-15, or the terminating signal in bits 0-6.
 */
export function initExitStatus(consoleText: string): { code: number } | { signal: number } | undefined {
  const m = /Attempted to kill init! exitcode=0x([0-9a-fA-F]+)/.exec(consoleText);
  if (!m) return undefined;
  const status = parseInt(m[1]!, 16);
  return (status & 0x7f) === 0 ? { code: (status >> 8) & 0xff } : { signal: status & 0x7f };
}

export interface RunResult {
  console: string;
  /** PID 1's exit, when the kernel reported it (see initExitStatus). */
  initExit?: { code: number } | { signal: number };
  /** QEMU's exit status: 0 after a guest poweroff or (with -no-reboot) a panic=-1 reboot. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  attempts: number;
  timings: { exitMs: number; firstConsoleMs?: number; lostToRetriesMs: number };
}

/**
 * Runs a guest that stops by itself (the app exits, the kernel panics with panic=-1, -no-reboot
 * makes QEMU exit) and returns its console and QEMU's exit status. A run that exceeds `timeoutMs`
 * is killed and retried up to `retries` times (default 0), then BootTimeoutError.
 */
export async function runToExit(opts: CommonOptions): Promise<RunResult> {
  const binary = await resolveQemu(opts.qemu);
  const retries = opts.retries ?? 0;
  let lost = 0;
  let lastConsole = '';
  for (let attempt = 0; attempt <= retries; attempt++) {
    const args = typeof opts.args === 'function' ? await opts.args({ attempt }) : opts.args;
    const consoleFile = consoleFileFor(opts.consoleFile, attempt);
    const qemu = startQemu(binary, args, consoleFile === undefined ? { onConsole: opts.onConsole } : { consoleFile, onConsole: opts.onConsole });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), opts.timeoutMs); });
    const outcome = await Promise.race([qemu.exited, timedOut]);
    clearTimeout(timer);
    if (outcome !== 'timeout') {
      const result: RunResult = {
        console: qemu.console(), exitCode: outcome.exitCode, signal: outcome.signal, attempts: attempt + 1,
        timings: { exitMs: performance.now() - qemu.startedAt, lostToRetriesMs: lost },
      };
      if (qemu.firstConsoleAt !== undefined) result.timings.firstConsoleMs = qemu.firstConsoleAt - qemu.startedAt;
      const initExit = initExitStatus(result.console);
      if (initExit) result.initExit = initExit;
      return result;
    }
    await qemu.stop();
    lastConsole = qemu.console();
    lost += performance.now() - qemu.startedAt;
    if (attempt < retries) opts.onRetry?.(attempt + 1, `QEMU still running after ${opts.timeoutMs} ms`);
  }
  const data = { attempts: retries + 1, timeoutMs: opts.timeoutMs, consoleTail: lastConsole.slice(-4000), waitingFor: 'QEMU to exit' };
  throw new BootTimeoutError(opts.consoleFile === undefined ? data : { ...data, consoleFile: opts.consoleFile });
}
