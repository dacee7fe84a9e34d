import t from 'tap';
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { emitDisk, planDisk, ESP_TYPE_GUID, LINUX_ROOT_X86_64_TYPE_GUID, type DiskPlan } from '../src/gpt/index.js';
import { emitVhdFixed, qcow2, vhdDynamic, vhdGeometry, VHD_BLOCK_SIZE, type RawSource } from '../src/container/index.js';
import { zeros } from '../src/chunks.js';
import { writeImage } from '../src/output.js';
import { run, tempDir } from './helpers.js';

/** A disk with data at scattered places and large zero runs, some tagged, some not (untagged zeros must be found by scanning). */
function sampleDisk(): { plan: DiskPlan; src: RawSource } {
  const plan = planDisk({
    seed: 'containers',
    sizeBytes: 1200 << 20, // spans three L2 tables (512 MiB each with 64 KiB clusters)
    partitions: [
      { name: 'ESP', typeGuid: ESP_TYPE_GUID, size: 8 << 20, content: async function* () { yield Buffer.alloc(100_000, 0xe5); } },
      {
        name: 'root', typeGuid: LINUX_ROOT_X86_64_TYPE_GUID, size: 1 << 20, grow: true,
        content: async function* (p) {
          yield Buffer.alloc(70_000, 0x11); // crosses a cluster boundary, unaligned end
          yield Buffer.alloc(3 << 20); // untagged zeros
          yield* zeros(600 << 20); // tagged zeros
          yield Buffer.from('in the middle of nowhere');
          yield* zeros(p.size - 70_000 - (3 << 20) - (600 << 20) - 24 - 5);
          yield Buffer.from('last!');
        },
      },
    ],
  });
  return { plan, src: { size: plan.sizeBytes, open: () => emitDisk(plan) } };
}

/** Reads/writes a few bytes of a big sparse file without loading it. */
function readAt(path: string, pos: number, n: number): Buffer {
  const fd = openSync(path, 'r');
  try { const b = Buffer.alloc(n); readSync(fd, b, 0, n, pos); return b; } finally { closeSync(fd); }
}
function writeAt(path: string, pos: number, b: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try { writeSync(fd, b, 0, b.length, pos); } finally { closeSync(fd); }
}

t.test('qcow2: qemu-img check clean, compare equal to raw, holes unallocated', async (t) => {
  const dir = tempDir(t);
  const { plan, src } = sampleDisk();
  const raw = join(dir, 'disk.img');
  await writeImage(raw, src.open());
  const q = join(dir, 'disk.qcow2');
  const { plan: qp, chunks } = await qcow2(src);
  await writeImage(q, chunks, { sparse: false });
  t.equal(statSync(q).size, qp.size, 'planned size');
  t.ok(qp.dataClusters < 20, `only ${qp.dataClusters} data clusters stored`);

  const check = run('qemu-img', ['check', '-f', 'qcow2', q]);
  t.equal(check.status, 0, check.out);
  t.match(check.out, /No errors were found/);
  const cmp = run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', raw, q]);
  t.equal(cmp.status, 0, cmp.out);
  t.match(cmp.out, /Images are identical/);
  const info = JSON.parse(run('qemu-img', ['info', '--output=json', q]).out) as { 'virtual-size': number; format: string };
  t.equal(info['virtual-size'], plan.sizeBytes);
  const map = JSON.parse(run('qemu-img', ['map', '--output=json', '-f', 'qcow2', q]).out) as Array<{ start: number; length: number; data: boolean }>;
  const dataBytes = map.filter((m) => m.data).reduce((n, m) => n + m.length, 0);
  t.equal(dataBytes, qp.dataClusters * qp.clusterSize, 'qemu sees exactly our data clusters');
  t.equal(run('sgdisk', ['-v', raw]).out.includes('No problems found'), true, 'the raw disk itself is valid');

  // Corrupt one L2 entry: check must fail; change a data byte: compare must fail.
  const bytes = readFileSync(q);
  const bad = Buffer.from(bytes);
  bad.writeBigUInt64BE(BigInt(qp.dataOffset + 5 * qp.clusterSize) | (1n << 63n), qp.l2Offset + 8 * 7);
  writeFileSync(join(dir, 'bad.qcow2'), bad);
  const badCheck = run('qemu-img', ['check', '-f', 'qcow2', join(dir, 'bad.qcow2')]);
  t.not(badCheck.status, 0, `corrupted L2 detected: ${badCheck.out.split('\n')[0]}`);
  const bad2 = Buffer.from(bytes);
  bad2[qp.dataOffset + 10]! ^= 0xff;
  writeFileSync(join(dir, 'bad2.qcow2'), bad2);
  const badCmp = run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', raw, join(dir, 'bad2.qcow2')]);
  t.not(badCmp.status, 0, `changed data detected: ${badCmp.out.trim()}`);
});

t.test('fixed VHD: qemu-img compare equal to raw, footer per spec', async (t) => {
  const dir = tempDir(t);
  const { plan, src } = sampleDisk();
  const raw = join(dir, 'disk.img');
  await writeImage(raw, src.open());
  const vhd = join(dir, 'disk.vhd');
  const res = await writeImage(vhd, emitVhdFixed(src, { epoch: 1700000000 }));
  t.equal(statSync(vhd).size, plan.sizeBytes + 512);
  t.ok(res.holeBytes > 1000 << 20, 'zeros stay holes in the VHD file too');
  const info = JSON.parse(run('qemu-img', ['info', '--output=json', '-f', 'vpc', vhd]).out) as { 'virtual-size': number };
  t.equal(info['virtual-size'], plan.sizeBytes, 'qemu reads Current Size');
  const cmp = run('qemu-img', ['compare', '-f', 'raw', '-F', 'vpc', raw, vhd]);
  t.equal(cmp.status, 0, cmp.out);
  t.match(cmp.out, /Images are identical/);
  const check = run('qemu-img', ['check', '-f', 'vpc', vhd]);
  t.notMatch(check.out, /error|corrupt/i, check.out);
  const footer = readAt(vhd, plan.sizeBytes, 512);
  t.equal(footer.subarray(0, 8).toString('latin1'), 'conectix');
  const g = vhdGeometry(plan.sizeBytes);
  t.same([footer.readUInt16BE(56), footer[58], footer[59]], [g.cylinders, g.heads, g.sectorsPerTrack]);
  // Break the footer checksum: qemu refuses the image.
  run('cp', ['--sparse=always', vhd, join(dir, 'bad.vhd')]);
  const badFooter = Buffer.from(footer);
  badFooter[64]! ^= 0x01;
  writeAt(join(dir, 'bad.vhd'), plan.sizeBytes, badFooter);
  const r = run('qemu-img', ['info', '-f', 'vpc', join(dir, 'bad.vhd')]);
  t.not(r.status, 0, `bad checksum rejected: ${r.out.trim()}`);
  // Deterministic unique id.
  const again = join(dir, 'again.vhd');
  await writeImage(again, emitVhdFixed(src, { epoch: 1700000000 }));
  t.ok(readAt(again, plan.sizeBytes, 512).equals(footer), 'same footer (unique id from content)');
});

t.test('dynamic VHD: only blocks with data stored, qemu-img check/compare clean', async (t) => {
  const dir = tempDir(t);
  const { plan, src } = sampleDisk();
  const raw = join(dir, 'disk.img');
  await writeImage(raw, src.open());
  const vhd = join(dir, 'dyn.vhd');
  const { plan: vp, chunks } = await vhdDynamic(src, { epoch: 1700000000 });
  await writeImage(vhd, chunks, { sparse: false });
  t.equal(statSync(vhd).size, vp.size);
  t.ok(vp.blocks <= 8 && vp.blocks >= 3, `${vp.blocks} of ${vp.allocated.length} blocks stored`);
  t.ok(vp.size < 8 * (VHD_BLOCK_SIZE + 512) + 64 * 1024, 'file holds only the data blocks');
  const info = JSON.parse(run('qemu-img', ['info', '--output=json', '-f', 'vpc', vhd]).out) as { 'virtual-size': number };
  t.equal(info['virtual-size'], plan.sizeBytes);
  const check = run('qemu-img', ['check', '-f', 'vpc', vhd]);
  t.notMatch(check.out, /error|corrupt|leak/i, check.out);
  const cmp = run('qemu-img', ['compare', '-f', 'raw', '-F', 'vpc', raw, vhd]);
  t.equal(cmp.status, 0, cmp.out);
  t.match(cmp.out, /Images are identical/);
  // A BAT entry pointing at the wrong block: the data no longer matches.
  const bytes = readFileSync(vhd);
  const bad = Buffer.from(bytes);
  const used = [...vp.allocated.keys()].filter((i) => vp.allocated[i]);
  const [a, b] = [used[0]!, used[1]!];
  const ea = bad.readUInt32BE(vp.batOffset + a * 4);
  bad.writeUInt32BE(bad.readUInt32BE(vp.batOffset + b * 4), vp.batOffset + a * 4);
  bad.writeUInt32BE(ea, vp.batOffset + b * 4);
  writeFileSync(join(dir, 'bad.vhd'), bad);
  t.not(run('qemu-img', ['compare', '-f', 'raw', '-F', 'vpc', raw, join(dir, 'bad.vhd')]).status, 0, 'swapped blocks detected');
});

t.test('sizes that are not whole clusters/blocks', async (t) => {
  const dir = tempDir(t);
  const size = (3 << 20) + 512 * 7;
  const data = Buffer.alloc(size);
  data.write('start', 0);
  data.write('end', size - 3);
  const src: RawSource = { size, open: async function* () { yield data; } };
  const raw = join(dir, 'odd.img');
  writeFileSync(raw, data);
  const q = await qcow2(src);
  await writeImage(join(dir, 'odd.qcow2'), q.chunks);
  t.equal(run('qemu-img', ['check', '-f', 'qcow2', join(dir, 'odd.qcow2')]).status, 0);
  t.match(run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', raw, join(dir, 'odd.qcow2')]).out, /identical/);
  const v = await vhdDynamic(src);
  await writeImage(join(dir, 'odd.vhd'), v.chunks);
  t.match(run('qemu-img', ['compare', '-f', 'raw', '-F', 'vpc', raw, join(dir, 'odd.vhd')]).out, /identical/);
  t.equal(v.plan.blocks, 2, 'first and last block only');
  t.throws(() => emitVhdFixed({ size: 1000, open: src.open }), { code: 'E_DISK_OPTION' });
});
