import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collect } from '../src/chunks.js';
import { emitUki, planUki, peChecksum, readPe, ukiSections, type UkiSectionInput } from '../src/pe/index.js';
import { writeImage } from '../src/output.js';
import { run, tempDir } from './helpers.js';

// CI installs systemd-boot-efi; a missing stub must fail the suite, not skip it.
const STUB = process.env.MKIMAGE_EFI_STUB ?? '/usr/lib/systemd/boot/efi/linuxx64.efi.stub';
if (!existsSync(STUB)) throw new Error(`${STUB} missing: apt-get install systemd-boot-efi (or set MKIMAGE_EFI_STUB)`);
const stub = readFileSync(STUB);

const kernel = Buffer.alloc(1_234_567);
for (let i = 0; i < kernel.length; i++) kernel[i] = (i * 2654435761) >>> 24;
const initrd = Buffer.alloc(300_001, 0x5a);
const blob = (name: string, b: Uint8Array): UkiSectionInput => ({ name, size: b.length, open: async function* () { yield b; } });
const osrel = 'ID=debian\nVERSION_ID=12\nPRETTY_NAME="mkimage test"\n';
const cmdline = 'console=ttyS0 root=PARTUUID=00000000-0000-4000-8000-000000000000 ro';

interface ObjSection { name: string; size: number; vma: number; off: number }
function objdumpSections(file: string): ObjSection[] {
  const r = run('objdump', ['-h', file]);
  if (r.status !== 0) throw new Error(r.out);
  const out: ObjSection[] = [];
  for (const m of r.out.matchAll(/^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/gm)) {
    out.push({ name: m[1]!, size: parseInt(m[2]!, 16), vma: parseInt(m[3]!, 16), off: parseInt(m[4]!, 16) });
  }
  return out;
}

t.test('our PE checksum equals the one binutils stored in the stub', async (t) => {
  const pe = readPe(stub, STUB);
  t.not(pe.opt.checkSum, 0, 'the stub carries a checksum');
  t.equal(peChecksum(stub, pe.optOffset + 64), pe.opt.checkSum);
  const flipped = Buffer.from(stub);
  flipped[0x500]! ^= 1;
  t.not(peChecksum(flipped, pe.optOffset + 64), pe.opt.checkSum, 'a changed byte changes it');
});

t.test('UKI: objdump lists the sections, objcopy returns the exact bytes', async (t) => {
  const dir = tempDir(t);
  const kpath = join(dir, 'vmlinuz');
  writeFileSync(kpath, kernel);
  const sections = await ukiSections({ osrel, cmdline, uname: '6.1.0-test-cloud-amd64', initrd, linux: { path: kpath } });
  t.same(sections.map((s) => s.name), ['.osrel', '.cmdline', '.uname', '.initrd', '.linux'], 'ukify order');
  const plan = planUki({ stub, stubName: STUB, sections, checksum: 'pe' });
  const out = join(dir, 'BOOTX64.EFI');
  await writeImage(out, emitUki(plan), { sparse: false });
  const bytes = readFileSync(out);
  t.equal(bytes.length, plan.size, 'exact length');

  const pe = readPe(stub, STUB);
  const FA = pe.opt.fileAlignment;
  const SA = pe.opt.sectionAlignment;
  const secs = objdumpSections(out);
  const ours = secs.slice(pe.sections.length);
  t.same(secs.slice(0, pe.sections.length).map((s) => s.name), pe.sections.map((s) => s.nameText), 'stub sections kept in place');
  t.same(ours.map((s) => s.name), sections.map((s) => s.name), 'new sections listed by objdump');
  let prevEnd = Math.max(...pe.sections.map((s) => s.virtualAddress + s.virtualSize));
  for (const s of ours) {
    t.equal(s.vma % SA, 0, `${s.name} VMA aligned to SectionAlignment`);
    t.equal(s.off % FA, 0, `${s.name} file offset aligned to FileAlignment`);
    t.ok(s.vma >= prevEnd, `${s.name} VMA after the previous section`);
    prevEnd = s.vma + s.size;
  }
  for (const [name, want] of [['.linux', kernel], ['.initrd', initrd], ['.cmdline', Buffer.from(cmdline)], ['.osrel', Buffer.from(osrel)]] as const) {
    const dump = join(dir, `dump${name}`);
    const r = run('objcopy', ['-O', 'binary', `--dump-section`, `${name}=${dump}`, out, join(dir, 'discard')]);
    t.equal(r.status, 0, r.out);
    const got = readFileSync(dump);
    t.ok(got.subarray(0, want.length).equals(want) && got.subarray(want.length).every((b) => b === 0), `${name} bytes round-trip (${got.length} dumped)`);
  }
  const p = run('objdump', ['-p', out]).out;
  t.match(p, /Time\/Date\s+Thu Jan\s+1 00:00:00 1970/, 'zero timestamp');
  t.match(p, new RegExp(`SizeOfImage\\s+0*${plan.sizeOfImage.toString(16)}\\b`), 'SizeOfImage covers the last section');
  const stored = bytes.readUInt32LE(plan.checkSumOffset);
  t.equal(stored, peChecksum(bytes, plan.checkSumOffset), 'streamed checksum = whole-file checksum');
  t.match(p, new RegExp(`CheckSum\\s+0*${stored.toString(16)}\\b`));
});

t.test('default: CheckSum 0 (as ukify), deterministic', async (t) => {
  const mk = () => planUki({ stub, sections: [blob('.cmdline', Buffer.from(cmdline)), blob('.linux', kernel)] });
  const a = await collect(emitUki(mk()));
  const b = await collect(emitUki(mk()));
  t.ok(a.equals(b), 'same bytes twice');
  t.equal(a.readUInt32LE(mk().checkSumOffset), 0);
  const f = join(tempDir(t), 'a.efi');
  writeFileSync(f, a);
  t.same(objdumpSections(f).slice(-2).map((x) => x.name), ['.cmdline', '.linux']);
  t.match(run('objdump', ['-p', f]).out, /CheckSum\s+0+\n/);
});

t.test('bad inputs', async (t) => {
  t.throws(() => planUki({ stub: Buffer.from('#!/bin/sh\necho not a PE file\n'), stubName: 'fake.stub', sections: [] }),
    { code: 'E_PE_FORMAT', message: /^fake\.stub: not a usable PE\/COFF image \(no MZ signature\)/ });
  const elf = readFileSync('/bin/true');
  t.throws(() => planUki({ stub: elf, stubName: '/bin/true', sections: [] }), { code: 'E_PE_FORMAT' });
  t.throws(() => planUki({ stub, sections: [blob('.linux', kernel), blob('.linux', kernel)] }), { code: 'E_DISK_OPTION', message: /given twice/ });
  t.throws(() => planUki({ stub, sections: [blob('.toolongname', kernel)] }), { code: 'E_DISK_OPTION' });
  const liar: UkiSectionInput = { name: '.linux', size: 10, open: async function* () { yield Buffer.alloc(11); } };
  await t.rejects(collect(emitUki(planUki({ stub, sections: [liar] }))), { code: 'E_CONTENT_SIZE' });
  await t.rejects(ukiSections({ linux: { path: '/nonexistent/vmlinuz' } }), { code: 'E_PE_FORMAT', message: /cannot read/ });
});
