// One running QEMU: spawned with its serial console on stdout, captured into a bounded buffer and
// optionally a file. Every QEMU we start dies with this process (parent-death signal, plus an
// 'exit' hook), so tests and `mkimage run` never leave one behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, type WriteStream } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface QemuExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Also write the console here (the whole of it, unlike the in-memory buffer). */
  consoleFile?: string;
  /** Keep at most this many characters of console in memory (oldest dropped). Default 4 MiB. */
  consoleLimit?: number;
  /** Called with each console chunk (e.g. to echo it to a terminal). */
  onConsole?: (text: string) => void;
  /** stdin for QEMU: 'ignore' (default) or 'inherit' (an interactive console). */
  stdin?: 'ignore' | 'inherit' | 'pipe';
}

export interface QemuProcess {
  readonly pid: number;
  readonly startedAt: number;
  /** performance.now() when the first console byte arrived. */
  readonly firstConsoleAt: number | undefined;
  /** The console captured so far (the last `consoleLimit` characters). */
  console(): string;
  stderr(): string;
  readonly exited: Promise<QemuExit>;
  hasExited(): boolean;
  /** Resolves with the match once `re` matches the console; rejects if QEMU exits first. */
  waitForConsole(re: RegExp): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when QEMU has exited and the log is flushed. */
  stop(graceMs?: number): Promise<QemuExit>;
}

const live = new Set<ChildProcess>();
let exitHandlerInstalled = false;

function killAllNow(): void {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  live.clear();
}

function trackExit(): void {
  if (live.size > 0 && !exitHandlerInstalled) {
    process.on('exit', killAllNow);
    exitHandlerInstalled = true;
  } else if (live.size === 0 && exitHandlerInstalled) {
    process.off('exit', killAllNow);
    exitHandlerInstalled = false;
  }
}

let setprivPath: string | null | undefined;
/**
 * util-linux `setpriv --pdeathsig SIGKILL` makes the kernel kill QEMU when its parent dies, for any
 * reason (a signal, a crash, SIGKILL), with no signal handlers of ours: installing those would
 * change how this process reacts to Ctrl-C and fight with other libraries' handlers. Without
 * setpriv only a normal exit of this process is covered (the 'exit' hook). The parent-death signal
 * follows the thread that spawned QEMU: start QEMU from the main thread, not a worker.
 */
function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, 'setpriv'), constants.X_OK);
      setprivPath = join(dir, 'setpriv');
      break;
    } catch { /* not here */ }
  }
  return setprivPath;
}

/** How many QEMU processes this process has running (for tests). */
export function liveQemuCount(): number {
  return live.size;
}

/** Starts `binary args...`; the serial console must go to stdio (qemuArgs' default). */
export function startQemu(binary: string, args: readonly string[], opts: StartOptions = {}): QemuProcess {
  const limit = opts.consoleLimit ?? 4 * 1024 * 1024;
  const setpriv = findSetpriv();
  // setpriv execs QEMU in place, so the pid is QEMU's.
  const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', binary, ...args]] : [binary, [...args]];
  const child = spawn(cmd, argv, { stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  const startedAt = performance.now();
  live.add(child);
  trackExit();

  let consoleText = '';
  let stderrText = '';
  let firstConsoleAt: number | undefined;
  let exit: QemuExit | undefined;
  const waiters = new Set<() => void>();
  const file: WriteStream | undefined = opts.consoleFile ? createWriteStream(opts.consoleFile) : undefined;
  const fileClosed = file ? new Promise<void>((r) => file.on('close', () => r())) : Promise.resolve();
  file?.on('error', () => { /* a console log we cannot write is not worth killing the boot */ });

  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    firstConsoleAt ??= performance.now();
    consoleText += text;
    if (consoleText.length > limit) consoleText = consoleText.slice(consoleText.length - limit);
    file?.write(text);
    opts.onConsole?.(text);
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderrText = (stderrText + text).slice(-65536);
  });

  // 'close' (not 'exit'): all console output has been read by then.
  const exited = new Promise<QemuExit>((resolve) => {
    const done = (e: QemuExit) => {
      if (exit) return;
      exit = e;
      live.delete(child);
      trackExit();
      file?.end();
      for (const w of waiters) w();
      void fileClosed.then(() => resolve(e));
    };
    child.on('close', (exitCode, signal) => done({ exitCode, signal }));
    child.on('error', (err) => {
      stderrText += `\n${err.message}`;
      done({ exitCode: null, signal: null });
    });
  });

  return {
    pid: child.pid ?? -1,
    startedAt,
    get firstConsoleAt() { return firstConsoleAt; },
    console: () => consoleText,
    stderr: () => stderrText,
    exited,
    hasExited: () => exit !== undefined,
    waitForConsole(re: RegExp) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = consoleText.match(re);
          if (m) {
            waiters.delete(check);
            resolve(m);
          } else if (exit) {
            waiters.delete(check);
            reject(new Error(`QEMU exited before the console matched ${re}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 2000) {
      if (!exit) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try { await exited; } finally { clearTimeout(timer); }
      }
      return exited;
    },
  };
}
