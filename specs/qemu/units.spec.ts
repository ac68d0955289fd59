// QEMU runner pieces that need no VM: the initramfs writer, workload verification, the id grammar,
// the oops scan and the migration-stream decoder on a hand-built stream.
import { test, expect } from '@playwright/test';
import { gunzipSync } from 'node:zlib';
import { cpioNewcGz, readCpioNewc } from '../../harness/runners/qemu/cpio.ts';
import { checkContinuity, expectedValues, parseWorkload, verifyIter } from '../../harness/runners/qemu/workload.ts';
import { parseSideId } from '../../harness/runners/qemu/runner.ts';
import { findOops } from '../../harness/runners/qemu/vm.ts';
import { decodeQemuMigration, summarizeQemuStream } from '../../harness/formats/qemuMigration.ts';
import { hisiV2Payload, syntheticStream, VFIO_IDSTR } from './syntheticStream.ts';

const SIZE = 4096;
const line = (n: number, patch: Record<string, string> = {}) =>
  `ITER ${n} ${Object.entries({ ...expectedValues(n, SIZE), ...patch }).map(([k, v]) => `${k}=${v}`).join(' ')} up=1.0\n`;

test('cpio newc round trip keeps paths, modes, symlinks and bytes', () => {
  const data = Buffer.from('hello\n');
  const gz = cpioNewcGz([{ kind: 'dir', path: 'bin' }, { kind: 'file', path: 'bin/x', data, mode: 0o755 }, { kind: 'symlink', path: 'bin/sh', target: 'x' }]);
  const entries = readCpioNewc(gunzipSync(gz));
  expect(entries.map((e) => e.path)).toEqual(['bin', 'bin/x', 'bin/sh']);
  expect(entries[1]!.mode & 0o777).toBe(0o755);
  expect(entries[1]!.data.equals(data)).toBe(true);
  expect(entries[2]!.data.toString()).toBe('x');
});

test('workload lines: right values pass, a wrong digest, a gap and a repeat are caught', () => {
  expect(verifyIter(parseWorkload(line(7)).iters[0]!, SIZE)).toBeNull();
  expect(verifyIter(parseWorkload(line(7, { gcm: '00' })).iters[0]!, SIZE)).toContain('gcm=00');
  const ok = checkContinuity([{ label: 'a', text: line(1) + line(2) }, { label: 'b', text: line(3) }], SIZE);
  expect(ok.every((c) => c.ok)).toBe(true);
  const gap = checkContinuity([{ label: 'a', text: line(1) + line(2) }, { label: 'b', text: line(4) }], SIZE);
  expect(gap.find((c) => c.name === 'workload-continuity')!.ok).toBe(false);
  const rep = checkContinuity([{ label: 'a', text: line(1) + line(2) }, { label: 'b', text: line(2) }], SIZE);
  expect(rep.find((c) => c.name === 'workload-continuity')!.detail).toContain('ITER 2 after a ITER 2');
  const torn = parseWorkload(line(1) + 'ITER 2 sha2');
  expect(torn.partial).toBe('ITER 2 sha2');
});

test('side ids carry the refusal scenarios as modifiers; bad ones are usage errors', () => {
  const s = parseSideId('qemu/7.2.22+machine=pc-q35-6.2+mem=512+no-workload-port');
  expect(s.build).toBe('qemu/7.2.22');
  expect(s.config).toMatchObject({ machine: 'pc-q35-6.2', memMiB: 512, workloadPort: false, virtioCrypto: false });
  expect(parseSideId('qemu/previous+virtio-crypto').config.virtioCrypto).toBe(true);
  expect(() => parseSideId('hisi-acc/v6.16')).toThrow(/not a qemu runner revision/);
  expect(() => parseSideId('qemu/7.2.22+cpu=max')).toThrow(/unknown qemu modifier/);
});

test('console scan finds a kernel oops and ignores a clean boot', () => {
  expect(findOops('MIGCOMPAT: init\nMIGCOMPAT: workload -> /dev/vport0p1\n')).toBeNull();
  expect(findOops('x\n[   12.3] BUG: kernel NULL pointer dereference, address: 0000000000000000\n')).toContain('NULL pointer');
});

test('QEMU stream decoder: every byte of a hand-built stream, RAM stepped over, VFIO payload decoded as hisi_acc', () => {
  const bytes = syntheticStream();
  const d = decodeQemuMigration(bytes);
  expect(d.problem).toBeNull();
  expect(d.ok).toBe(true);
  expect(d.accounted).toBe(bytes.length);
  expect(d.machineType).toBe('pc-q35-7.2');
  expect(d.sections.map((s) => `${s.type}:${s.kind}:${s.idstr}`)).toEqual([
    'start:ram:ram', `start:vfio:${VFIO_IDSTR}`, 'end:ram:ram', `end:vfio:${VFIO_IDSTR}`, 'full:vmstate:timer',
  ]);
  expect(d.sections[0]!.ram).toEqual({ records: 4, pages: 1, zeroPages: 1, blocks: [{ name: 'pc.ram', length: 8192 }] });
  expect(d.sections[3]!.vfio?.tags).toEqual(['dev_data_state', 'end_of_state']);
  expect(d.vfioDevices).toHaveLength(1);
  expect(Buffer.from(d.vfioDevices[0]!.bytes).equals(hisiV2Payload())).toBe(true);
  expect(d.vfioDevices[0]!.decoded.layout).toBe('v2');
  expect(d.sections[4]!.bodyLength).toBe(24);
  // spans tile the stream with no gap or overlap
  let at = 0;
  for (const s of d.spans) {
    expect(s.offset).toBe(at);
    at += s.length;
  }
  expect(at).toBe(bytes.length);
  expect(summarizeQemuStream(d).pop()).toBe(`all ${bytes.length} bytes accounted for`);
});

test('QEMU stream decoder: truncation, a wrong footer and a foreign section are reported with an offset', () => {
  const bytes = syntheticStream();
  const cut = decodeQemuMigration(bytes.subarray(0, 4200));
  expect(cut.ok).toBe(false);
  expect(cut.problem).toMatch(/truncated/);
  const badFooter = Buffer.from(bytes);
  const firstFooter = decodeQemuMigration(bytes).spans.find((s) => s.what === 'footer')!;
  badFooter.writeUInt32BE(9, firstFooter.offset + 1);
  const f = decodeQemuMigration(badFooter);
  expect(f.ok).toBe(false);
  expect(f.problem).toContain('names section 9');
  expect(f.problemOffset).toBe(firstFooter.offset);
  expect(decodeQemuMigration(Buffer.from('not a stream at all')).problem).toMatch(/not a QEMU migration stream/);
});
