// Real kernel modules from a kernel tree, built unmodified and out of tree against kernel headers
// (headers.ts): the HiSilicon accelerator drivers a lab guest needs (hisi_qm, hisi_sec2, hisi_hpre,
// hisi_zip) and the VFIO variant driver a lab host needs (hisi_acc_vfio_pci). Debian builds none of
// them (docs/ktree.md#kernel-modules-for-lab-kernels). One Kbuild run builds every module asked for and what
// it depends on, so modpost resolves the symbols between them and against the headers'
// Module.symvers; a symbol nothing provides fails the build. Results are cached by a hash of the
// sources, the headers and the build recipe.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { makeDirAtomic } from '../util/atomic.ts';
import { withCacheLock } from '../util/cacheLock.ts';
import { buildId, modinfo } from '../util/elf.ts';
import { MissingDependencyError, UsageError } from '../util/usage-error.ts';
import { migcompatCache } from '../util/cache.ts';
import { hostKernelArch, type KernelHeaders } from './headers.ts';
import { fetchDebianSource, type FetchedTree } from './source.ts';

/** The modules we know how to build: module name, its Kconfig symbol and the folder that builds it. */
export const KMOD_CATALOGUE: Record<string, { kconfig: string; dir: string }> = {
  hisi_qm: { kconfig: 'CRYPTO_DEV_HISI_QM', dir: 'drivers/crypto/hisilicon' },
  hisi_sec2: { kconfig: 'CRYPTO_DEV_HISI_SEC2', dir: 'drivers/crypto/hisilicon' },
  hisi_hpre: { kconfig: 'CRYPTO_DEV_HISI_HPRE', dir: 'drivers/crypto/hisilicon' },
  hisi_zip: { kconfig: 'CRYPTO_DEV_HISI_ZIP', dir: 'drivers/crypto/hisilicon' },
  hisi_acc_vfio_pci: { kconfig: 'HISI_ACC_VFIO_PCI', dir: 'drivers/vfio/pci/hisilicon' },
};

/**
 * What a module build reads from a kernel tree: the HiSilicon accelerator drivers, the VFIO variant
 * driver, and the HiSilicon-specific headers both sides of their interface must agree on. Every other
 * header comes from the kernel headers the modules are built for.
 */
export const KMOD_DIRS = ['drivers/crypto/hisilicon/', 'drivers/vfio/pci/hisilicon/'];
export const KMOD_HEADERS = ['include/linux/hisi_acc_qm.h', 'include/uapi/misc/uacce/hisi_qm.h'];
const KMOD_FILES = { files: [...KMOD_DIRS, ...KMOD_HEADERS], suffix: '-modules' };

/** Debian's linux-source of a series (`debian-6.1`), only the files a module build reads (source.ts). */
export function fetchModuleSource(name: string, version?: string): FetchedTree {
  return fetchDebianSource(name, version, KMOD_FILES);
}

/** What a lab guest loads, and what a lab host needs (hisi_qm and the VFIO variant driver, plus what they need). */
export const GUEST_MODULES = ['hisi_qm', 'hisi_sec2', 'hisi_hpre', 'hisi_zip'];
export const HOST_MODULES = ['hisi_qm', 'hisi_acc_vfio_pci'];

/** Bump when the build recipe changes in a way the hash inputs do not show. */
const RECIPE = 'kmod-1';

export interface BuiltModule {
  name: string;
  /** file name in the build folder (Kbuild's, e.g. hisi-acc-vfio-pci.ko) */
  file: string;
  depends: string[];
  vermagic: string;
  buildId: string | null;
}

export interface ModuleBuild {
  dir: string;
  hash: string;
  kernelRelease: string;
  arch: string;
  headers: string;
  tree: string;
  treeVersion: string;
  modules: BuiltModule[];
  /** modules the built ones need from the target kernel itself (loaded with modprobe there) */
  external: string[];
  cached: boolean;
  seconds: number;
}

export class KmodBuildError extends UsageError {
  constructor(message: string, readonly log: string) {
    super(message);
  }
}

const kmodDir = (): string => join(migcompatCache('ktree'), 'modules');

/**
 * The closure of the asked modules over the tree's own Kconfig: a catalogue symbol another one
 * `depends on` or `select`s is built too (hisi_acc_vfio_pci needs the SEC, HPRE and ZIP drivers).
 */
export function moduleClosure(tree: string, wanted: string[]): string[] {
  for (const w of wanted) if (!KMOD_CATALOGUE[w]) throw new UsageError(`unknown module '${w}' (known: ${Object.keys(KMOD_CATALOGUE).join(', ')})`);
  const bySymbol = new Map(Object.entries(KMOD_CATALOGUE).map(([n, c]) => [c.kconfig, n]));
  const needs = new Map<string, Set<string>>();
  for (const dir of new Set(Object.values(KMOD_CATALOGUE).map((c) => c.dir))) {
    const kc = join(tree, dir, 'Kconfig');
    if (!existsSync(kc)) continue;
    let cur: string | null = null;
    for (const line of readFileSync(kc, 'utf8').split('\n')) {
      const c = /^config\s+(\w+)/.exec(line);
      if (c) cur = bySymbol.get(c[1]!) ?? null;
      const d = cur ? /^\s+(?:depends on|select)\s+(.*)$/.exec(line) : null;
      if (!d || !cur) continue;
      for (const sym of d[1]!.match(/\w+/g) ?? []) {
        const n = bySymbol.get(sym);
        if (n && n !== cur) (needs.get(cur) ?? needs.set(cur, new Set()).get(cur)!).add(n);
      }
    }
  }
  const out = new Set<string>();
  const visit = (n: string) => {
    if (out.has(n)) return;
    out.add(n);
    for (const d of needs.get(n) ?? []) visit(d);
  };
  wanted.forEach(visit);
  return Object.keys(KMOD_CATALOGUE).filter((n) => out.has(n));
}

function treeFiles(tree: string, dirs: string[]): string[] {
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(tree, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && /(\.[ch]|Makefile|Kbuild|Kconfig)$/.test(e.name)) files.push(r);
    }
  };
  for (const d of dirs) {
    if (!existsSync(join(tree, d))) throw new UsageError(`${tree} is not a kernel tree with the HiSilicon drivers: no ${d}/`);
    walk(d);
  }
  for (const h of KMOD_HEADERS) if (existsSync(join(tree, h))) files.push(h);
  return files;
}

function tool(cmd: string, pkg: string): void {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  if (r.error) throw new MissingDependencyError(`${cmd} not found: install the Debian package ${pkg}`);
}

/** The compiler Kbuild will call for these headers (Debian's name it gcc-<major>). */
function compilerFor(h: KernelHeaders, cross: string): string {
  const vars = existsSync(join(h.dir, '.kernelvariables')) ? readFileSync(join(h.dir, '.kernelvariables'), 'utf8') : '';
  const m = /^CC\s*=.*\$\(CROSS_COMPILE\)(\S+)/m.exec(vars);
  return `${cross}${m?.[1] ?? 'gcc'}`;
}

const crossPkg = (cc: string): string => (cc.startsWith('aarch64-linux-gnu-') ? 'gcc-aarch64-linux-gnu' : cc.startsWith('x86_64-linux-gnu-') ? 'gcc-x86-64-linux-gnu' : 'gcc');

/** modpost's and the compiler's complaints as one line. */
export function summarizeBuildLog(log: string): string {
  const undef = [...log.matchAll(/modpost: "([^"]+)" \[([^\]]+)\] undefined!/g)].map((m) => `${m[1]} (${basename(m[2]!)})`);
  if (undef.length) return `unresolved symbols: ${[...new Set(undef)].slice(0, 8).join(', ')}`;
  const err = log.split('\n').find((l) => /error:|Error \d|\*\*\*/.test(l));
  return err ? err.trim() : (log.trim().split('\n').pop() ?? 'no output');
}

/**
 * Build `wanted` (and what they need) from the kernel tree at `tree` against `headers`. `treeVersion`
 * names the tree in the result (a Debian package version, or 'local').
 */
export function buildModules(tree: string, headers: KernelHeaders, wanted: string[], opts: { treeVersion?: string; force?: boolean; log?: (s: string) => void } = {}): ModuleBuild {
  const t0 = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const names = moduleClosure(tree, wanted);
  const files = treeFiles(tree, KMOD_DIRS.map((d) => d.replace(/\/$/, '')).filter((d) => names.some((n) => KMOD_CATALOGUE[n]!.dir === d)));
  const cross = headers.arch === hostKernelArch() ? '' : headers.arch === 'arm64' ? 'aarch64-linux-gnu-' : 'x86_64-linux-gnu-';
  const cc = compilerFor(headers, cross);
  tool('make', 'make');
  tool(cc, crossPkg(cc));
  const ccVersion = spawnSync(cc, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? cc;
  const h = createHash('sha256');
  for (const f of files) h.update(`${f}\0`).update(readFileSync(join(tree, f))).update('\0');
  for (const part of [RECIPE, headers.identity, headers.arch, names.join(','), ccVersion]) h.update(`${part}\0`);
  const hash = h.digest('hex').slice(0, 20);
  const dir = join(kmodDir(), hash);
  const result = (cached: boolean): ModuleBuild => ({ ...(JSON.parse(readFileSync(join(dir, 'build.json'), 'utf8')) as Omit<ModuleBuild, 'dir' | 'cached' | 'seconds'>), dir, cached, seconds: seconds() });
  if (opts.force) rmSync(dir, { recursive: true, force: true });
  if (existsSync(join(dir, 'build.json'))) return result(true);
  return withCacheLock(`kmod-${hash}`, () => {
    if (existsSync(join(dir, 'build.json'))) return result(true);
    const work = mkdtempSync(join(tmpdir(), 'kmod-'));
    try {
      const stage = join(work, 'src');
      for (const f of files) {
        mkdirSync(join(stage, f, '..'), { recursive: true });
        copyFileSync(join(tree, f), join(stage, f));
      }
      const dirs = [...new Set(names.map((n) => KMOD_CATALOGUE[n]!.dir))];
      writeFileSync(join(stage, 'Kbuild'), dirs.map((d) => `obj-m += ${d}/\n`).join(''));
      opts.log?.(`building ${names.join(', ')} for ${headers.kernelRelease} (${headers.arch}${cross ? `, ${cc}` : ''})`);
      const args = [
        '-C', headers.dir, `M=${stage}`, `ARCH=${headers.arch}`, ...(cross ? [`CROSS_COMPILE=${cross}`] : []),
        ...names.map((n) => `CONFIG_${KMOD_CATALOGUE[n]!.kconfig}=m`),
        // the tree's HiSilicon headers win over the target kernel's copies (both ends of hisi_qm's interface agree)
        `NOSTDINC_FLAGS=-nostdinc -I${join(stage, 'include')}`,
        `-j${Math.max(1, Math.min(4, Number(process.env.MIGCOMPAT_BUILD_JOBS ?? 2)))}`, 'modules',
      ];
      const r = spawnSync('make', args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } });
      const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
      if (r.status !== 0) throw new KmodBuildError(`module build for ${headers.kernelRelease} failed: ${summarizeBuildLog(log)}`, log);
      const kos = new Map<string, string>();
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (e.name.endsWith('.ko')) kos.set(e.name.replace(/\.ko$/, '').replace(/-/g, '_'), p);
        }
      };
      walk(join(stage, 'drivers'));
      const modules: BuiltModule[] = [];
      for (const n of names) {
        const p = kos.get(n);
        if (!p) throw new KmodBuildError(`module build for ${headers.kernelRelease} produced no ${n}.ko (built: ${[...kos.keys()].join(', ') || 'nothing'})`, log);
        const bytes = readFileSync(p);
        const info = modinfo(bytes, basename(p));
        const vermagic = info.get('vermagic')?.[0] ?? '';
        if (!vermagic.startsWith(`${headers.kernelRelease} `)) throw new KmodBuildError(`${basename(p)} has vermagic '${vermagic}', not for ${headers.kernelRelease}`, log);
        const depends = (info.get('depends')?.[0] ?? '').split(',').filter(Boolean).map((d) => d.replace(/-/g, '_'));
        modules.push({ name: n, file: basename(p), depends, vermagic, buildId: buildId(bytes, basename(p)) });
      }
      const external = [...new Set(modules.flatMap((m) => m.depends).filter((d) => !names.includes(d)))].sort();
      const meta: Omit<ModuleBuild, 'dir' | 'cached' | 'seconds'> = {
        hash, kernelRelease: headers.kernelRelease, arch: headers.arch, headers: headers.identity, tree, treeVersion: opts.treeVersion ?? 'local', modules, external,
      };
      makeDirAtomic(dir, (tmp) => {
        for (const m of modules) copyFileSync(kos.get(m.name)!, join(tmp, m.file));
        writeFileSync(join(tmp, 'build.log'), log);
        writeFileSync(join(tmp, 'build.json'), JSON.stringify({ ...meta, builtAt: new Date().toISOString() }, null, 2) + '\n');
      });
      return result(false);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

/** A build folder `ktree module` printed (its build.json), for `lab --module` and the guest image. */
export function readModuleBuild(dir: string): ModuleBuild {
  const f = join(dir, 'build.json');
  if (!existsSync(f) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a module build folder (no build.json; see migcompat ktree module)`);
  const j = JSON.parse(readFileSync(f, 'utf8')) as Omit<ModuleBuild, 'dir' | 'cached' | 'seconds'>;
  for (const m of j.modules) if (!existsSync(join(dir, m.file))) throw new UsageError(`${dir}: ${m.file} is missing`);
  return { ...j, dir, cached: true, seconds: 0 };
}

/** Built modules in load order (each after the built modules it depends on). */
export function loadOrder(b: Pick<ModuleBuild, 'modules'>): BuiltModule[] {
  const byName = new Map(b.modules.map((m) => [m.name, m]));
  const out: BuiltModule[] = [];
  const seen = new Set<string>();
  const visit = (m: BuiltModule) => {
    if (seen.has(m.name)) return;
    seen.add(m.name);
    for (const d of m.depends) {
      const dep = byName.get(d);
      if (dep) visit(dep);
    }
    out.push(m);
  };
  b.modules.forEach(visit);
  return out;
}

