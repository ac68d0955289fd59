// Kernel modules for lab kernels (harness/kbuild/kmod.ts, `migcompat ktree module`): Debian's newest
// linux-source-6.1, unmodified, built out of tree for Debian's arm64 6.1 headers: hisi_qm,
// hisi_acc_vfio_pci and what they need, with every symbol resolved by modpost. The result loads in the
// arm64 guest (TCG): hisi_acc_vfio_pci registers its PCI driver and binds to nothing, since no VF exists
// here.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureHeaders } from '../../harness/kbuild/headers.ts';
import { buildModules, fetchModuleSource, KmodBuildError, moduleClosure, type ModuleBuild } from '../../harness/kbuild/kmod.ts';
import { DRIVER_DIR } from '../../harness/ktree/tree.ts';
import { installedBuild } from '../../harness/runners/qemu/builds.ts';
import { ensureImage } from '../../harness/runners/qemu/image.ts';
import { livePids } from '../../harness/runners/qemu/procs.ts';
import { defaultVm, QemuVm } from '../../harness/runners/qemu/vm.ts';
import { checkHisi } from '../../harness/runners/qemu/workload.ts';

test.describe.configure({ mode: 'serial' });

const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });

let build: ModuleBuild;

test('ktree module builds hisi_qm and hisi_acc_vfio_pci (and what they need) for Debian\'s arm64 6.1 headers', async () => {
  const r = cli('ktree', 'module', '--debian', 'debian-6.1', '--headers', 'linux-headers-arm64', '--arch', 'arm64', '--json');
  expect(r.status, r.stderr).toBe(0);
  build = JSON.parse(r.stdout) as ModuleBuild;
  expect(build.kernelRelease).toMatch(/^6\.1\.0-\d+-arm64$/);
  // the VFIO variant driver calls into the SEC, HPRE and ZIP drivers: its Kconfig depends on them
  expect(build.modules.map((m) => m.name)).toEqual(['hisi_qm', 'hisi_sec2', 'hisi_hpre', 'hisi_zip', 'hisi_acc_vfio_pci']);
  for (const m of build.modules) {
    expect(m.vermagic, m.name).toBe(`${build.kernelRelease} SMP mod_unload modversions aarch64`);
    expect(m.buildId, m.name).toMatch(/^[0-9a-f]{40}$/);
  }
  const vfio = build.modules.find((m) => m.name === 'hisi_acc_vfio_pci')!;
  expect(vfio.file).toBe('hisi-acc-vfio-pci.ko');
  expect(vfio.depends).toEqual(expect.arrayContaining(['hisi_qm', 'hisi_sec2', 'hisi_hpre', 'hisi_zip', 'vfio', 'vfio_pci_core']));
  expect(build.modules.find((m) => m.name === 'hisi_sec2')!.depends).toEqual(expect.arrayContaining(['hisi_qm', 'authenc']));
  // what the running kernel must provide: its own modules, never another HiSilicon one
  expect(build.external).toEqual(expect.arrayContaining(['authenc', 'ecc', 'ecdh_generic', 'libcurve25519_generic', 'vfio', 'vfio_pci_core']));
  expect(build.external.some((e) => e.startsWith('hisi_'))).toBe(false);
  // a second run is the cached build
  const again = cli('ktree', 'module', '--debian', 'debian-6.1', '--headers', 'linux-headers-arm64', '--json');
  expect(again.status, again.stderr).toBe(0);
  expect(JSON.parse(again.stdout)).toMatchObject({ dir: build.dir, hash: build.hash, cached: true });
});

test('ktree module: bad input is one line and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['--debian', 'debian-6.1', '--headers', 'linux-headers-arm64', '--arch', 'x86_64'], /is for ARCH=arm64, not --arch x86/],
    [['--debian', 'debian-6.1', '--headers', 'linux-headers-arm64', '--modules', 'hisi_nope'], /unknown module 'hisi_nope'/],
    [['--debian', 'debian-6.1', '--headers', '/nonexistent/build'], /--headers \/nonexistent\/build: no Makefile/],
    [['--debian', 'debian-6.1', '--headers', 'not a package'], /neither a folder nor a Debian package/],
    [['--debian', 'debian-6.1'], /needs --headers/],
    [['--headers', 'linux-headers-arm64'], /exactly one of --tree PATH or --debian/],
    [['--tree', '/nonexistent', '--headers', 'linux-headers-arm64'], /not a kernel tree with the HiSilicon drivers/],
  ];
  for (const [args, msg] of cases) {
    const r = cli('ktree', 'module', ...args);
    expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(msg);
  }
});

test('a symbol no module and no kernel export provides fails the build, named in one line', () => {
  const tree = mkdtempSync(join(tmpdir(), 'kmod-spec-'));
  try {
    cpSync(fetchModuleSource('debian-6.1').dir, tree, { recursive: true });
    const f = join(tree, DRIVER_DIR, 'hisi_acc_vfio_pci.c');
    writeFileSync(f, readFileSync(f, 'utf8') + '\nextern void migcompat_no_such_symbol(void);\nvoid migcompat_calls_it(void);\nvoid migcompat_calls_it(void) { migcompat_no_such_symbol(); }\n');
    expect(moduleClosure(tree, ['hisi_acc_vfio_pci'])).toEqual(['hisi_qm', 'hisi_sec2', 'hisi_hpre', 'hisi_zip', 'hisi_acc_vfio_pci']);
    let err: unknown = null;
    try {
      buildModules(tree, ensureHeaders('linux-headers-arm64', 'arm64'), ['hisi_acc_vfio_pci']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KmodBuildError);
    expect((err as Error).message).toMatch(/unresolved symbols: migcompat_no_such_symbol \(hisi-acc-vfio-pci\.ko\)/);
    expect((err as KmodBuildError).log).toContain('migcompat_no_such_symbol');
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
});

test('the host build loads in the arm64 guest: hisi_acc_vfio_pci registers its PCI driver and binds to nothing (no VF here)', async () => {
  test.setTimeout(600_000);
  expect(build, 'the build test ran first').toBeTruthy();
  const image = await ensureImage({ arch: 'aarch64', extraModules: build.modules.map((m) => join(build.dir, m.file)) });
  expect(image.extraModules).toEqual(['hisi_qm', 'hisi_sec2', 'hisi_hpre', 'hisi_zip', 'hisi_acc_vfio_pci']);
  // the guest kernel's own VFIO modules came along as dependencies, loaded before the variant driver
  const at = (n: string) => image.modules.indexOf(n);
  for (const dep of ['vfio', 'vfio_pci_core']) {
    expect(at(dep), dep).toBeGreaterThanOrEqual(0);
    expect(at(dep)).toBeLessThan(at('hisi_acc_vfio_pci'));
  }
  const dir = test.info().outputPath('vm');
  const vm = await QemuVm.start({ name: 'vm0', dir, build: installedBuild('aarch64'), image, config: defaultVm('aarch64') });
  try {
    await vm.waitIter(1, 180_000);
    expect(vm.consoleText()).not.toMatch(/insmod \S+ failed/);
    const hisi = vm.workload().hisi!;
    expect(hisi.modules.sort()).toEqual(['hisi_acc_vfio_pci', 'hisi_hpre', 'hisi_qm', 'hisi_sec2', 'hisi_zip']);
    expect(hisi.pci).toEqual({ hisi_acc_vfio_pci: 0, hisi_hpre: 0, hisi_sec2: 0, hisi_zip: 0 });
    const checks = checkHisi([{ label: 'vm0', text: vm.workloadText() }], hisi, { modules: image.hisiModules, vfs: 0 });
    expect(checks.map((c) => [c.name, c.ok])).toEqual([['hisi-drivers', true]]);
    expect(checks[0]!.detail).toMatch(/^no VF present/);
  } finally {
    await vm.stop();
  }
  expect(livePids()).toEqual([]);
});
