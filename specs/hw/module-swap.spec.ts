// Putting a kernel module build in place on a lab host for a run, and back afterwards
// (harness/runners/lab/moduleSwap.ts): a throwaway sshd on 127.0.0.1 plays the Kunpeng host, and its
// insmod/rmmod/modprobe/sysfs writes are stand-ins (module-standin.mjs) acting on a fake sysfs tree,
// so nothing on this machine is loaded or unbound. The build is the real one: hisi_qm,
// hisi_acc_vfio_pci and what they need, for Debian's arm64 6.1 headers. The whole swap runs over SSH;
// the failure paths and the CLI run the same steps through the local transport (each SSH command
// starts a login shell on the host, which is slow on a loaded machine).
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInventory, type LabHost } from '../../harness/runners/lab/inventory.ts';
import { LocalTransport, SshTransport } from '../../harness/runners/lab/transport.ts';
import { StepError, withModuleSwap, type SwapReport } from '../../harness/runners/lab/moduleSwap.ts';
import type { ModuleBuild } from '../../harness/kbuild/kmod.ts';
import { buildIdFromNote } from '../../harness/util/elf.ts';
import { startSshd, type TestSshd } from '../qemu/sshd.ts';
import { debianArm64HostBuild } from '../ktree/trees.ts';

test.describe.configure({ mode: 'serial', timeout: 600_000 });

const STANDIN = fileURLToPath(new URL('./module-standin.mjs', import.meta.url));
const PF = '0000:75:00.0';
const VFS = ['0000:75:00.1', '0000:75:00.2'];

let sshd: TestSshd;
let build: ModuleBuild;
let t: SshTransport;

test.beforeAll(async () => {
  build = await debianArm64HostBuild();
  sshd = await startSshd();
  t = new SshTransport();
});

test.afterAll(async () => {
  await t?.close();
  await sshd?.stop();
});

interface FakeHost {
  dir: string;
  root: string;
  host: LabHost;
  calls(): { op: string; args: string[] }[];
  /** every call as single operations ("rmmod a b" -> "rmmod a", "rmmod b"; writes as "write <file>=<value>") */
  ops(): string[];
}

/** A fake host: a SEC PF with two VFs bound to hisi_acc_vfio_pci through driver_override, the host's own modules loaded. */
function fakeHost(): FakeHost {
  const dir = mkdtempSync(join(tmpdir(), 'mcswap-'));
  const root = join(dir, 'sys');
  mkdirSync(join(root, 'bus/pci/devices', PF), { recursive: true });
  mkdirSync(join(root, 'bus/pci/drivers'), { recursive: true });
  writeFileSync(join(root, 'bus/pci/devices', PF, 'kind'), 'sec\n');
  writeFileSync(join(root, 'bus/pci/devices', PF, 'sriov_numvfs'), '0\n');
  const sh = (...a: string[]) => {
    const r = spawnSync(process.execPath, [STANDIN, root, ...a], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`fixture: ${a.join(' ')}: ${r.stderr}`);
  };
  sh('modprobe', 'hisi_acc_vfio_pci');
  sh('write', join(root, 'bus/pci/devices', PF, 'sriov_numvfs'), '2');
  for (const vf of VFS) {
    sh('write', join(root, 'bus/pci/devices', vf, 'driver/unbind'), vf);
    sh('write', join(root, 'bus/pci/devices', vf, 'driver_override'), 'hisi_acc_vfio_pci');
    sh('write', join(root, 'bus/pci/drivers_probe'), vf);
  }
  rmSync(join(dir, 'calls.log'), { force: true });
  const cmd = (op: string) => `[${JSON.stringify(process.execPath)}, ${JSON.stringify(STANDIN)}, ${JSON.stringify(root)}, ${op}]`;
  const host = parseInventory(`
hosts:
  - name: kunpeng
    ssh: { host: 127.0.0.1, port: ${sshd.port}, user: root, key: ${sshd.clientKey}, hostKey: "${sshd.hostKeyFingerprint}" }
    kernel: ${build.kernelRelease}
    arch: aarch64
    vfs: [${VFS.join(', ')}]
    workdir: ${join(dir, 'work')}
    sysfs: ${root}
    commands: { insmod: ${cmd('insmod')}, rmmod: ${cmd('rmmod')}, modprobe: ${cmd('modprobe')}, write: ${cmd('write')} }
`, 'swap inventory').hosts[0]!;
  const calls = () => (existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  const ops = () => calls().flatMap((c) => {
    if (c.op === 'write') return c.args.flatMap((a: string, i: number) => (i % 2 ? [] : [`write ${basename(a)}=${c.args[i + 1]!.trim()}`]));
    return c.args.map((a: string) => `${c.op} ${basename(a)}`);
  });
  return { dir, root, host, calls, ops };
}

const driverOf = (f: FakeHost, bdf: string) => {
  try {
    return basename(readlinkSync(join(f.root, 'bus/pci/devices', bdf, 'driver')));
  } catch {
    return null;
  }
};
const loadedId = (f: FakeHost, name: string) => {
  const p = join(f.root, 'module', name, 'notes/.note.gnu.build-id');
  return existsSync(p) ? buildIdFromNote(readFileSync(p)) : undefined;
};
const standinId = (name: string) => Buffer.from(`installed-${name}`).toString('hex').padEnd(40, '0').slice(0, 40);
const HISI = ['hisi_qm', 'hisi_sec2', 'hisi_hpre', 'hisi_zip', 'hisi_acc_vfio_pci'];

/** The host as it was before any swap: the host's own builds loaded, both VFs on hisi_acc_vfio_pci by override. */
function expectOriginal(f: FakeHost) {
  for (const m of HISI) expect(loadedId(f, m), m).toBe(standinId(m));
  for (const vf of VFS) {
    expect(driverOf(f, vf), vf).toBe('hisi_acc_vfio_pci');
    expect(readFileSync(join(f.root, 'bus/pci/devices', vf, 'driver_override'), 'utf8').trim()).toBe('hisi_acc_vfio_pci');
  }
  expect(readFileSync(join(f.root, 'bus/pci/devices', PF, 'sriov_numvfs'), 'utf8').trim()).toBe('2');
  expect(driverOf(f, PF)).toBe('hisi_sec2');
}

test('the whole build goes in for the run (VFs unbound, modules swapped, VFs re-created and bound) and the host is restored', async () => {
  const f = fakeHost();
  try {
    expectOriginal(f);
    let during: Record<string, unknown> = {};
    const { result, report } = await withModuleSwap(t, [f.host], build, async () => {
      during = {
        ids: Object.fromEntries(HISI.map((m) => [m, loadedId(f, m)])),
        vfs: VFS.map((vf) => driverOf(f, vf)),
        pf: driverOf(f, PF),
      };
      return 'ran';
    });
    expect(result).toBe('ran');
    // during the run the kernel held exactly the build's files, and the VFs were on its VFIO driver
    expect(during.ids).toEqual(Object.fromEntries(build.modules.map((m) => [m.name, m.buildId])));
    expect(during.vfs).toEqual(['hisi_acc_vfio_pci', 'hisi_acc_vfio_pci']);
    expect(during.pf).toBe('hisi_sec2');
    expect(report.restored, report.problems.join('; ')).toBe(true);
    expect(report.before[0]!.vfs.map((v) => v.driver)).toEqual(['hisi_acc_vfio_pci', 'hisi_acc_vfio_pci']);
    expect(report.before[0]!.pfs).toEqual({ [PF]: 2 });
    expectOriginal(f);
    // the order the kernel needs: VFs off, the users of hisi_qm out before it, dependencies in first, VFs back last
    const seq = f.ops();
    const swapIn = seq.slice(0, seq.indexOf('insmod hisi-acc-vfio-pci.ko') + 1);
    expect(swapIn.slice(0, 2)).toEqual([`write unbind=${VFS[0]}`, `write unbind=${VFS[1]}`]);
    const rm = swapIn.filter((s) => s.startsWith('rmmod'));
    expect(rm[0]).toBe('rmmod hisi_acc_vfio_pci');
    expect(rm.at(-1)).toBe('rmmod hisi_qm');
    const ins = swapIn.filter((s) => s.startsWith('insmod'));
    expect(ins[0]).toBe('insmod hisi_qm.ko');
    expect(ins.at(-1)).toBe('insmod hisi-acc-vfio-pci.ko');
    for (const e of build.external) expect(seq, `modprobe ${e} before the build's modules`).toContain(`modprobe ${e}`);
    // hisi_sec2 went out, so its VFs went with it: they were created again before binding
    expect(seq.indexOf('write sriov_numvfs=2')).toBeGreaterThan(seq.indexOf('insmod hisi-acc-vfio-pci.ko'));
    // the restore loads the host's own modules by name (modprobe), never a file of the build
    const restore = report.steps.filter((s) => s.phase === 'restore').map((s) => s.action);
    expect(restore.find((a) => a.startsWith('modprobe'))).toBe('modprobe hisi_qm hisi_sec2 hisi_hpre hisi_zip hisi_acc_vfio_pci');
    expect(restore.some((a) => a.startsWith('insmod'))).toBe(false);
    await test.info().attach('swap-report.json', { body: JSON.stringify(report, null, 1), contentType: 'application/json' });
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('a failing run still restores the host, and the run\'s own error comes back', async () => {
  const f = fakeHost();
  try {
    let report: SwapReport | undefined;
    const err = await withModuleSwap(new LocalTransport(), [f.host], build, async () => {
      throw new Error('the lab run crashed');
    }).catch((e: Error & { swapReport?: SwapReport }) => {
      report = e.swapReport;
      return e;
    });
    expect((err as Error).message).toBe('the lab run crashed');
    expect(report?.restored, report?.problems.join('; ')).toBe(true);
    expectOriginal(f);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('a swap step that fails skips the run and puts the host\'s own modules back', async () => {
  const f = fakeHost();
  try {
    writeFileSync(join(f.dir, 'fail'), `insmod ${join(f.host.workdir, 'modules', build.hash, 'hisi-acc-vfio-pci.ko')}\n`);
    let ran = false;
    const e = await withModuleSwap(new LocalTransport(), [f.host], build, async () => {
      ran = true;
    }).catch((x: Error & { swapReport?: SwapReport }) => x);
    expect(ran).toBe(false);
    expect(e).toBeInstanceOf(StepError);
    expect((e as Error).message).toMatch(/insmod hisi_acc_vfio_pci failed/);
    const report = (e as { swapReport?: SwapReport }).swapReport!;
    expect(report.restored, report.problems.join('; ')).toBe(true);
    expect(report.steps.find((s) => !s.ok)?.action).toBe('insmod hisi_acc_vfio_pci');
    rmSync(join(f.dir, 'fail'));
    expectOriginal(f);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});

test('migcompat lab --module --swap-only: only the VFIO driver is replaced for the run; the report is written next to the results', async () => {
  const f = fakeHost();
  const out = mkdtempSync(join(tmpdir(), 'mcswap-out-'));
  try {
    const inv = join(f.dir, 'inventory.yaml');
    const h = f.host;
    writeFileSync(inv, `hosts:
  - name: ${h.name}
    ssh: { host: 127.0.0.1, port: ${sshd.port}, user: root, key: ${sshd.clientKey}, hostKey: "${sshd.hostKeyFingerprint}" }
    kernel: ${h.kernel}
    arch: aarch64
    vfs: [${VFS.join(', ')}]
    workdir: ${h.workdir}
    sysfs: ${h.sysfs}
    commands: ${JSON.stringify(h.commands)}
`);
    const corpus = join(f.dir, 'corpus');
    mkdirSync(corpus);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'lab', inv, '--local', '--corpus', corpus, '--out', out, '--module', build.dir, '--swap-only', 'hisi_acc_vfio_pci'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/module swap: hisi_acc_vfio_pci on kunpeng; restored: yes/);
    const report = JSON.parse(readFileSync(join(out, 'module-swap.json'), 'utf8')) as SwapReport;
    expect(report.modules).toEqual(['hisi_acc_vfio_pci']);
    const ops = f.ops();
    expect(ops.filter((o) => o.startsWith('rmmod'))).toEqual(['rmmod hisi_acc_vfio_pci', 'rmmod hisi_acc_vfio_pci']); // out for the run, out again to restore
    expect(ops).not.toContain('rmmod hisi_qm');
    expectOriginal(f);
    // bad input: a folder that is not a build
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'lab', inv, '--local', '--corpus', corpus, '--out', out, '--module', corpus], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/is not a module build folder/);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});
