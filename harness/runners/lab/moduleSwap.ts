// Put a kernel module build (`migcompat ktree module`) in place on lab hosts for the length of a run,
// then put back what was there, whatever happens: "test this driver patch on real VFs tonight" as
// one command. On each host: note every inventory VF's driver and driver_override, its PF's VF count
// and the build id of each module the build replaces; unbind the VFs; unload the modules (the last
// loaded first); load what the build needs from the running kernel (modprobe), then the build's
// modules (insmod, dependencies first) and check the kernel took exactly those files (build ids in
// /sys/module/NAME/notes); re-create VFs a replaced PF driver took away; bind the VFs (to
// hisi_acc_vfio_pci when the build holds it). Afterwards the same steps run backwards with the host's
// own modules (modprobe), and the VFs go back to their drivers. Every step is an argument array over
// the lab transport; the commands and the sysfs root can be replaced per host (inventory `commands`,
// `sysfs`), which is how the specs drive a stand-in host.
import { join } from 'node:path';
import type { ModuleBuild } from '../../kbuild/kmod.ts';
import { loadOrder } from '../../kbuild/kmod.ts';
import { buildIdFromNote } from '../../util/elf.ts';
import { UsageError } from '../../util/usage-error.ts';
import { BDF_RE } from '../vfio-host/sysfs.ts';
import type { HostCommand, LabHost } from './inventory.ts';
import type { LabTransport } from './transport.ts';

/** The VFIO variant driver the VFs are bound to after the swap when the build holds it. */
export const VFIO_DRIVER = 'hisi_acc_vfio_pci';

const DEFAULT_COMMANDS: Record<HostCommand, string[]> = {
  insmod: ['insmod'],
  rmmod: ['rmmod'],
  modprobe: ['modprobe', '-a'],
  // FILE VALUE pairs, in order; a sysfs attribute takes one write(2): printf writes the value, the
  // redirection opens the file; the first failure stops the rest
  write: ['sh', '-c', 'while [ $# -gt 1 ]; do printf %s "$2" > "$1" || exit 1; shift 2; done', 'migcompat-write'],
};

export interface VfState {
  bdf: string;
  driver: string | null;
  override: string | null;
  pf: string | null;
}

export interface HostSnapshot {
  host: string;
  vfs: VfState[];
  /** PF -> its sriov_numvfs */
  pfs: Record<string, number>;
  /** module -> build id of the loaded one (null: loaded, no build id; absent: not loaded) */
  modules: Record<string, string | null>;
}

export interface SwapStep {
  host: string;
  phase: 'swap' | 'restore';
  action: string;
  ok: boolean;
  detail: string;
}

export interface SwapReport {
  build: string;
  kernelRelease: string;
  modules: string[];
  before: HostSnapshot[];
  steps: SwapStep[];
  /** every host is back to its snapshot (drivers, VF counts, module build ids) */
  restored: boolean;
  problems: string[];
}

/** A swap step failed: the run is skipped and the hosts restored. */
export class StepError extends Error {
  override name = 'StepError';
}

/** Hosts of an inventory a swap applies to: `names` (comma list) or every host. */
export function swapHosts(hosts: LabHost[], names?: string): LabHost[] {
  if (!names) return hosts;
  return names.split(',').map((n) => {
    const h = hosts.find((x) => x.name === n.trim());
    if (!h) throw new UsageError(`--module-hosts: no host '${n}' in the inventory (hosts: ${hosts.map((x) => x.name).join(', ')})`);
    return h;
  });
}

/** What a path on the host is: a link (its target), a file (its bytes), a folder, or nothing. */
export type PathState = { kind: 'link'; target: string } | { kind: 'file'; bytes: Buffer } | { kind: 'dir' } | { kind: 'none' };

/**
 * Reads many sysfs paths in one remote command (each SSH exec costs a login shell on the host): one
 * line per path, L<link target>, F<hex bytes>, D or N. Fixed text; paths arrive as "$@".
 */
export const STAT_SCRIPT = [
  'for p; do',
  '  if [ -L "$p" ]; then printf \'L%s\\n\' "$(readlink "$p")"',
  '  elif [ -f "$p" ]; then printf \'F%s\\n\' "$(od -An -tx1 -v "$p" 2>/dev/null | tr -d \' \\n\')"',
  '  elif [ -e "$p" ]; then echo D',
  '  else echo N; fi',
  'done',
].join('\n');

export function parseStat(out: string, n: number): PathState[] {
  const lines = out.split('\n').slice(0, n);
  if (lines.length < n) throw new StepError(`reading sysfs: expected ${n} lines, got ${lines.length}`);
  return lines.map((l): PathState => {
    if (l.startsWith('L')) return { kind: 'link', target: l.slice(1) };
    if (l.startsWith('F')) return { kind: 'file', bytes: Buffer.from(l.slice(1), 'hex') };
    return l === 'D' ? { kind: 'dir' } : { kind: 'none' };
  });
}

const linkName = (s: PathState): string | null => (s.kind === 'link' ? (s.target.split('/').pop() ?? null) : null);
const text = (s: PathState): string | null => (s.kind === 'file' ? s.bytes.toString('utf8').trim() : null);

/** One host's side of a swap: commands, batched reads and the steps log. */
class HostOps {
  readonly root: string;
  constructor(readonly host: LabHost, private readonly t: LabTransport, private readonly steps: SwapStep[], public phase: 'swap' | 'restore') {
    this.root = host.sysfs ?? '/sys';
  }

  private cmd(c: HostCommand, args: string[]): string[] {
    return [...(this.host.commands?.[c] ?? DEFAULT_COMMANDS[c]), ...args];
  }

  dev(bdf: string, attr = ''): string {
    return join(this.root, 'bus/pci/devices', bdf, attr);
  }
  mod(name: string, attr = ''): string {
    return join(this.root, 'module', name, attr);
  }

  /** Run a step; a failure is recorded and thrown (the caller decides whether to go on). */
  async step(action: string, argv: string[]): Promise<string> {
    const r = await this.t.exec(this.host, argv);
    const detail = (r.code === 0 ? r.stdout : r.stderr || r.stdout).trim().split('\n').pop() ?? '';
    this.steps.push({ host: this.host.name, phase: this.phase, action, ok: r.code === 0, detail: r.code === 0 ? detail : `exit ${r.code}: ${detail}` });
    if (r.code !== 0) throw new StepError(`${this.host.name}: ${action} failed (exit ${r.code}: ${detail})`);
    return r.stdout;
  }

  insmod(file: string, name: string) { return this.step(`insmod ${name}`, this.cmd('insmod', [file])); }
  /** unloaded in the order given (users before what they use) */
  rmmod(names: string[]) { return names.length ? this.step(`rmmod ${names.join(' ')}`, this.cmd('rmmod', names)) : Promise.resolve(''); }
  modprobe(names: string[]) { return names.length ? this.step(`modprobe ${names.join(' ')}`, this.cmd('modprobe', names)) : Promise.resolve(''); }
  /** sysfs writes, in order, one command: a failed one stops the rest */
  write(pairs: [string, string][], what: string) {
    return pairs.length ? this.step(what, this.cmd('write', pairs.flat())) : Promise.resolve('');
  }

  async stat(paths: string[]): Promise<PathState[]> {
    if (paths.length === 0) return [];
    const r = await this.t.exec(this.host, ['sh', '-c', STAT_SCRIPT, 'migcompat-stat', ...paths]);
    if (r.code !== 0) throw new StepError(`${this.host.name}: reading sysfs failed (exit ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''})`);
    return parseStat(r.stdout, paths.length);
  }

  /** The driver each VF is bound to (null: none). */
  async drivers(bdfs: string[]): Promise<(string | null)[]> {
    return (await this.stat(bdfs.map((b) => this.dev(b, 'driver')))).map(linkName);
  }

  /** Build ids of loaded modules (null: loaded, no build id note); modules not loaded are absent. */
  async buildIds(names: string[]): Promise<Record<string, string | null>> {
    const st = await this.stat(names.flatMap((n) => [this.mod(n), this.mod(n, 'notes/.note.gnu.build-id')]));
    const out: Record<string, string | null> = {};
    names.forEach((n, i) => {
      if (st[2 * i]!.kind === 'none') return;
      const note = st[2 * i + 1]!;
      out[n] = note.kind === 'file' ? buildIdFromNote(note.bytes) : null;
    });
    return out;
  }

  async snapshot(names: string[]): Promise<HostSnapshot> {
    // PCI VFs only: an inventory's mdev devices belong to no HiSilicon driver
    const vfsList = this.host.vfs.filter((v) => BDF_RE.test(v));
    const st = await this.stat(vfsList.flatMap((b) => [this.dev(b), this.dev(b, 'driver'), this.dev(b, 'driver_override'), this.dev(b, 'physfn')]));
    const vfs: VfState[] = vfsList.map((bdf, i) => {
      if (st[4 * i]!.kind === 'none') throw new StepError(`${this.host.name}: VF ${bdf} does not exist (${this.dev(bdf)})`);
      const override = text(st[4 * i + 2]!);
      return { bdf, driver: linkName(st[4 * i + 1]!), override: override && override !== '(null)' ? override : null, pf: linkName(st[4 * i + 3]!) };
    });
    return { host: this.host.name, vfs, pfs: await this.numvfs([...new Set(vfs.map((v) => v.pf).filter((p): p is string => !!p))]), modules: await this.buildIds(names) };
  }

  async numvfs(pfs: string[]): Promise<Record<string, number>> {
    const st = await this.stat(pfs.map((pf) => this.dev(pf, 'sriov_numvfs')));
    return Object.fromEntries(pfs.map((pf, i) => [pf, Number(text(st[i]!) ?? 0)]));
  }

  async unbind(bdfs: string[]): Promise<void> {
    const drv = await this.drivers(bdfs);
    const bound = bdfs.filter((_, i) => drv[i]);
    await this.write(bound.map((b) => [this.dev(b, 'driver/unbind'), b]), `unbind ${bound.join(' ')}`);
  }

  /** VF counts back to the snapshot's (a PF driver that was replaced took its VFs away). */
  async recreateVfs(pfs: Record<string, number>): Promise<void> {
    const now = await this.numvfs(Object.keys(pfs));
    const pairs: [string, string][] = [];
    for (const [pf, n] of Object.entries(pfs)) {
      if (now[pf] === n) continue;
      if (now[pf] !== 0) pairs.push([this.dev(pf, 'sriov_numvfs'), '0']);
      pairs.push([this.dev(pf, 'sriov_numvfs'), String(n)]);
    }
    await this.write(pairs, `sriov_numvfs ${Object.entries(pfs).map(([pf, n]) => `${pf}=${n}`).join(' ')}`);
  }

  /**
   * Each VF to exactly `want` (through driver_override, then drivers_probe), or, where want is
   * null, the override cleared and the VF left to the kernel (probe) or unbound (no probe). A VF the
   * kernel bound by itself meanwhile (new VFs bind to their PF's driver) is unbound first:
   * drivers_probe leaves a bound device alone. Returns each VF's driver afterwards.
   */
  async bind(targets: { bdf: string; want: string | null; probe: boolean }[]): Promise<(string | null)[]> {
    const bdfs = targets.map((x) => x.bdf);
    const cur = await this.drivers(bdfs);
    const off = targets.filter((x, i) => cur[i] && (cur[i] !== x.want || !x.probe)).map((x) => x.bdf);
    await this.write(off.map((b) => [this.dev(b, 'driver/unbind'), b]), `unbind ${off.join(' ')}`);
    await this.write(targets.map((x) => [this.dev(x.bdf, 'driver_override'), x.want ?? '\n']), `driver_override ${targets.map((x) => `${x.bdf}=${x.want ?? '(none)'}`).join(' ')}`);
    const probe = targets.filter((x, i) => x.probe && (off.includes(x.bdf) || !cur[i])).map((x) => x.bdf);
    await this.write(probe.map((b) => [join(this.root, 'bus/pci/drivers_probe'), b]), `probe ${probe.join(' ')}`);
    return this.drivers(bdfs);
  }
}

export interface SwapOptions {
  /** modules of the build to put in place (default: all of them) */
  only?: string[];
  log?: (s: string) => void;
}

/**
 * Swap the build's modules in on `hosts`, run `fn`, swap back. The run's own result comes back with
 * the report; a failed swap skips the run (and throws after restoring), a failed restore is in the
 * report's problems and `restored: false`.
 */
export async function withModuleSwap<T>(t: LabTransport, hosts: LabHost[], build: ModuleBuild, fn: () => Promise<T>, opts: SwapOptions = {}): Promise<{ result: T; report: SwapReport }> {
  const order = loadOrder(build).filter((m) => !opts.only || opts.only.includes(m.name));
  if (opts.only) for (const o of opts.only) if (!build.modules.some((m) => m.name === o)) throw new StepError(`the build in ${build.dir} has no module ${o} (it has ${build.modules.map((m) => m.name).join(', ')})`);
  const names = order.map((m) => m.name);
  const steps: SwapStep[] = [];
  const report: SwapReport = { build: build.dir, kernelRelease: build.kernelRelease, modules: names, before: [], steps, restored: false, problems: [] };
  const log = opts.log ?? (() => {});
  const touched: { ops: HostOps; snap: HostSnapshot }[] = [];
  let result: T | undefined;
  let failure: unknown = null;
  try {
    for (const host of hosts) {
      const ops = new HostOps(host, t, steps, 'swap');
      const snap = await ops.snapshot(build.modules.map((m) => m.name));
      report.before.push(snap);
      touched.push({ ops, snap });
      log(`${host.name}: swapping ${names.join(', ')} (${build.kernelRelease}) in; VFs ${snap.vfs.map((v) => `${v.bdf}=${v.driver ?? 'none'}`).join(', ')}`);
      const remoteDir = `${host.workdir}/modules/${build.hash}`;
      await ops.step('mkdir', ['mkdir', '-p', remoteDir]);
      for (const m of order) await t.put(host, join(build.dir, m.file), `${remoteDir}/${m.file}`);
      await ops.unbind(snap.vfs.map((v) => v.bdf));
      await ops.rmmod([...order].reverse().map((m) => m.name).filter((n) => n in snap.modules));
      // what the build needs from the running kernel, and the build's modules left out by `only` (the host's own)
      await ops.modprobe([...build.external.filter((x) => !names.includes(x)), ...build.modules.map((m) => m.name).filter((n) => !names.includes(n) && !(n in snap.modules))]);
      for (const m of order) await ops.insmod(`${remoteDir}/${m.file}`, m.name);
      const ids = await ops.buildIds(names);
      for (const m of order) {
        if (m.buildId && ids[m.name] !== m.buildId) throw new StepError(`${host.name}: the loaded ${m.name} has build id ${ids[m.name] ?? 'none'}, the build's is ${m.buildId}`);
      }
      await ops.recreateVfs(snap.pfs);
      const targets = snap.vfs.map((v) => ({ bdf: v.bdf, want: names.includes(VFIO_DRIVER) ? VFIO_DRIVER : v.driver, probe: true }));
      const got = await ops.bind(targets);
      targets.forEach((x, i) => {
        if (x.want && got[i] !== x.want) throw new StepError(`${host.name}: VF ${x.bdf} is bound to ${got[i] ?? 'nothing'}, not ${x.want}`);
      });
      log(`${host.name}: ${names.join(', ')} from ${build.dir} in place`);
    }
    result = await fn();
  } catch (e) {
    failure = e;
  } finally {
    for (const { ops, snap } of touched.reverse()) {
      ops.phase = 'restore';
      report.problems.push(...(await restoreHost(ops, snap, order.map((m) => m.name), build)));
    }
    report.restored = report.problems.length === 0;
    for (const p of report.problems) log(`restore: ${p}`);
  }
  if (failure) {
    if (failure instanceof StepError) report.problems.unshift(failure.message);
    throw Object.assign(failure instanceof Error ? failure : new Error(String(failure)), { swapReport: report });
  }
  return { result: result as T, report };
}

/** Back to the snapshot, going on after a failed step; returns what could not be restored. */
async function restoreHost(ops: HostOps, snap: HostSnapshot, names: string[], build: ModuleBuild): Promise<string[]> {
  const problems: string[] = [];
  const attempt = async (f: () => Promise<unknown>) => {
    try {
      await f();
    } catch (e) {
      problems.push((e as Error).message);
    }
  };
  const bdfs = snap.vfs.map((v) => v.bdf);
  await attempt(() => ops.unbind(bdfs));
  await attempt(async () => {
    const loaded = await ops.buildIds(names);
    await ops.rmmod([...names].reverse().filter((n) => n in loaded));
  });
  // the host's own modules (its /lib/modules), dependencies first; modprobe takes the rest it needs
  await attempt(() => ops.modprobe(loadOrder(build).map((m) => m.name).filter((x) => names.includes(x) && x in snap.modules)));
  await attempt(() => ops.recreateVfs(snap.pfs));
  await attempt(async () => {
    // unbound before: stays unbound; bound: to the same driver, through the same override (or the kernel's choice)
    const now = await ops.bind(snap.vfs.map((v) => ({ bdf: v.bdf, want: v.override, probe: v.driver !== null })));
    snap.vfs.forEach((v, i) => {
      if (now[i] !== v.driver) problems.push(`${snap.host}: VF ${v.bdf} is bound to ${now[i] ?? 'nothing'}, was ${v.driver ?? 'nothing'}`);
    });
  });
  await attempt(async () => {
    const now = await ops.buildIds(names);
    for (const [n, id] of Object.entries(snap.modules)) {
      if (!names.includes(n)) continue;
      if (!(n in now)) problems.push(`${snap.host}: ${n} was loaded before and is not now`);
      else if (id && now[n] !== id) problems.push(`${snap.host}: ${n} has build id ${now[n] ?? 'none'}, was ${id}`);
    }
  });
  return problems;
}
