// `mkimage fs <dir|tar|-> -o root.ext4`: the ext4 writer on its own, for a directory or a tar
// (a file, or '-' for stdin). The image goes through a temp file, so a failure leaves nothing.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { planExt4, treeFromDirectory, treeFromTar, type FileTree } from '@mkimage/rootfs';
import { writeExt4Image } from '../build/disk-image.js';
import { keepYoungGenerationSmall } from '../heap.js';
import { parseSize, readSourceDateEpoch, userPath } from './common.js';

interface FsArgs {
  source: string;
  output: string;
  size: string;
  label?: string;
  journal: boolean;
  uuid?: string;
  'inode-ratio'?: number;
  'reserved-percent': number;
}



async function readTree(source: string): Promise<FileTree> {
  if (source === '-') return treeFromTar(process.stdin);
  const path = userPath(source);
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw Object.assign(new Error(`${source}: cannot read it (${err.code ?? err.message}); give a directory, a tar file or -`), { code: 'E_INPUT', data: { path: source } });
  });
  return st.isDirectory() ? treeFromDirectory(path) : treeFromTar(createReadStream(path));
}

export const fsCommand: CommandModule<object, FsArgs> = {
  command: 'fs <source>',
  describe: 'Write a directory or a tar (file or - for stdin) as an ext4 filesystem image',
  builder: (y) =>
    y
      .positional('source', { type: 'string', demandOption: true, describe: 'a directory, a tar file, or - (tar on stdin)' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'the image file to write (- for stdout)' })
      .option('size', { type: 'string', default: 'fit', describe: 'filesystem size: bytes, 512M, 2G, ... or "fit" (used space + 10% + 1 MiB)' })
      .option('label', { type: 'string', describe: 'volume label (at most 16 bytes)' })
      .option('journal', { type: 'boolean', default: false, describe: 'add a jbd2 journal so the image can be mounted read-write' })
      .option('uuid', { type: 'string', describe: 'filesystem UUID (default: derived from the content)' })
      .option('inode-ratio', { type: 'number', describe: 'bytes per inode (default 16384)' })
      .option('reserved-percent', { type: 'number', default: 0, describe: 'blocks reserved for root, percent' }) as never,
  handler: async (argv) => {
    keepYoungGenerationSmall(); // a big tree's metadata is most of this command's memory
    const size = parseSize(argv.size);
    const epoch = readSourceDateEpoch();
    // yargs hands a lone '-' positional over as ''.
    const tree = await readTree(argv.source === '' ? '-' : argv.source);
    // SOURCE_DATE_EPOCH also clamps newer file times, as mksquashfs does.
    if (process.env.SOURCE_DATE_EPOCH) tree.clampTimes(epoch);
    // Through the sparse image writer: the file system's free space and file holes stay holes.
    const layout = planExt4(tree, {
      size, epoch, journal: argv.journal, reservedBlocksPercent: argv['reserved-percent'],
      ...(argv.label !== undefined ? { label: argv.label } : {}),
      ...(argv.uuid !== undefined ? { uuid: argv.uuid } : {}),
      ...(argv['inode-ratio'] !== undefined ? { inodeRatio: argv['inode-ratio'] } : {}),
    });
    const result = await writeExt4Image(userPath(argv.output), layout);
    if (argv.output !== '-') process.stderr.write(`mkimage: wrote ${argv.output}: ext4, ${result.bytes} bytes, ${tree.size} entries, sha256 ${result.sha256}\n`);
  },
};
