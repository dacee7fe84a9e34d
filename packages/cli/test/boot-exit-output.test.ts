// An app that prints and exits at once must not lose its last lines: the kernel panics as soon as the
// machine's init exits, discarding whatever still waits for the serial port, so the launcher stays
// init, waits for the app (PID 1 of its own namespace), drains the console and passes the status on.
// The guest's app is Debian's static busybox run as root, scripted through its arguments.
import t from 'tap';
import { guestEnd } from '../src/run/exit.js';
import { liveSkipReason, runBusyboxGuest, tempDir } from './helpers/live.js';

const skip = (await liveSkipReason()) ?? false;
if (skip) t.comment(`skipping the exit output test: ${skip}`);

/** More than the serial driver's 4 KiB transmit buffer (UART_XMIT_SIZE): the tail used to be lost. */
const LINES = 400;

t.test('an app that prints a burst and exits: every line reaches the console, then its status', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-exit-output-');
  t.teardown(cleanup);
  // busybox's seq and printf: one write per line, the last one just before exit(5).
  const script = `for i in $(seq 1 ${LINES}); do printf "burst line %04d of ${LINES}\\n" $i; done; echo LAST-LINE; exit 5`;
  const result = await runBusyboxGuest(dir, script);
  const lines = result.console.split(/\r?\n/);
  const burst = lines.filter((l) => /^burst line \d{4} of \d+$/.test(l));
  t.equal(burst.length, LINES, 'every line of the burst arrived');
  t.equal(burst.at(-1), `burst line ${String(LINES).padStart(4, '0')} of ${LINES}`);
  const last = lines.indexOf('LAST-LINE');
  t.ok(last > 0, 'the line written just before exit arrived');
  t.ok(lines.findIndex((l) => /Kernel panic/.test(l)) > last, 'before the kernel\'s panic line');
  t.same(guestEnd(result.console), { kind: 'app-exit', status: 5, waitStatus: 0x500 }, 'the app\'s status reaches the panic line');
});
