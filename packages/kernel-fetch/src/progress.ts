// Download progress for a terminal: one self-overwriting stderr line per file, "bytes/total".
import type { ProgressEvent } from './transport.js';

const mib = (n: number): string => (n / 1048576).toFixed(1);

/**
 * A progress callback that draws on `stream` when it is a TTY, and does nothing otherwise (so logs
 * and pipes stay clean).
 */
export function ttyProgress(stream: NodeJS.WriteStream = process.stderr): ((e: ProgressEvent) => void) | undefined {
  if (!stream.isTTY) return undefined;
  return (e) => {
    const name = decodeURIComponent(e.url.slice(e.url.lastIndexOf('/') + 1));
    const size = e.total ? `${mib(e.received)}/${mib(e.total)} MiB` : `${mib(e.received)} MiB`;
    const line = `${e.done ? 'fetched' : 'fetching'} ${name} ${size}`;
    const width = stream.columns || 80;
    stream.write(`\r${line.slice(0, width - 1).padEnd(width - 1)}${e.done ? '\r' + ' '.repeat(width - 1) + '\r' : ''}`);
  };
}
