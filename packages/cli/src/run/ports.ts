// Port forwards of `mkimage run -p`: parsing `[ADDR:]HOST:GUEST[/tcp|/udp]`, and checking each host
// port is free before QEMU starts (QEMU's own message for a taken port does not say which -p).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { PortForward } from '../qemu/args.js';
import { PortInUseError, RunOptionError } from './errors.js';

/** Where forwarded ports listen unless the -p value names an address: never exposed by accident. */
export const DEFAULT_HOST_ADDR = '127.0.0.1';

function port(spec: string, text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new RunOptionError('-p', spec, `${JSON.stringify(text)} is not a port (1-65535); expected [ADDR:]HOST:GUEST`);
  }
  return Number(text);
}

/** `8080:80`, `0.0.0.0:8080:80`, `8080` (same port both sides), with an optional `/udp` or `/tcp`. */
export function parsePortArg(spec: string): PortForward {
  const m = /^(.*?)(?:\/(tcp|udp))?$/.exec(spec)!;
  const parts = m[1]!.split(':');
  const proto = (m[2] ?? 'tcp') as 'tcp' | 'udp';
  let hostAddr = DEFAULT_HOST_ADDR;
  let host: string;
  let guest: string;
  if (parts.length === 1) host = guest = parts[0]!;
  else if (parts.length === 2) [host, guest] = parts as [string, string];
  else if (parts.length === 3) {
    hostAddr = parts[0]!;
    [host, guest] = [parts[1]!, parts[2]!];
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(hostAddr)) throw new RunOptionError('-p', spec, `${JSON.stringify(hostAddr)} is not an IPv4 address (QEMU user networking listens on IPv4)`);
  } else throw new RunOptionError('-p', spec, 'expected [ADDR:]HOST:GUEST, e.g. -p 8080:8080');
  return { hostAddr, hostPort: port(spec, host), guestPort: port(spec, guest), proto };
}

/** Rejects two forwards of the same host port. */
export function checkDistinct(forwards: readonly PortForward[]): void {
  const seen = new Set<string>();
  for (const f of forwards) {
    const key = `${f.proto ?? 'tcp'}:${f.hostAddr ?? DEFAULT_HOST_ADDR}:${f.hostPort}`;
    if (seen.has(key)) throw new RunOptionError('-p', `${f.hostPort}:${f.guestPort}`, `host port ${f.hostPort} is forwarded twice`);
    seen.add(key);
  }
}

function tryBind(f: PortForward): Promise<string | undefined> {
  const addr = f.hostAddr ?? DEFAULT_HOST_ADDR;
  return new Promise((resolve) => {
    const why = (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' ? 'already in use'
        : err.code === 'EACCES' ? 'reserved for root (ports below 1024); pick one above 1023'
          : err.code === 'EADDRNOTAVAIL' ? 'not an address of this machine'
            : `not usable (${err.code ?? err.message})`;
    if ((f.proto ?? 'tcp') === 'udp') {
      const s = createSocket('udp4');
      s.once('error', (err) => { s.close(); resolve(why(err)); });
      s.bind(f.hostPort, addr, () => s.close(() => resolve(undefined)));
    } else {
      const s = createServer();
      s.once('error', (err) => resolve(why(err)));
      s.listen({ port: f.hostPort, host: addr, exclusive: true }, () => s.close(() => resolve(undefined)));
    }
  });
}

/** Throws PortInUseError naming the first forward whose host port cannot be bound. */
export async function checkPortsFree(forwards: readonly PortForward[]): Promise<void> {
  for (const f of forwards) {
    const why = await tryBind(f);
    if (why) throw new PortInUseError(f.hostAddr ?? DEFAULT_HOST_ADDR, f.hostPort, f.guestPort, why);
  }
}
