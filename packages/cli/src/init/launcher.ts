// The app launcher: the last program the init stage runs before the app.
//
// busybox can drop capabilities but not change the user, and any tool left on disk is something to
// patch and to attack. So the launcher is a static x86-64 program of under 1.5 KiB generated here, with the
// app's uid/gid baked in. It
//   1. unlinks itself (argv[0]), so no tool is left behind once the app runs, and enters the app's
//      working directory;
//   2. starts the app in a new PID and mount namespace, where the app is PID 1 and /proc is its own.
//      The launcher stays the machine's init only to wait for it: when the machine's init exits the
//      kernel panics at once (kernel/exit.c), and text still queued for the serial port is lost. So
//      once the app has exited the launcher drains the console (TCSBRK, as tcdrain(3) does) and
//      exits with the app's status (128 + signal for a signal, as a shell reports it), which the
//      kernel's panic line then shows. Without PID namespaces (clone fails) the launcher becomes
//      the app itself, as before;
//   3. unless running as root: keeps capabilities across setresuid, drops supplementary groups,
//      switches to the app's gid/uid, and keeps only CAP_NET_BIND_SERVICE (effective, permitted,
//      inheritable and ambient, so it survives execve and the app may bind ports below 1024);
//   4. execve()s argv[1] with argv[1..] and the environment it was given.
// On failure it prints one line naming the step and exits with status 127.
import { Assembler, Reg } from './x86asm.js';

/** x86-64 Linux system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
const SYS = {
  write: 1,
  chdir: 80,
  execve: 59,
  unlink: 87,
  setgroups: 116,
  setresuid: 117,
  setresgid: 119,
  capset: 126,
  prctl: 157,
  exit_group: 231,
  ioctl: 16,
  clone: 56,
  wait4: 61,
  mount: 165,
} as const;

/** include/uapi/linux/sched.h, include/uapi/asm-generic/signal.h */
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWPID = 0x20000000;
const SIGCHLD = 17;
/** include/uapi/linux/mount.h */
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
const MS_REC = 0x4000;
const MS_PRIVATE = 1 << 18;
/** include/uapi/asm-generic/ioctls.h: TCSBRK with a non-zero argument only waits for output to drain. */
const TCSBRK = 0x5409;
/** The shell's status for a process killed by a signal: 128 + the signal (POSIX 2.8.2). */
const SIGNALED_STATUS_BASE = 128;

/** include/uapi/linux/prctl.h */
const PR_SET_KEEPCAPS = 8;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
/** include/uapi/linux/capability.h */
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const CAP_NET_BIND_SERVICE = 10;

export interface LauncherOptions {
  /** Run the app as this user; `undefined` keeps root. */
  user?: { uid: number; gid: number };
  /** The app's working directory (switch_root leaves the new root's / as the current one). */
  workdir?: string;
}

/** ELF64 constants (System V ABI, include/uapi/linux/elf.h). */
const ELF_HEADER_SIZE = 64;
const PROGRAM_HEADER_SIZE = 56;
const LOAD_ADDRESS = 0x400000;
const EM_X86_64 = 62;
const ET_EXEC = 2;
const PT_LOAD = 1;
const PF_X = 1;
const PF_R = 4;

/** The launcher's machine code; position-independent (data is addressed rip-relative). */
function program(opts: LauncherOptions): Uint8Array {
  const a = new Assembler();
  const step = (name: string): void => { a.jumpIfNegative(`fail_${name}`); };

  // At entry (System V ABI §3.4.1): [rsp] = argc, [rsp+8] = argv[0], ..., NULL, envp...
  a.loadFromStack(Reg.rbx, 0);
  a.loadFromStack(Reg.rdi, 8).movImm32(Reg.rax, SYS.unlink).syscall(); // errors ignored: a read-only root keeps it
  if (opts.workdir) {
    a.leaRip(Reg.rdi, 'workdir').movImm32(Reg.rax, SYS.chdir).syscall();
    step('chdir');
  }

  // clone(flags, newsp = 0: the child runs on a copy of this stack, ptid, ctid, tls).
  a.movImm32(Reg.rdi, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD).zero(Reg.rsi).zero(Reg.rdx).zero(Reg.r10).zero(Reg.r8)
    .movImm32(Reg.rax, SYS.clone).syscall();
  a.jumpIfNegative('become_app'); // no PID namespaces here: be the app, as before
  a.jumpIfRaxZero('in_namespace');

  // The supervisor. wait4(pid, &status on the red zone below rsp, 0, NULL).
  a.movReg(Reg.rbp, Reg.rax);
  a.movReg(Reg.rdi, Reg.rbp).leaStack(Reg.rsi, -8).zero(Reg.rdx).zero(Reg.r10).movImm32(Reg.rax, SYS.wait4).syscall();
  step('wait');
  // The wait(2) status: the terminating signal in bits 0-6, else the exit code in bits 8-15.
  a.load32FromStack(Reg.rbx, -8).movReg(Reg.rcx, Reg.rbx).andImm32(Reg.rcx, 0x7f).jumpIfZero('exited');
  a.addImm32(Reg.rcx, SIGNALED_STATUS_BASE).movReg(Reg.rbx, Reg.rcx).jump('drain');
  a.label('exited').shrImm8(Reg.rbx, 8).andImm32(Reg.rbx, 0xff);
  a.label('drain');
  for (const fd of [1, 2]) { // errors ignored: ENOTTY when the app's output is not a terminal
    a.movImm32(Reg.rdi, fd).movImm32(Reg.rsi, TCSBRK).movImm32(Reg.rdx, 1).movImm32(Reg.rax, SYS.ioctl).syscall();
  }
  a.movReg(Reg.rdi, Reg.rbx).movImm32(Reg.rax, SYS.exit_group).syscall();

  // The app's side: keep its mounts to itself (the host's / may be a shared mount), then give it a
  // /proc of its own PID namespace, with the options the init stage mounts /proc with.
  a.label('in_namespace');
  a.zero(Reg.rdi).leaRip(Reg.rsi, 'root').zero(Reg.rdx).movImm32(Reg.r10, MS_REC | MS_PRIVATE).zero(Reg.r8)
    .movImm32(Reg.rax, SYS.mount).syscall();
  step('private');
  a.leaRip(Reg.rdi, 'proc').leaRip(Reg.rsi, 'proc_dir').leaRip(Reg.rdx, 'proc').movImm32(Reg.r10, MS_NOSUID | MS_NODEV | MS_NOEXEC)
    .zero(Reg.r8).movImm32(Reg.rax, SYS.mount).syscall();
  step('proc');

  a.label('become_app');
  if (opts.user) {
    const { uid, gid } = opts.user;
    a.movImm32(Reg.rdi, PR_SET_KEEPCAPS).movImm32(Reg.rsi, 1).movImm32(Reg.rax, SYS.prctl).syscall();
    step('keepcaps');
    a.zero(Reg.rdi).zero(Reg.rsi).movImm32(Reg.rax, SYS.setgroups).syscall();
    step('setgroups');
    a.movImm32(Reg.rdi, gid).movImm32(Reg.rsi, gid).movImm32(Reg.rdx, gid).movImm32(Reg.rax, SYS.setresgid).syscall();
    step('setresgid');
    a.movImm32(Reg.rdi, uid).movImm32(Reg.rsi, uid).movImm32(Reg.rdx, uid).movImm32(Reg.rax, SYS.setresuid).syscall();
    step('setresuid');
    a.leaRip(Reg.rdi, 'cap_header').leaRip(Reg.rsi, 'cap_data').movImm32(Reg.rax, SYS.capset).syscall();
    step('capset');
    a.movImm32(Reg.rdi, PR_CAP_AMBIENT).movImm32(Reg.rsi, PR_CAP_AMBIENT_RAISE).movImm32(Reg.rdx, CAP_NET_BIND_SERVICE)
      .zero(Reg.r10).zero(Reg.r8).movImm32(Reg.rax, SYS.prctl).syscall();
    step('ambient');
  }

  // execve(argv[1], &argv[1], envp) where envp = &argv[argc + 1] = rsp + 16 + argc*8.
  a.loadFromStack(Reg.rdi, 16).leaStack(Reg.rsi, 16).leaStackIndexed(Reg.rdx, Reg.rbx, 16)
    .movImm32(Reg.rax, SYS.execve).syscall();
  a.jump('fail_execve');

  const messages: Record<string, string> = {
    execve: 'cannot execute the app (missing file or wrong architecture?)',
    wait: 'cannot wait for the app',
    private: 'cannot make the app\'s mounts private',
    proc: 'cannot mount /proc for the app\'s PID namespace',
    ...(opts.workdir ? { chdir: `cannot enter the working directory ${opts.workdir}` } : {}),
    ...(opts.user ? {
      keepcaps: 'prctl(PR_SET_KEEPCAPS) failed',
      setgroups: 'setgroups failed',
      setresgid: `cannot switch to gid ${opts.user.gid}`,
      setresuid: `cannot switch to uid ${opts.user.uid}`,
      capset: 'cannot keep CAP_NET_BIND_SERVICE',
      ambient: 'cannot raise CAP_NET_BIND_SERVICE as an ambient capability',
    } : {}),
  };
  for (const [name, text] of Object.entries(messages)) {
    const bytes = Buffer.from(`mkimage launcher: ${text}\n`);
    a.label(`fail_${name}`).leaRip(Reg.rsi, `msg_${name}`).movImm32(Reg.rdx, bytes.length).jump('report');
  }
  a.label('report').movImm32(Reg.rdi, 2).movImm32(Reg.rax, SYS.write).syscall()
    .movImm32(Reg.rdi, 127).movImm32(Reg.rax, SYS.exit_group).syscall();

  // struct __user_cap_header_struct { u32 version; int pid; }
  a.label('cap_header').data([...u32(LINUX_CAPABILITY_VERSION_3), ...u32(0)]);
  // struct __user_cap_data_struct[2] { u32 effective, permitted, inheritable; } (caps 0-31, 32-63)
  const bit = 1 << CAP_NET_BIND_SERVICE;
  a.label('cap_data').data([...u32(bit), ...u32(bit), ...u32(bit), ...u32(0), ...u32(0), ...u32(0)]);
  for (const [name, text] of Object.entries(messages)) {
    a.label(`msg_${name}`).data(Buffer.from(`mkimage launcher: ${text}\n`));
  }
  a.label('root').data([...Buffer.from('/'), 0]);
  a.label('proc').data([...Buffer.from('proc'), 0]);
  a.label('proc_dir').data([...Buffer.from('/proc'), 0]);
  if (opts.workdir) a.label('workdir').data([...Buffer.from(opts.workdir), 0]);
  return a.assemble();
}

/** A complete static ELF64 executable: one read+execute PT_LOAD segment holding headers and code. */
export function buildLauncher(opts: LauncherOptions = {}): Uint8Array {
  const code = program(opts);
  const codeOffset = ELF_HEADER_SIZE + PROGRAM_HEADER_SIZE;
  const size = codeOffset + code.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  // ELF header (System V ABI, "ELF Header")
  out.set([0x7f, 0x45, 0x4c, 0x46], 0); // e_ident[EI_MAG0..3] = "\x7fELF"
  out[4] = 2; // EI_CLASS = ELFCLASS64
  out[5] = 1; // EI_DATA = ELFDATA2LSB
  out[6] = 1; // EI_VERSION = EV_CURRENT
  v.setUint16(16, ET_EXEC, true); // e_type
  v.setUint16(18, EM_X86_64, true); // e_machine
  v.setUint32(20, 1, true); // e_version
  v.setBigUint64(24, BigInt(LOAD_ADDRESS + codeOffset), true); // e_entry
  v.setBigUint64(32, BigInt(ELF_HEADER_SIZE), true); // e_phoff
  v.setBigUint64(40, 0n, true); // e_shoff: no section headers
  v.setUint32(48, 0, true); // e_flags
  v.setUint16(52, ELF_HEADER_SIZE, true); // e_ehsize
  v.setUint16(54, PROGRAM_HEADER_SIZE, true); // e_phentsize
  v.setUint16(56, 1, true); // e_phnum
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint16(60, 0, true); // e_shnum
  v.setUint16(62, 0, true); // e_shstrndx
  // Program header: the whole file mapped read+execute at LOAD_ADDRESS
  const ph = ELF_HEADER_SIZE;
  v.setUint32(ph + 0, PT_LOAD, true); // p_type
  v.setUint32(ph + 4, PF_R | PF_X, true); // p_flags
  v.setBigUint64(ph + 8, 0n, true); // p_offset
  v.setBigUint64(ph + 16, BigInt(LOAD_ADDRESS), true); // p_vaddr
  v.setBigUint64(ph + 24, BigInt(LOAD_ADDRESS), true); // p_paddr
  v.setBigUint64(ph + 32, BigInt(size), true); // p_filesz
  v.setBigUint64(ph + 40, BigInt(size), true); // p_memsz
  v.setBigUint64(ph + 48, 0x1000n, true); // p_align
  out.set(code, codeOffset);
  return out;
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
