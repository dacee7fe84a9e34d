// The app's exit status, read from the guest console. The launcher, the machine's init, exits with
// the app's status once the app (PID 1 of its namespace) has exited, and the kernel panics with
// "Attempted to kill init! exitcode=0x%08x" (kernel/exit.c do_exit, the wait(2) status: exit code
// << 8; the terminating signal in the low 7 bits when init itself died of one, e.g. the app on a
// kernel without PID namespaces);
// with panic=-1 plus QEMU's -no-reboot, QEMU then exits. The launcher reports an app killed by a
// signal as exit code 128 + signal, so both decode to the same shell status.

/** The line the kernel prints on panic (kernel/panic.c). */
const PANIC = /Kernel panic - not syncing: ([^\r\n]*)/g;
const KILL_INIT = /Attempted to kill init! exitcode=0x([0-9a-fA-F]{1,8})/;

export type GuestEnd =
  /** The app exited: `status` as a shell reports it (128 + signal for a signal). */
  | { kind: 'app-exit'; status: number; waitStatus: number }
  /** The kernel panicked for another reason (`message` is the panic text). */
  | { kind: 'panic'; message: string }
  /** No panic on the console: the guest powered off or reset, or QEMU ended otherwise. */
  | { kind: 'none' };

/** Decodes a wait(2) status (<sys/wait.h> WIFSIGNALED / WEXITSTATUS). */
export function shellStatus(waitStatus: number): number {
  const signal = waitStatus & 0x7f;
  return signal !== 0 ? 128 + signal : (waitStatus >> 8) & 0xff;
}

/** How the guest ended, from its console (the last panic line counts). */
export function guestEnd(console: string): GuestEnd {
  let last: string | undefined;
  for (const m of console.matchAll(PANIC)) last = m[1];
  if (last === undefined) return { kind: 'none' };
  const k = KILL_INIT.exec(last);
  if (!k) return { kind: 'panic', message: last.trim() };
  const waitStatus = parseInt(k[1]!, 16);
  return { kind: 'app-exit', status: shellStatus(waitStatus), waitStatus };
}
