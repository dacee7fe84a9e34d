import t from 'tap';
import { readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { collect } from '../src/chunks.js';
import { crc32, crc32Portable } from '../src/crc32.js';
import { guidFromBytes, guidToBytes } from '../src/guid.js';
import {
  emitDisk, planDisk, ESP_TYPE_GUID, LINUX_ROOT_X86_64_TYPE_GUID, GPT_ATTR_LEGACY_BIOS_BOOTABLE, GptHeader,
  type DiskOptions,
} from '../src/gpt/index.js';
import { writeImage } from '../src/output.js';
import { fromBytes, run, sha256, tempDir } from './helpers.js';

const esp = Buffer.alloc(3 * 512, 0xe5);
const root = Buffer.alloc(700 * 1024, 0x52);
const opts = (extra: Partial<DiskOptions> = {}): DiskOptions => ({
  seed: 'test-seed',
  partitions: [
    { name: 'ESP', typeGuid: ESP_TYPE_GUID, size: 2 << 20, attributes: GPT_ATTR_LEGACY_BIOS_BOOTABLE, content: () => fromBytes(esp) },
    { name: 'root', typeGuid: LINUX_ROOT_X86_64_TYPE_GUID, size: root.length, content: () => fromBytes(root) },
  ],
  ...extra,
});

t.test('crc32 and GUID encoding', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'check value of CRC-32/ISO-HDLC');
  t.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
  const b = guidToBytes('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  t.equal(Buffer.from(b).toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b', 'mixed-endian per UEFI Appendix A');
  t.equal(guidFromBytes(b), 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
});

t.test('plan: aligned partitions, derived GUIDs, fit size', async (t) => {
  const p = planDisk(opts());
  t.equal(p.partitions[0]!.firstLba, 2048);
  t.equal(p.partitions[1]!.firstLba, 2048 + 4096, 'second partition on the next MiB');
  t.equal(p.sizeBytes % (1 << 20), 0);
  t.match(p.partitions[0]!.partUuid, /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/, 'v4 bits');
  t.not(p.partitions[0]!.partUuid, p.partitions[1]!.partUuid);
  const again = planDisk(opts());
  t.same(again.partitions.map((x) => x.partUuid), p.partitions.map((x) => x.partUuid), 'stable across runs');
  t.not(planDisk(opts({ seed: 'other' })).diskGuid, p.diskGuid, 'seed changes ids');
  const grown = planDisk({ ...opts(), sizeBytes: 64 << 20, partitions: opts().partitions.map((x, i) => ({ ...x, grow: i === 1 })) });
  t.equal(grown.partitions[1]!.lastLba, grown.lastUsableLba, 'growing partition takes the rest');
  t.throws(() => planDisk(opts({ sizeBytes: 2 << 20 })), { code: 'E_TOO_SMALL' });
  t.throws(() => planDisk(opts({ sizeBytes: 1000 })), { code: 'E_DISK_OPTION' });
  t.throws(() => planDisk({ ...opts(), partitions: [{ name: 'x', typeGuid: 'nope', size: 512 }] }), { code: 'E_DISK_OPTION' });
});

t.test('sgdisk, fdisk and sfdisk read it back', async (t) => {
  const dir = tempDir(t);
  const img = join(dir, 'disk.img');
  const plan = planDisk(opts());
  const res = await writeImage(img, emitDisk(plan));
  t.equal(statSync(img).size, plan.sizeBytes, 'exact length');
  t.equal(res.bytes, plan.sizeBytes);
  t.ok(res.holeBytes > 0, 'gaps written as holes');
  t.ok(statSync(img).blocks * 512 < plan.sizeBytes, 'file is sparse on disk');

  const v = run('sgdisk', ['-v', img]);
  t.equal(v.status, 0, v.out);
  t.match(v.out, /No problems found/);
  t.notMatch(v.out, /CRC|invalid|corrupt/i, 'no warnings from sgdisk');
  const f = run('fdisk', ['-l', img]);
  t.equal(f.status, 0, 'fdisk -l exits 0');
  t.notMatch(f.out, /corrupt|invalid|mismatch/i, 'fdisk -l reports no problem');
  const sf = JSON.parse(run('sfdisk', ['--json', img]).out) as { partitiontable: { id: string; partitions: Array<{ start: number; size: number; type: string; uuid: string; name: string; attrs?: string }> } };
  t.equal(sf.partitiontable.id, plan.diskGuid);
  t.same(sf.partitiontable.partitions.map((x) => [x.start, x.size, x.type, x.uuid, x.name]),
    plan.partitions.map((x) => [x.firstLba, x.lastLba - x.firstLba + 1, x.typeGuid, x.partUuid, x.name]));
  t.match(sf.partitiontable.partitions[0]!.attrs ?? '', /LegacyBIOSBootable/);

  // The content landed at the planned offsets, padded with zeros.
  const bytes = readFileSync(img);
  const p0 = plan.partitions[0]!;
  t.ok(bytes.subarray(p0.offset, p0.offset + esp.length).equals(esp));
  t.ok(bytes.subarray(p0.offset + esp.length, p0.offset + p0.size).every((b) => b === 0));
  const p1 = plan.partitions[1]!;
  t.ok(bytes.subarray(p1.offset, p1.offset + root.length).equals(root));

  // Corrupt one byte of the primary header: sgdisk must complain.
  for (const [what, off] of [['primary header', 512 + GptHeader.offsetOf('firstUsableLba')], ['entry array', 1024 + 60], ['backup header', plan.sizeBytes - 512 + 40]] as const) {
    const bad = Buffer.from(bytes);
    bad[off]! ^= 0x01;
    const badPath = join(dir, 'bad.img');
    writeFileSync(badPath, bad);
    const r = run('sgdisk', ['-v', badPath]);
    t.match(r.out, /CRC|invalid|corrupt/i, `corrupted ${what} detected: ${r.out.split('\n').find((l) => /CRC|invalid|corrupt/i.test(l)) ?? r.out}`);
    const fd = run('fdisk', ['-l', badPath]);
    t.match(fd.out, /corrupt|invalid|CRC/i, `fdisk notices the corrupted ${what}`);
  }
});

t.test('MBR boot code and determinism (golden)', async (t) => {
  const bootCode = Buffer.alloc(440, 0x90);
  const a = await collect(emitDisk(planDisk(opts({ bootCode }))));
  const b = await collect(emitDisk(planDisk(opts({ bootCode }))));
  t.ok(a.equals(b), 'same input, same bytes');
  t.ok(a.subarray(0, 440).equals(bootCode));
  t.equal(a.readUInt16LE(510), 0xaa55);
  t.equal(a[446 + 4], 0xee, 'protective record');
  t.equal(sha256(a), '322aca6c8974019c6b1939c4af9c8ea776e5a9b1d523b2c9b94b47af637589a7', 'golden digest of the small fixed case');
  const c = await collect(emitDisk(planDisk(opts({ bootCode, seed: 'x' }))));
  t.not(sha256(c), sha256(a), 'the golden check can fail');
});

t.test('content larger than its partition is a one-line error', async (t) => {
  const plan = planDisk({ seed: 's', partitions: [{ name: 'p', typeGuid: ESP_TYPE_GUID, size: 512, content: () => fromBytes(Buffer.alloc(1024)) }] });
  await t.rejects(collect(emitDisk(plan)), { code: 'E_CONTENT_SIZE', message: /partition 1 \(p\).*larger/ });
  const dir = tempDir(t);
  await t.rejects(writeImage(join(dir, 'x.img'), emitDisk(plan)), { code: 'E_CONTENT_SIZE' });
  t.same(readdirSync(dir), [], 'nothing left at the output path');
});
