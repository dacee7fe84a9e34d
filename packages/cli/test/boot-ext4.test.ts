// The Linux kernel itself mounts ext4 images from our writer: read-only without a journal, and
// read-write with --journal (the guest writes, unmounts cleanly, and e2fsck still finds it clean).
// The guest's app is Debian's static busybox run as root, scripted through its arguments.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FileTree, ext4Chunks, writeAtomically } from '@mkimage/rootfs';
import { liveSkipReason, runBusyboxGuest, tempDir } from './helpers/live.js';

const skip = (await liveSkipReason()) ?? false;
if (skip) t.comment(`skipping ext4 boot tests: ${skip}`);

t.test('the kernel mounts our ext4: read-only, and read-write with a journal', { skip }, async (t) => {
  const { dir, cleanup } = await tempDir('mkimage-ext4-boot-');
  t.teardown(cleanup);
  const tree = new FileTree({ mtime: 1_700_000_000 });
  tree.file('hello.txt', 'written by mkimage\n');
  tree.file('deep/dir/data.bin', Buffer.alloc(200_000, 7));
  tree.symlink('link', 'hello.txt');
  const plain = join(dir, 'plain.ext4');
  const journalled = join(dir, 'journal.ext4');
  await writeAtomically(plain, ext4Chunks(tree, { size: 'fit', label: 'plain' }));
  await writeAtomically(journalled, ext4Chunks(tree, { size: 16 << 20, label: 'journal', journal: true }));

  // The guest: mount each disk, show what it reads, write to the journalled one, unmount, power off.
  const script = [
    'set -e', 'mkdir -p /tmp/a /tmp/b',
    'mount -t ext4 -o ro /dev/vda /tmp/a', 'echo "A:$(cat /tmp/a/link):$(wc -c < /tmp/a/deep/dir/data.bin)"',
    'if touch /tmp/a/x 2>/dev/null; then echo "A:writable"; else echo "A:read-only"; fi',
    'mount -t ext4 -o rw /dev/vdb /tmp/b', 'echo "from the guest" > /tmp/b/new.txt', 'rm /tmp/b/hello.txt', 'sync',
    'grep -E " /tmp/(a|b) " /proc/mounts | sed "s/^/M:/"', 'umount /tmp/b', 'umount /tmp/a', 'echo DONE',
  ].join('; ');
  const result = await runBusyboxGuest(dir, script, {
    cpus: 2, extra: ['-drive', `file=${plain},format=raw,if=virtio,readonly=on`, '-drive', `file=${journalled},format=raw,if=virtio`],
  });
  const console = result.console;
  t.match(console, /A:written by mkimage:200000/, 'the kernel reads files and symlinks back');
  t.match(console, /A:read-only/);
  t.match(console, /M:\/dev\/vda \/tmp\/a ext4 ro/);
  t.match(console, /M:\/dev\/vdb \/tmp\/b ext4 rw/, 'the journalled image mounts read-write');
  t.match(console, /DONE/, 'both unmount cleanly');
  t.doesNotThrow(() => execFileSync('e2fsck', ['-fn', journalled], { stdio: 'pipe' }), 'e2fsck -fn: the journalled image is clean after the guest wrote to it');
  t.equal(execFileSync('debugfs', ['-R', 'cat /new.txt', journalled], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 'from the guest\n');
  t.doesNotThrow(() => execFileSync('e2fsck', ['-fn', plain], { stdio: 'pipe' }), 'e2fsck -fn: the read-only image is clean');
});
