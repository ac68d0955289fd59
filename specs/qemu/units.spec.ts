// QEMU runner pieces that need no VM: the initramfs writer, workload verification, the id grammar,
// the oops scan and the migration-stream decoder on a hand-built stream.
import { test, expect } from '@playwright/test';
import { gunzipSync } from 'node:zlib';
import { cpioNewcGz, readCpioNewc } from '../../harness/runners/qemu/cpio.ts';
import { readFileSync } from 'node:fs';
import { checkContinuity, checkHisi, expectedValues, iterDrivers, joinSegments, parseWorkload, verifyIter } from '../../harness/runners/qemu/workload.ts';
import { caseMachine, inventoryVfs, migrationAddress, parseSideId, QemuRunner } from '../../harness/runners/qemu/runner.ts';
import { livePids } from '../../harness/runners/qemu/procs.ts';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { DEFAULT_VM, defaultVm, findOops, qemuArgs, type VmPaths, type VmStart } from '../../harness/runners/qemu/vm.ts';
import { resolveInRoot, sharedLibs } from '../../harness/runners/qemu/image.ts';
import { buildIdFromNote, EM_X86_64, readElf } from '../../harness/util/elf.ts';
import { judge } from '../../harness/oracle/judge.ts';
import { retryReason } from '../../harness/runners/qemu/retry.ts';
import type { Evidence } from '../../harness/oracle/types.ts';
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

test('a line the hop cut in two counts once, on the destination; a lost tail is still caught', () => {
  const l2 = line(2);
  const cut = [{ label: 'a', text: line(1) + l2.slice(0, 20) }, { label: 'b', text: l2.slice(20) + line(3) }];
  expect(joinSegments(cut).map((s) => parseWorkload(s.text).iters.map((i) => i.n))).toEqual([[1], [2, 3]]);
  const checks = checkContinuity(cut, SIZE);
  expect(checks.map((c) => [c.name, c.ok])).toEqual([['workload-continuity', true], ['workload-results', true]]);
  // the destination lost the rest of ITER 2: a corrupt line, not a silent pass
  const lost = checkContinuity([cut[0]!, { label: 'b', text: line(3) }], SIZE);
  expect(lost.every((c) => c.ok)).toBe(false);
});

test('a case runs again for an oops, or a destination guest with wrong results or no progress with no VF under TCG; never when a device or KVM could be the cause', () => {
  const ev = (o: Partial<Evidence>): Evidence => ({
    caseId: 'c', seed: 1, stream: null, destination: { accepted: true, errno: null, stage: 'qemu-load', reason: '' }, srcFinalState: 'postmigrate',
    dstFinalState: 'RUNNING', guestOn: 'dst', hang: null, harnessError: null,
    timeline: [{ seq: 0, t: 0, side: 'src', kind: 'note', detail: { started: 'vm0', vfio: null } }],
    checks: [{ name: 'dst-running', ok: true, detail: '' }, { name: 'workload-results', ok: false, detail: 'vm1: ITER 7 sha512= expected 3146…' }], ...o,
  });
  expect(retryReason(ev({}), 'tcg')).toMatch(/^destination guest corrupted with no device passed through .*: vm1: ITER 7 sha512=/);
  const stalled = [{ name: 'dst-running', ok: true, detail: '' }, { name: 'workload-continues', ok: false, detail: 'workload did not continue on the destination: vm1: no ITER 3 within 30000 ms (last 0)' }];
  expect(retryReason(ev({ checks: stalled }), 'tcg')).toMatch(/no ITER 3 within/);
  expect(retryReason(ev({ harnessError: 'guest oops (infrastructure …): BUG: …' }), 'kvm')).toMatch(/^guest oops/);
  // what the race does not explain: KVM, a VF in the guest, a lost iteration, a clean run
  expect(retryReason(ev({}), 'kvm')).toBeNull();
  expect(retryReason(ev({ timeline: [{ seq: 0, t: 0, side: 'src', kind: 'note', detail: { started: 'vm0', vfio: '0000:76:00.1' } }] }), 'tcg')).toBeNull();
  expect(retryReason(ev({ checks: [{ name: 'workload-results', ok: false, detail: '' }, { name: 'workload-continuity', ok: false, detail: 'gap' }] }), 'tcg')).toBeNull();
  expect(retryReason(ev({ checks: [{ name: 'workload-results', ok: true, detail: '' }] }), 'tcg')).toBeNull();
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
  // arm64 wording
  expect(findOops('[    9.1] Unable to handle kernel paging request at virtual address dead000000000108\n')).toContain('paging request');
  expect(findOops('[    9.2] Internal error: Oops: 96000044 [#1] SMP\n')).toContain('Internal error');
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
const build = (b: Partial<QemuBuild> = {}): QemuBuild => ({ id: 'qemu/7.2.22', version: '7.2.22', debVersion: 'x', arch: 'x86_64', binary: 'qemu-system-x86_64', env: {}, args: [], installed: true, ...b });
const image = { dir: '/cache/img-key', kernel: '/cache/img-key/vmlinuz', initrd: '/cache/img-key/initrd.cpio.gz', arch: 'x86_64' } as GuestImage;
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

// ---------- aarch64, lab architectures, HiSilicon driver checks ----------

test('aarch64 VMs: machine virt with a GICv3 under TCG with -cpu max (cheap pointer auth), -cpu host with KVM; the console is the PL011', () => {
  const arm = (accel: 'tcg' | 'kvm') => qemuArgs({ ...start(defaultVm('aarch64', accel), build({ arch: 'aarch64', binary: 'qemu-system-aarch64' })), image: { ...image, arch: 'aarch64' } }, paths('/r'));
  const opt = (args: string[], k: string) => args[args.indexOf(k) + 1];
  const tcg = arm('tcg');
  expect(opt(tcg, '-machine')).toBe('virt-7.2,gic-version=3');
  expect(opt(tcg, '-accel')).toBe('tcg');
  expect(opt(tcg, '-cpu')).toBe('max,pauth-impdef=on');
  expect(opt(tcg, '-append')).toMatch(/^console=ttyAMA0 /);
  const kvm = arm('kvm');
  expect([opt(kvm, '-machine'), opt(kvm, '-accel'), opt(kvm, '-cpu')]).toEqual(['virt-7.2,gic-version=3', 'kvm', 'host']);
  // x86_64 is what it always was
  const x86 = qemuArgs(start(), paths('/r'));
  expect([opt(x86, '-machine'), opt(x86, '-accel'), opt(x86, '-cpu')]).toEqual(['pc-q35-7.2', 'tcg', 'qemu64']);
  expect(opt(x86, '-append')).toMatch(/^console=ttyS0 /);
});

test('+machine-version names the same refusal on either architecture; the side keeps its architecture', () => {
  expect(parseSideId('qemu/7.2.22+machine-version=6.2').config.machine).toBe('pc-q35-6.2');
  const arm = parseSideId('qemu/7.2.22+machine-version=6.2+mem=512', defaultVm('aarch64'));
  expect(arm.config).toMatchObject({ arch: 'aarch64', machine: 'virt-6.2', memMiB: 512, cpu: 'max,pauth-impdef=on' });
  expect(() => parseSideId('qemu/7.2.22+machine-version=six')).toThrow(/unknown qemu modifier/);
});

test('a lab case takes its architecture and accelerator from its hosts; contradictions are usage errors', () => {
  const inv = parseInventory(`
hosts:
  - { name: x1, local: true, kernel: k, vfs: [0000:7a:01.1] }
  - { name: k1, ssh: { host: 10.0.0.1 }, kernel: 6.1.0-57-arm64, vfs: [0000:76:00.1], arch: aarch64, accel: kvm }
  - { name: k2, ssh: { host: 10.0.0.2 }, kernel: 6.1.0-57-arm64, vfs: [0000:76:00.1], arch: arm64, accel: kvm }
  - { name: k3, ssh: { host: 10.0.0.3 }, kernel: 6.1.0-57-arm64, vfs: [0000:76:00.1], arch: aarch64 }
`);
  const [x1, k1, k2, k3] = inv.hosts;
  const ids = { src: 'a', dst: 'b' };
  expect(caseMachine(ids, [])).toEqual({ arch: 'x86_64', accel: 'tcg' });
  expect(caseMachine({ ...ids, arch: 'aarch64' }, [])).toEqual({ arch: 'aarch64', accel: 'tcg' });
  expect(caseMachine(ids, [k1!, k2!])).toEqual({ arch: 'aarch64', accel: 'kvm' });
  expect(caseMachine({ ...ids, arch: 'aarch64' }, [k3!])).toEqual({ arch: 'aarch64', accel: 'tcg' });
  expect(() => caseMachine(ids, [x1!, k1!])).toThrow(/different architectures \(x1: x86_64, k1: aarch64\)/);
  expect(() => caseMachine(ids, [k1!, k3!])).toThrow(/different accelerators/);
  expect(() => caseMachine({ ...ids, arch: 'x86_64' }, [k1!])).toThrow(/asks for x86_64, its hosts run aarch64/);
  // an aarch64 host's default QEMU is qemu-system-aarch64
  expect(hostQemuArgv(k1!)).toEqual(['qemu-system-aarch64']);
  expect(hostQemuArgv(x1!)).toEqual(['qemu-system-x86_64']);
  const bad = (field: string) => () => parseInventory(`hosts:\n  - { name: h, ssh: { host: h }, kernel: k, vfs: [0000:76:00.1], ${field} }\n`);
  expect(bad('arch: riscv64')).toThrow(/arch: expected x86_64 or aarch64/);
  expect(bad('accel: hvf')).toThrow(/accel: expected tcg or kvm/);
  expect(bad('sysfs: relative/sys')).toThrow(/sysfs: expected an absolute path/);
  expect(bad('commands: { insmod: "sudo insmod" }')).toThrow(/commands\.insmod: expected an argument array/);
  expect(bad('commands: { reboot: [reboot] }')).toThrow(/commands\.reboot: unknown key \(expected one of insmod, rmmod, modprobe, write\)/);
});

const hisiLine = (mods: string, pci: string) => `HISI modules=${mods} pci=${pci}\n`;
const hwLine = (n: number, drv: string, hw: string) => line(n).replace(' up=', ` drv=${drv} hw=${hw} up=`);
const GENERIC = 'sha256-generic|sha512-generic|hmac(sha256-generic)|cbc(aes-generic)|gcm_base(ctr(aes-generic),ghash-generic)';
const SEC = 'sha256-generic|sha512-generic|hmac(sha256-generic)|hisi_sec_cbc(aes)|hisi_sec_gcm(aes)';
const MODS = ['hisi_qm', 'hisi_sec2', 'hisi_hpre', 'hisi_zip'];

test('HISI line and per-iteration drivers parse; the driver check needs no VF here and says so', () => {
  const text = hisiLine('hisi_zip,hisi_hpre,hisi_sec2,hisi_qm', 'hisi_hpre:0,hisi_sec2:0,hisi_zip:0') + hwLine(1, GENERIC, '-');
  const log = parseWorkload(text);
  expect(log.other).toEqual([]);
  expect(log.hisi).toEqual({ modules: ['hisi_zip', 'hisi_hpre', 'hisi_sec2', 'hisi_qm'], pci: { hisi_hpre: 0, hisi_sec2: 0, hisi_zip: 0 } });
  expect(iterDrivers(log.iters[0]!)['cbc(aes)']).toBe('cbc(aes-generic)');
  expect(iterDrivers(log.iters[0]!)['gcm(aes)']).toBe('gcm_base(ctr(aes-generic),ghash-generic)');
  const ok = checkHisi([{ label: 'vm0', text }], log.hisi, { modules: MODS, vfs: 0 });
  expect(ok.map((c) => [c.name, c.ok])).toEqual([['hisi-drivers', true]]);
  expect(ok[0]!.detail).toMatch(/^no VF present: .*PCI drivers hisi_hpre:0, hisi_sec2:0, hisi_zip:0 \(registered, bound to no device\)/);
  // a module that did not load, or a PCI driver that did not register, fails even without a VF
  const missing = checkHisi([{ label: 'vm0', text }], { modules: ['hisi_qm'], pci: { hisi_sec2: 0 } }, { modules: MODS, vfs: 0 });
  expect(missing[0]).toMatchObject({ ok: false });
  expect(missing[0]!.detail).toMatch(/not loaded: hisi_sec2, hisi_hpre, hisi_zip; PCI drivers not registered: hisi_hpre, hisi_zip/);
  expect(checkHisi([], null, { modules: MODS, vfs: 0 })[0]).toMatchObject({ name: 'hisi-drivers', ok: false });
  // an x86_64 image has no HiSilicon drivers: no check at all
  expect(checkHisi([{ label: 'vm0', text }], log.hisi, { modules: [], vfs: 0 })).toEqual([]);
});

test('with a SEC VF: hisi_sec_* must serve cbc(aes) and gcm(aes) before and after the hop, with the request counter growing; a generic answer is broken', () => {
  const report = { modules: MODS, pci: { hisi_sec2: 1, hisi_hpre: 0, hisi_zip: 0 } };
  const src = hwLine(1, SEC, '3') + hwLine(2, SEC, '6');
  const good = checkHisi([{ label: 'vm0', text: src }, { label: 'vm1', text: hwLine(3, SEC, '9') }], report, { modules: MODS, vfs: 1 });
  expect(good.map((c) => [c.name, c.ok])).toEqual([['hisi-drivers', true], ['hisi-served', true]]);
  expect(good[1]!.detail).toMatch(/3 iterations served by hisi_sec2/);
  // after the hop the generic driver answered: the VF silently stopped being used
  const silent = checkHisi([{ label: 'vm0', text: src }, { label: 'vm1', text: hwLine(3, GENERIC, '6') }], report, { modules: MODS, vfs: 1 });
  expect(silent[1]).toMatchObject({ name: 'hisi-served', ok: false });
  expect(silent[1]!.detail).toMatch(/vm1 ITER 3: cbc\(aes\) answered by cbc\(aes-generic\), not hisi_sec2: the VF silently stopped being used/);
  const evidence = { caseId: 'x', seed: 0, stream: null, timeline: [], destination: { accepted: true, errno: null, stage: 'qemu-load', reason: '' },
    srcFinalState: 'postmigrate', dstFinalState: 'RUNNING', guestOn: 'dst' as const, checks: silent, hang: null, harnessError: null };
  const v = judge(evidence);
  expect(v.outcome).toBe('broken');
  expect(v.reason).toMatch(/hisi-served: .*silently stopped being used/);
  // the counter must grow: requests that never reached the device are not served by it
  const stuck = checkHisi([{ label: 'vm0', text: src }, { label: 'vm1', text: hwLine(3, SEC, '6') }], report, { modules: MODS, vfs: 1 });
  expect(stuck[1]!.detail).toMatch(/SEC request counter 6 did not grow since vm0 ITER 2/);
  // a VF the guest drivers did not bind
  const unbound = checkHisi([{ label: 'vm0', text: src }], { modules: MODS, pci: { hisi_sec2: 0, hisi_hpre: 0, hisi_zip: 0 } }, { modules: MODS, vfs: 1 });
  expect(unbound[0]!.detail).toMatch(/1 VF\(s\) passed through, the HiSilicon drivers bound 0/);
  // an HPRE VF carries none of the workload's algorithms: bound is all there is to check
  const hpre = checkHisi([{ label: 'vm0', text: hwLine(1, GENERIC, '-') }], { modules: MODS, pci: { hisi_sec2: 0, hisi_hpre: 1, hisi_zip: 0 } }, { modules: MODS, vfs: 1 });
  expect(hpre.map((c) => [c.name, c.ok])).toEqual([['hisi-drivers', true], ['hisi-served', true]]);
  expect(hpre[1]!.detail).toMatch(/no SEC VF bound/);
});

test('ELF: interpreter and DT_NEEDED of this machine\'s binaries, the libraries found inside a root; build ids from notes', () => {
  const kcapi = readElf(readFileSync('/usr/bin/kcapi-dgst'));
  expect(kcapi.machine).toBe(EM_X86_64);
  expect(kcapi.interpreter).toMatch(/ld-linux-x86-64\.so\.2$/);
  expect(kcapi.needed).toEqual(expect.arrayContaining(['libkcapi.so.1', 'libc.so.6']));
  expect(readElf(readFileSync('/bin/busybox')).needed).toEqual([]); // static
  const libs = sharedLibs('/', ['/usr/bin/kcapi-dgst'], 'x86_64-linux-gnu');
  expect([...libs.keys()].map((k) => k.split('/').pop()).sort()).toEqual(['ld-linux-x86-64.so.2', 'libc.so.6', 'libkcapi.so.1']);
  for (const f of libs.values()) expect(readElf(readFileSync(f)).machine).toBe(EM_X86_64);
  expect(resolveInRoot('/', 'usr/bin/kcapi-dgst')).toBe('/usr/bin/kcapi-dgst');
  expect(resolveInRoot('/', 'no/such/file')).toBeNull();
  const desc = Buffer.from('00112233445566778899aabbccddeeff00112233', 'hex');
  const hdr = Buffer.alloc(12);
  hdr.writeUInt32LE(4, 0);
  hdr.writeUInt32LE(20, 4);
  hdr.writeUInt32LE(3, 8);
  expect(buildIdFromNote(Buffer.concat([hdr, Buffer.from('GNU\0'), desc]))).toBe(desc.toString('hex'));
  expect(() => readElf(Buffer.from('#!/bin/sh\n'.padEnd(80)), 'script')).toThrow(/script is not an ELF file/);
});

test('a machine type of the other architecture is bad input before anything starts', async () => {
  const spec = { src: 'qemu/installed', dst: 'qemu/installed+machine=pc-q35-6.2', workload: 'kernel-crypto' as const, scenario: 'single-hop' as const,
    transfer: 'unix', device: DEFAULT_DEVICE, requests: 0, inflight: 0, requestSize: 0, seed: 0 };
  await expect(new QemuRunner().prepare({ ...spec, arch: 'aarch64' })).rejects.toThrow(/'qemu\/installed\+machine=pc-q35-6\.2': pc-q35-6\.2 is not an aarch64 machine type \(use \+machine-version=X\.Y/);
  await expect(new QemuRunner().prepare({ ...spec, dst: 'qemu/installed+machine=virt-6.2' })).rejects.toThrow(/virt-6\.2 is not an x86_64 machine type/);
  expect(livePids()).toEqual([]);
});
