// Progress on a terminal and the summary printed at the end of a build.
import type { BuildEvent, BuildResult } from '../build/options.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export interface Reporter {
  onEvent: (e: BuildEvent) => void;
  summary: (r: BuildResult) => void;
}

/** Writes progress to stderr: a live line on a TTY, plain step lines otherwise; nothing when quiet. */
export function createReporter(opts: { quiet: boolean; stream?: NodeJS.WriteStream }): Reporter {
  const out = opts.stream ?? process.stderr;
  const tty = out.isTTY === true;
  let live = false;
  let lastDraw = 0;
  const clearLive = (): void => {
    if (live) out.write('\r\x1b[K');
    live = false;
  };
  const onEvent = (e: BuildEvent): void => {
    if (opts.quiet) return;
    switch (e.type) {
      case 'download': {
        if (!tty) return;
        const now = Date.now();
        if (!e.progress.done && now - lastDraw < 100) return;
        lastDraw = now;
        const name = decodeURIComponent(e.progress.url.slice(e.progress.url.lastIndexOf('/') + 1));
        const total = e.progress.total ? ` / ${formatBytes(e.progress.total)}` : '';
        const pct = e.progress.total ? ` ${Math.floor((100 * e.progress.received) / e.progress.total)}%` : '';
        out.write(`\r\x1b[K  downloading ${name.slice(0, 60)}  ${formatBytes(e.progress.received)}${total}${pct}`);
        live = !e.progress.done;
        if (e.progress.done) out.write('\r\x1b[K');
        return;
      }
      case 'step':
        if (e.status === 'start') return;
        clearLive();
        return;
      case 'detail':
        clearLive();
        out.write(`  ${e.step}: ${e.message}\n`);
        return;
      case 'warning':
        clearLive();
        out.write(`mkimage: warning: ${e.message}\n`);
        return;
    }
  };
  const summary = (r: BuildResult): void => {
    if (opts.quiet) return;
    clearLive();
    const lines = [`built ${r.format} image in ${r.output} (kernel ${r.kernelRelease})`];
    for (const p of r.parts) lines.push(`  ${p.name.padEnd(12)} ${formatBytes(p.bytes).padStart(10)}  ${p.detail ?? ''}`);
    for (const p of r.partitions) lines.push(`    ${p.name.padEnd(10)} ${formatBytes(p.size).padStart(10)}  ${p.holds} (PARTUUID ${p.partUuid})`);
    lines.push('  contents:');
    for (const c of r.contents) lines.push(`    ${c.group.padEnd(38)} ${formatBytes(c.bytes).padStart(10)}  ${c.files} entries`);
    if (r.overheadBytes !== undefined) lines.push(`    ${'mkimage overhead, compressed'.padEnd(38)} ${formatBytes(r.overheadBytes).padStart(10)}`);
    const total = r.timings.reduce((a, t) => a + t.ms, 0);
    lines.push(`  time: ${(total / 1000).toFixed(1)} s (${r.timings.map((t) => `${t.step} ${(t.ms / 1000).toFixed(1)} s`).join(', ')})`);
    out.write(lines.join('\n') + '\n');
  };
  return { onEvent, summary };
}
