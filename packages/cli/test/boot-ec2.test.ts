// Configuration given at boot, not baked: an EC2 boot emulated in QEMU (SMBIOS vendor "Amazon EC2",
// an IMDSv2 stand-in on 169.254.169.254 through guestfwd) hands user data to the app; fw_cfg and
// the kernel command line override it in that order; a failing metadata service does not stop the
// boot; secrets never reach the console.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../src/build/build.js';
import { bootAndWait, qemuArgs, type BootResult } from '../src/qemu/index.js';
import { get, helloJar, liveSkipReason, tempDir } from './helpers/live.js';

const skip = (await liveSkipReason()) ?? false;
if (skip) t.comment(`skipping EC2 emulation tests: ${skip}`);
const imds = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'imds.mjs');

const { dir, cleanup } = await tempDir('mkimage-ec2-');
t.teardown(cleanup);
let out = '';
t.before(async () => {
  if (skip) return;
  out = join(dir, 'hello');
  await build({ app: await helloJar(), output: out, env: { GREETING: 'baked', LEVEL: 'baked', FROM_CMDLINE: 'baked' }, lockFile: join(dir, 'mkimage.lock') });
});

async function bootEc2(mode: string, extra: { fwCfg?: string; append?: string } = {}): Promise<BootResult> {
  const userData = join(dir, `user-data-${mode}`);
  writeFileSync(userData, '# EC2 user data\nGREETING="hello from EC2"\nLEVEL=ec2\nFROM_CMDLINE=ec2\nAPI_KEY=top-secret-value\n');
  // QEMU splits the command on spaces and execs it (no shell): env sets the variables.
  const cmd = `/usr/bin/env MKIMAGE_IMDS_MODE=${mode} MKIMAGE_IMDS_USER_DATA=${userData} ${process.execPath} ${imds}`;
  const fwFile = join(dir, `fw-${mode}`);
  if (extra.fwCfg !== undefined) writeFileSync(fwFile, extra.fwCfg);
  return bootAndWait({
    args: ({ hostPort }) => qemuArgs({
      machine: 'pc', memoryMiB: 512, cpus: 2,
      kernel: { kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.img'), append: `${readFileSync(join(out, 'cmdline'), 'utf8').trim()} ${extra.append ?? ''}` },
      net: { net: '169.254.0.0/16', hostfwd: [{ hostPort: hostPort!, guestPort: 8080 }], guestfwd: [{ guestAddr: '169.254.169.254', guestPort: 80, cmd }] },
      smbios1: { manufacturer: 'Amazon EC2', product: 't3.micro' },
      ...(extra.fwCfg !== undefined ? { fwCfg: [{ name: 'opt/mkimage/env', file: fwFile }] } : {}),
    }),
    ready: { httpPort: 8080, path: '/', body: 'hello' },
    timeoutMs: 150_000, retries: 2,
  });
}

t.test('user data from IMDSv2 reaches the app; fw_cfg and the kernel command line override it', { skip }, async (t) => {
  const booted = await bootEc2('ok', { fwCfg: 'LEVEL=fw_cfg\nFROM_CMDLINE=fw_cfg\nthis line is malformed\n', append: 'mkimage.env.FROM_CMDLINE="kernel command line"' });
  t.teardown(() => booted.stop());
  const port = booted.hostPort!;
  t.equal((await get(port, '/env/GREETING')).body, 'hello from EC2', 'EC2 user data overrides the baked default');
  t.equal((await get(port, '/env/LEVEL')).body, 'fw_cfg', 'fw_cfg overrides EC2 user data');
  t.equal((await get(port, '/env/FROM_CMDLINE')).body, 'kernel command line', 'the kernel command line is strongest');
  t.equal((await get(port, '/env/API_KEY')).body, 'top-secret-value');
  t.match(booted.console(), /fw_cfg line 3: expected KEY=VALUE; line skipped/, 'a malformed line is reported by number');
  t.notMatch(booted.console(), /top-secret-value/, 'values never appear on the console');
  t.equal((await get(port, '/exists?path=/run/mkimage/user-data')).body, 'false', 'no copy of the user data is left in the machine');
});

for (const [mode, message] of [['500', /user data request failed \(status 500\)/], ['hang', /user data request failed|no IMDSv2 token/]] as const) {
  t.test(`a metadata service that ${mode === 'hang' ? 'times out' : 'returns 500'}: the boot goes on with the baked values`, { skip }, async (t) => {
    const booted = await bootEc2(mode);
    t.teardown(() => booted.stop());
    t.match(booted.console(), message);
    t.equal((await get(booted.hostPort!, '/env/GREETING')).body, 'baked');
  });
}
