// QEMU runner pieces that need no VM: the initramfs writer, workload verification, the id grammar,
// the oops scan and the migration-stream decoder on a hand-built stream.
import { test, expect } from '@playwright/test';
import { gunzipSync } from 'node:zlib';
import { cpioNewcGz, readCpioNewc } from '../../harness/runners/qemu/cpio.ts';
import { checkContinuity, expectedValues, parseWorkload, verifyIter } from '../../harness/runners/qemu/workload.ts';
import { inventoryVfs, migrationAddress, parseSideId } from '../../harness/runners/qemu/runner.ts';
import { DEFAULT_VM, findOops, qemuArgs, type VmPaths, type VmStart } from '../../harness/runners/qemu/vm.ts';
import { envArgv, guardedArgv, GUARD_SCRIPT, hostQemuArgv } from '../../harness/runners/qemu/remote.ts';
import { parseInventory } from '../../harness/runners/lab/inventory.ts';
import { quoteArgv } from '../../harness/runners/lab/transport.ts';
import type { QemuBuild } from '../../harness/runners/qemu/builds.ts';
import type { GuestImage } from '../../harness/runners/qemu/image.ts';
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

// ---- lab mode: VF passthrough and remote command lines as argument arrays (no VF and no VM needed) ----

const LAB_INV = `
hosts:
  - name: here
    local: true
    kernel: k1
    vfs: [0000:7a:01.1]
  - name: kunpeng-b
    ssh: { host: 10.0.0.2 }
    kernel: k2
    vfs: [0000:76:00.1, 0000:76:00.2]
    workdir: /var/tmp/mc
    qemu: [/opt/qemu/bin/qemu-system-x86_64, -L, /opt/qemu/share]
    env: { QEMU_MODULE_DIR: /opt/qemu/lib }
`;
const build = (b: Partial<QemuBuild> = {}): QemuBuild => ({ id: 'qemu/7.2.22', version: '7.2.22', debVersion: 'x', binary: 'qemu-system-x86_64', env: {}, args: [], installed: true, ...b });
const image = { dir: '/cache/img-key', kernel: '/cache/img-key/vmlinuz', initrd: '/cache/img-key/initrd.cpio.gz' } as GuestImage;
const paths = (root: string): VmPaths => ({ file: (n) => `${root}/vm1-${n}`, qmp: `${root}/vm1-qmp.sock`, kernel: `${root}/vmlinuz`, initrd: `${root}/initrd.cpio.gz` });
const start = (config = DEFAULT_VM, b = build()): VmStart => ({ name: 'vm1', dir: '/local/run', build: b, image, config });
/** the values of every `-device` option, in order */
const devices = (args: string[]) => args.flatMap((a, i) => (args[i - 1] === '-device' ? [a] : []));

test('vfio: +vfio= passes each VF as its own -device vfio-pci argument, after the other devices, in order', () => {
  const side = parseSideId('qemu/7.2.22+vfio=0000:7a:01.1,0000:7a:01.2');
  const args = qemuArgs(start(side.config), paths('/r'));
  expect(devices(args)).toEqual([
    'virtio-serial-pci,id=vser0', `virtserialport,bus=vser0.0,chardev=wl0,name=org.migcompat.workload`,
    'vfio-pci,host=0000:7a:01.1,id=vf0', 'vfio-pci,host=0000:7a:01.2,id=vf1',
  ]);
  expect(args.filter((a) => a.includes('vfio-pci'))).toHaveLength(2); // one element each, never joined into a string
  expect(devices(qemuArgs(start(), paths('/r'))).some((d) => d.startsWith('vfio-pci'))).toBe(false);
  expect(() => parseSideId('qemu/7.2.22+vfio=0000:7a:01.1;reboot')).toThrow(/not a PCI address/);
  expect(() => parseSideId('qemu/7.2.22+vfio=7a:01.1')).toThrow(/not a PCI address/);
});

test('vfio: +vfs takes the VFs of the side\'s inventory host; hosts and counts are checked', () => {
  const inv = parseInventory(LAB_INV);
  const b = inv.hosts[1]!;
  expect(parseSideId('qemu/installed@kunpeng-b+vfs')).toMatchObject({ build: 'qemu/installed', host: 'kunpeng-b', hostVfs: 1 });
  expect(inventoryVfs(parseSideId('qemu/installed@kunpeng-b+vfs'), b)).toEqual(['0000:76:00.1']);
  expect(inventoryVfs(parseSideId('qemu/installed@kunpeng-b+vfs=2'), b)).toEqual(['0000:76:00.1', '0000:76:00.2']);
  expect(inventoryVfs(parseSideId('qemu/installed@kunpeng-b'), b)).toEqual([]); // no +vfs: no passthrough
  expect(() => inventoryVfs(parseSideId('qemu/installed@kunpeng-b+vfs=3'), b)).toThrow(/lists 2 VF/);
  expect(() => parseSideId('qemu/installed+vfs')).toThrow(/needs a lab host/);
  expect(() => parseSideId('qemu/installed@bad;host')).toThrow(/not a qemu runner revision/);
  const cfg = { ...DEFAULT_VM, vfio: inventoryVfs(parseSideId('qemu/installed@kunpeng-b+vfs=2'), b) };
  expect(devices(qemuArgs(start(cfg), paths('/r'))).slice(-2)).toEqual(['vfio-pci,host=0000:76:00.1,id=vf0', 'vfio-pci,host=0000:76:00.2,id=vf1']);
  expect(migrationAddress(b)).toBe('10.0.0.2');
  expect(migrationAddress(inv.hosts[0]!)).toBe('127.0.0.1');
  // an inventory's mediated device goes to QEMU by its sysfs path, as vfio-pci takes an mdev
  const uuid = '6e1e0c3a-4c34-4b8e-9a51-000000000001';
  const m = parseInventory(LAB_INV.replace('vfs: [0000:76:00.1, 0000:76:00.2]', `vfs: [mdev:${uuid}]`)).hosts[1]!;
  const mcfg = { ...DEFAULT_VM, vfio: inventoryVfs(parseSideId('qemu/installed@kunpeng-b+vfs'), m) };
  expect(devices(qemuArgs(start(mcfg), paths('/r'))).at(-1)).toBe(`vfio-pci,sysfsdev=/sys/bus/mdev/devices/${uuid},id=vf0`);
});

test('remote QEMU: one argument array (guard, env, host QEMU argv, remote paths), each element quoted alone for the SSH exec', () => {
  const b = parseInventory(LAB_INV).hosts[1]!;
  const qemu = hostQemuArgv(b);
  const cfg = { ...DEFAULT_VM, vfio: ['0000:76:00.1'] };
  const args = qemuArgs(start(cfg, build({ binary: qemu[0]!, args: qemu.slice(1) })), paths('/var/tmp/mc/qemu-run'));
  const argv = guardedArgv(envArgv(b, [qemu[0]!, ...args]));
  expect(argv.slice(0, 8)).toEqual(['sh', '-c', GUARD_SCRIPT, 'migcompat-guard', 'env', 'QEMU_MODULE_DIR=/opt/qemu/lib', '/opt/qemu/bin/qemu-system-x86_64', '-L']);
  expect(args).toContain('/var/tmp/mc/qemu-run/vmlinuz');
  expect(args).toContain('unix:/var/tmp/mc/qemu-run/vm1-qmp.sock,server=on,wait=off');
  expect(args).toContain('file,id=wl0,path=/var/tmp/mc/qemu-run/vm1-workload.log');
  expect(args.join(' ')).not.toContain('/local/run'); // no path of the harness machine leaks into a remote command
  expect(args).toContain('vfio-pci,host=0000:76:00.1,id=vf0');
  // an inventory value with shell syntax stays one quoted word
  const evil = parseInventory(LAB_INV.replace('/opt/qemu/bin/qemu-system-x86_64', `"/opt/q'; reboot #"`)).hosts[1]!;
  const q = quoteArgv(guardedArgv(envArgv(evil, hostQemuArgv(evil))));
  expect(q).toContain(`'/opt/q'\\''; reboot #'`);
  // inventory fields of lab mode are validated
  expect(() => parseInventory(LAB_INV.replace('ssh: { host: 10.0.0.2 }', 'ssh: { host: 10.0.0.2 }\n    migrationAddress: "10.0.0.2; x"'))).toThrow(/migrationAddress/);
  expect(() => parseInventory(LAB_INV.replace('ssh: { host: 10.0.0.2 }', 'ssh: { host: 10.0.0.2, hostKey: "md5:aa" }'))).toThrow(/hostKey/);
  expect(() => parseInventory(LAB_INV.replace('local: true', 'local: "yes"'))).toThrow(/local: expected true or false/);
  expect(() => parseInventory(LAB_INV.replace('qemu: [/opt/qemu/bin/qemu-system-x86_64, -L, /opt/qemu/share]', 'qemu: "qemu-system-x86_64 -L x"'))).toThrow(/qemu: expected an argument array/);
});
