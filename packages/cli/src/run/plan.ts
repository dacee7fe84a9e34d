// The QEMU machine for an image: pure, so tests (and `--dry-run` style callers) see every option.
import type { Firmware, PortForward, QemuOptions } from '../qemu/args.js';
import type { Accel } from '../qemu/find.js';
import type { RunnableImage } from './image.js';

// The fw_cfg name the init stage reads its boot-time env from.
import { FW_CFG_ENV } from '../init/script.js';

export interface RunPlanInput {
  image: RunnableImage;
  accel: Accel;
  /** Under TCG: QemuOptions.tcgThreads. */
  tcgThreads?: 'single' | 'multi';
  memoryMiB: number;
  cpus: number;
  /** For disk images: OVMF (pflash with the per-run vars copy, or -bios) or SeaBIOS. */
  firmware: Firmware;
  nvme: boolean;
  ports: readonly PortForward[];
  /** The dotenv file for fw_cfg, if any values are given. */
  envFile?: string;
}

export function runQemuOptions(p: RunPlanInput): QemuOptions {
  const common: QemuOptions = {
    accel: p.accel, memoryMiB: p.memoryMiB, cpus: p.cpus,
    ...(p.tcgThreads !== undefined ? { tcgThreads: p.tcgThreads } : {}),
    net: { hostfwd: [...p.ports] },
    serial: 'stdio',
  };
  if (p.envFile !== undefined) common.fwCfg = [{ name: FW_CFG_ENV, file: p.envFile }];
  if (p.image.kind === 'kernel') {
    // The i440fx machine, as the README's hand-written command line: direct kernel boot needs no
    // firmware features, and the kernel's command line is the image's own (no env on it).
    return { ...common, machine: 'pc', kernel: { kernel: p.image.kernel, initrd: p.image.initrd, append: p.image.cmdline } };
  }
  // snapshot=on: guest writes go to a temporary overlay; the image file is never written.
  return {
    ...common, machine: 'q35', firmware: p.firmware,
    disks: [{ file: p.image.file, format: p.image.format, bus: p.nvme ? 'nvme' : 'virtio', mode: 'snapshot' }],
  };
}
