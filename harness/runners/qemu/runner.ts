// QemuRunner: the `qemu` runner of the Runner interface. A case's src/dst ids name QEMU builds
// (builds.ts) plus optional modifiers that change one thing of that side's VM, which is how refusal
// scenarios are written as data:
//   qemu/7.2.22                    installed build, default VM (pc-q35-7.2, 256 MiB, qemu64, workload port)
//   qemu/7.2.18                    the other archive build, unpacked (cross-version pairs)
//   qemu/7.2.22+machine=pc-q35-6.2 another machine type          -> refused
//   qemu/7.2.22+machine-version=6.2 the same, for either architecture (pc-q35-6.2 / virt-6.2)
//   qemu/7.2.22+mem=512            another RAM size (MiB)        -> refused
//   qemu/7.2.22+no-workload-port   destination missing a device  -> refused
//   qemu/7.2.22+virtio-crypto      source holding an unmigratable device (blocker) -> refused
//   qemu/7.2.22+vfio=0000:7a:01.1  VFs passed through with vfio-pci (lab)
// Lab mode: "qemu/installed@hostB+vfs" runs that side on inventory host hostB (over SSH unless the host
// is `local: true`) and passes its first inventory VF (+vfs=N: the first N). When one side names a host,
// every side must; such hops go over TCP to the destination host's migration address.
// Scenarios: single-hop; ping-pong (src -> dst -> src -> dst); retry-after-refusal (dst, then retryDst).
// Transfer: 'tcp' migrates over loopback TCP, anything else over a unix socket.
// Architecture: CaseSpec.arch (x86_64 q35, or aarch64 virt with the HiSilicon guest drivers); lab
// hosts name theirs in the inventory (arch, accel), and every side of a case must agree.
import { mkdirSync } from 'node:fs';
import type { Inventory, LabHost } from '../lab/inventory.ts';
import { ADDR_RE, readInventory } from '../lab/inventory.ts';
import type { SshTransport } from '../lab/transport.ts';
import { BDF_RE } from '../vfio-host/sysfs.ts';
import { join } from 'node:path';
import type { Evidence, TimelineEvent } from '../../oracle/types.ts';
import { runDir } from '../../util/runDir.ts';
import { UsageError } from '../../util/usage-error.ts';
import type { CaseSpec, Runner, RunnerCapabilities } from '../types.ts';
import { caseTitle } from '../types.ts';
import { archProfile, DEFAULT_ARCH, type Accel, type GuestArch } from './arch.ts';
import { resolveBuild, type QemuBuild } from './builds.ts';
import { InfraError, MissingDependencyError } from './errors.ts';
import { DEFAULT_HOP, liveHop, type HopOptions, type HopResult } from './hop.ts';
import { ensureImage, type GuestImage } from './image.ts';
import { RemoteHost } from './remote.ts';
import { retryReason } from './retry.ts';
import { DEFAULT_VM, defaultVm, QemuVm, type VmConfig, type VmHost } from './vm.ts';
import { checkContinuity, servingDrivers } from './workload.ts';

export interface SideSpec {
  build: string;
  config: VmConfig;
  /** inventory host name (lab mode) */
  host?: string;
  /** pass the host's first N inventory VFs (+vfs, +vfs=N) */
  hostVfs?: number;
}

/** Parse "qemu/7.2.22@hostB+machine=pc-q35-6.2+mem=512" into a build id, a host and a VM configuration (of base's architecture). */
export function parseSideId(id: string, base: VmConfig = DEFAULT_VM): SideSpec {
  const [head, ...mods] = id.split('+');
  const hm = /^(qemu\/(?:installed|previous|\d+\.\d+\.\d+))(?:@([A-Za-z0-9][A-Za-z0-9_.-]*))?$/.exec(head ?? '');
  if (!hm) throw new UsageError(`'${id}' is not a qemu runner revision (expected qemu/<x.y.z>[@host][+modifier…])`);
  const build = hm[1]!;
  const config: VmConfig = { ...base };
  let hostVfs: number | undefined;
  for (const m of mods) {
    const [k, v] = m.split('=');
    if (k === 'machine' && v && /^[a-z0-9.-]+$/.test(v)) config.machine = v;
    else if (k === 'machine-version' && v && /^\d+\.\d+$/.test(v)) config.machine = archProfile(config.arch).machineAt(v);
    else if (k === 'mem' && v && /^\d+$/.test(v)) config.memMiB = Number(v);
    else if (k === 'no-workload-port' && v === undefined) config.workloadPort = false;
    else if (k === 'virtio-crypto' && v === undefined) config.virtioCrypto = true;
    else if (k === 'vfio' && v) {
      const bad = v.split(',').find((a) => !BDF_RE.test(a));
      if (bad !== undefined) throw new UsageError(`'+vfio=${v}' in '${id}': '${bad}' is not a PCI address like 0000:7a:01.1`);
      config.vfio = v.split(',');
    } else if (k === 'vfs' && (v === undefined || /^[1-9]\d*$/.test(v))) hostVfs = v === undefined ? 1 : Number(v);
    else throw new UsageError(`unknown qemu modifier '+${m}' in '${id}' (machine=, machine-version=X.Y, mem=, no-workload-port, virtio-crypto, vfio=, vfs[=N])`);
  }
  if (hostVfs !== undefined && !hm[2]) throw new UsageError(`'+vfs' in '${id}' needs a lab host (qemu/<x.y.z>@host+vfs)`);
  return { build, config, ...(hm[2] ? { host: hm[2] } : {}), ...(hostVfs !== undefined ? { hostVfs } : {}) };
}

/** A side's VFs from the inventory (+vfs=N: the host's first N, in inventory order). */
export function inventoryVfs(side: SideSpec, host: LabHost): string[] {
  if (side.hostVfs === undefined) return side.config.vfio;
  if (host.vfs.length < side.hostVfs) throw new UsageError(`'+vfs=${side.hostVfs}': host ${host.name} lists ${host.vfs.length} VF(s)`);
  return [...side.config.vfio, ...host.vfs.slice(0, side.hostVfs)];
}

/** Where a lab host's migration listener is reached: migrationAddress, else ssh.host (127.0.0.1 for a local host). */
export function migrationAddress(host: LabHost): string {
  const a = host.migrationAddress ?? (host.local ? '127.0.0.1' : host.ssh.host);
  if (!ADDR_RE.test(a)) throw new UsageError(`host ${host.name}: '${a}' cannot be a migration address (set migrationAddress)`);
  return a;
}

/** The host's QEMU; an unreachable host or a refused login is bad input for the case (one line, exit 2). */
async function remoteBuild(r: RemoteHost, id: string): Promise<QemuBuild> {
  try {
    return await r.qemuBuild(id, r.lab.arch ?? DEFAULT_ARCH);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new MissingDependencyError(`host ${r.lab.name}: SSH to ${r.lab.ssh.user}@${r.lab.ssh.host}:${r.lab.ssh.port} failed: ${(e as Error).message.split('\n')[0]}`);
  }
}

export interface QemuCaseResult {
  evidence: Evidence;
  hops: HopResult[];
  /** boot to the first workload line, ms */
  bootMs: number;
  drivers: Record<string, string>;
  attempts: number;
}

/**
 * A case's architecture and accelerator: the lab hosts' (inventory arch/accel, all the same), else
 * CaseSpec.arch, else x86_64 under TCG. A case whose arch contradicts its hosts' is bad input.
 */
export function caseMachine(spec: Pick<CaseSpec, 'arch' | 'src' | 'dst' | 'retryDst'>, hosts: LabHost[]): { arch: GuestArch; accel: Accel } {
  const ids = [spec.src, spec.dst, spec.retryDst].filter(Boolean).join(', ');
  if (hosts.length === 0) return { arch: spec.arch ?? DEFAULT_ARCH, accel: 'tcg' };
  const arches = [...new Set(hosts.map((h) => h.arch ?? DEFAULT_ARCH))];
  const accels = [...new Set(hosts.map((h) => h.accel ?? 'tcg'))];
  if (arches.length > 1) throw new UsageError(`lab case ${ids}: the hosts run different architectures (${hosts.map((h) => `${h.name}: ${h.arch ?? DEFAULT_ARCH}`).join(', ')})`);
  if (accels.length > 1) throw new UsageError(`lab case ${ids}: the hosts use different accelerators (${hosts.map((h) => `${h.name}: ${h.accel ?? 'tcg'}`).join(', ')}); the CPU models would differ`);
  if (spec.arch && spec.arch !== arches[0]) throw new UsageError(`lab case ${ids} asks for ${spec.arch}, its hosts run ${arches[0]}`);
  return { arch: arches[0]!, accel: accels[0]! };
}

export class QemuRunner implements Runner {
  readonly capabilities: RunnerCapabilities = { name: 'qemu', deterministic: false, workloads: ['kernel-crypto'] };
  private images = new Map<GuestArch, GuestImage>();
  private builds = new Map<string, QemuBuild>();
  private inventory: Inventory | null | undefined;
  private ssh: SshTransport | null = null;
  private remotes = new Map<string, RemoteHost>();
  private readonly tag = `${process.pid}-${Date.now()}`;

  /** `inventory` (or the file MIGCOMPAT_LAB_INVENTORY names) is needed only when a side names a host. */
  constructor(private readonly opts: { dir?: string; hop?: Partial<HopOptions>; inventory?: Inventory } = {}) {}

  private labHost(name: string): LabHost {
    if (this.inventory === undefined) {
      const path = process.env.MIGCOMPAT_LAB_INVENTORY;
      this.inventory = this.opts.inventory ?? (path ? readInventory(path) : null);
    }
    if (!this.inventory) throw new UsageError(`a side names lab host '${name}' but no inventory was given (--inventory FILE or MIGCOMPAT_LAB_INVENTORY)`);
    const h = this.inventory.hosts.find((x) => x.name === name);
    if (!h) throw new UsageError(`no host '${name}' in the inventory (hosts: ${this.inventory.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  private async vmHost(name: string): Promise<VmHost> {
    const h = this.labHost(name);
    if (h.local) return { kind: 'local', name, address: migrationAddress(h) };
    let r = this.remotes.get(name);
    if (!r) {
      this.ssh ??= new (await import('../lab/transport.ts')).SshTransport();
      r = new RemoteHost(h, this.ssh, this.tag);
      this.remotes.set(name, r);
    }
    return { kind: 'ssh', name, address: migrationAddress(h), remote: r };
  }

  private static buildKey(s: SideSpec): string {
    return `${s.host ?? ''}|${s.config.arch}|${s.build}`;
  }

  /** The case's architecture and accelerator (caseMachine), from its sides' hosts. */
  private machineOf(spec: CaseSpec): { arch: GuestArch; accel: Accel } {
    const hosts = [spec.src, spec.dst, ...(spec.retryDst ? [spec.retryDst] : [])].map((id) => parseSideId(id).host).filter((h): h is string => !!h);
    return caseMachine(spec, [...new Set(hosts)].map((h) => this.labHost(h)));
  }

  private async imageFor(arch: GuestArch): Promise<GuestImage> {
    let img = this.images.get(arch);
    if (!img) {
      img = await ensureImage({ arch });
      this.images.set(arch, img);
    }
    return img;
  }

  async prepare(spec: CaseSpec): Promise<void> {
    if (spec.workload !== 'kernel-crypto') throw new UsageError(`the qemu runner runs the kernel-crypto workload only (case asks for ${spec.workload})`);
    const ids = [spec.src, spec.dst, ...(spec.retryDst ? [spec.retryDst] : [])];
    const named = ids.map((id) => parseSideId(id)).filter((s) => s.host !== undefined).length;
    if (named && named !== ids.length) throw new UsageError(`lab case: when one side names a host (@host) every side must (${ids.join(', ')})`);
    const { arch, accel } = this.machineOf(spec);
    const sides = ids.map((id) => parseSideId(id, defaultVm(arch, accel)));
    for (const [i, s] of sides.entries()) {
      if (!archProfile(arch).machineFamily.test(s.config.machine)) {
        throw new UsageError(`'${ids[i]}': ${s.config.machine} is not an ${arch} machine type (use +machine-version=X.Y, which fits either architecture)`);
      }
    }
    for (const s of sides) if (s.host) inventoryVfs(s, this.labHost(s.host)); // bad +vfs=N before anything starts
    await this.imageFor(arch);
    for (const s of sides) {
      const key = QemuRunner.buildKey(s);
      if (this.builds.has(key)) continue;
      const h = s.host ? await this.vmHost(s.host) : undefined;
      this.builds.set(key, h?.kind === 'ssh' ? await remoteBuild(h.remote, s.build) : await resolveBuild(s.build, arch));
    }
  }

  /** End SSH sessions and remove remote run folders (the image stays cached on the hosts). */
  async close(): Promise<void> {
    for (const r of this.remotes.values()) await r.cleanup();
    this.remotes.clear();
    await this.ssh?.close();
    this.ssh = null;
  }

  async run(spec: CaseSpec): Promise<Evidence> {
    return (await this.runCase(spec)).evidence;
  }

  /** The case, run once more when the first attempt may be QEMU's TCG race rather than the migration (retry.ts). */
  async runCase(spec: CaseSpec): Promise<QemuCaseResult> {
    try {
      await this.prepare(spec);
      const first = await this.attempt(spec, 1);
      const why = retryReason(first.evidence, this.machineOf(spec).accel);
      if (why === null) return first;
      const second = await this.attempt(spec, 2);
      second.evidence.timeline.unshift({ seq: -1, t: 0, side: 'harness', kind: 'note', detail: { retried: true, firstAttempt: why } });
      return second;
    } finally {
      await this.close();
    }
  }

  private async attempt(spec: CaseSpec, n: number): Promise<QemuCaseResult> {
    const t0 = Date.now();
    const timeline: TimelineEvent[] = [];
    const push = (side: TimelineEvent['side'], kind: TimelineEvent['kind'], detail: TimelineEvent['detail'], errno?: string) => {
      const e: TimelineEvent = { seq: timeline.length, t: Date.now() - t0, side, kind, detail };
      if (errno) e.errno = errno;
      timeline.push(e);
    };
    const caseId = caseTitle(spec);
    const dir = join(this.opts.dir ?? join(runDir(), 'qemu'), `${caseId.replace(/[^A-Za-z0-9.-]+/g, '_')}-${process.pid}-${Date.now()}-a${n}`);
    mkdirSync(dir, { recursive: true });
    const { arch, accel } = this.machineOf(spec);
    const tcgLimit = accel === 'tcg' ? archProfile(arch).tcgDowntimeLimitMs : null;
    const hopOpts: HopOptions = { ...DEFAULT_HOP, ...(tcgLimit !== null ? { downtimeLimitMs: tcgLimit } : {}), ...this.opts.hop, channel: spec.transfer === 'tcp' ? 'tcp' : 'unix' };
    const image = await this.imageFor(arch);
    const side = async (id: string) => {
      const s = parseSideId(id, defaultVm(arch, accel));
      const host = s.host ? await this.vmHost(s.host) : undefined;
      const config = s.host ? { ...s.config, vfio: inventoryVfs(s, this.labHost(s.host)) } : s.config;
      return { ...s, config, host, build: this.builds.get(QemuRunner.buildKey(s))! };
    };
    const src = await side(spec.src);
    const dst = await side(spec.dst);
    const ev: Evidence = {
      caseId, seed: spec.seed, stream: null, timeline, destination: null, srcFinalState: null, dstFinalState: null,
      guestOn: 'none', checks: [], hang: null, harnessError: null,
    };
    const hops: HopResult[] = [];
    const vms: QemuVm[] = [];
    const segments: { label: string; text: string }[] = [];
    let bootMs = 0;
    let drivers: Record<string, string> = {};
    try {
      let cur = await QemuVm.start({ name: 'vm0', dir, build: src.build, image, config: src.config, host: src.host });
      vms.push(cur);
      push('src', 'note', { started: 'vm0', host: cur.hostName, arch, accel, build: src.build.id, pid: cur.proc.pid, vfio: src.config.vfio.join(',') || null });
      await cur.waitIter(1, 120_000);
      bootMs = Date.now() - t0;
      push('guest', 'event', { firstIteration: bootMs });
      // the plan of hops: [target side, expected to be the final destination]
      const plan = spec.scenario === 'ping-pong' ? [dst, src, dst] : spec.scenario === 'retry-after-refusal' && spec.retryDst ? [dst, await side(spec.retryDst)] : [dst];
      for (const [i, target] of plan.entries()) {
        const { result, dst: next } = await liveHop(cur, { name: `vm${i + 1}`, dir, build: target.build, image, config: { ...target.config, workload: src.config.workload }, host: target.host }, hopOpts, push);
        hops.push(result);
        ev.destination = { accepted: result.outcome === 'migrated' || (result.outcome === 'broken' && result.migration?.status === 'completed'), errno: null, stage: result.migration?.status === 'completed' ? 'qemu-load' : result.blockedReasons.length ? 'migration-blocker' : 'qemu-load', reason: result.reason };
        if (result.outcome === 'error') throw new InfraError(result.reason);
        if (next) {
          segments.push({ label: cur.name, text: cur.workloadText() });
          await cur.stop();
          cur = next;
          vms.push(cur);
        }
        if (result.outcome !== 'migrated' && !(spec.scenario === 'retry-after-refusal' && i === 0 && result.outcome === 'refused')) break;
      }
      const last = hops[hops.length - 1]!;
      const st = cur.alive() ? await cur.qmp.queryStatus().catch(() => null) : null;
      const onDst = last.outcome === 'migrated';
      // a hop the destination took and then failed a check on: the guest ran there when it was judged
      // (the harness ended that VM), so the verdict names the failed check, not a lost guest
      const tookOver = !onDst && last.migration?.status === 'completed' && last.dstStatus === 'running';
      ev.guestOn = st?.running ? (onDst ? 'dst' : 'src') : tookOver ? 'dst' : 'none';
      ev.srcFinalState = onDst || tookOver ? (last.srcStatus ?? null) : st?.running ? 'RUNNING' : (st?.status ?? 'exited');
      ev.dstFinalState = onDst ? (st?.running ? 'RUNNING' : (st?.status ?? 'exited')) : tookOver ? 'RUNNING' : (last.dstStatus ?? 'exited');
      // the continuity of kept hops is checked over all segments below; a failed hop's own checks stay
      for (const h of hops) ev.checks.push(...h.checks.filter((c) => h.outcome !== 'migrated' || !(c.name === 'workload-continuity' || c.name === 'workload-results')));
      await cur.sync();
      segments.push({ label: cur.name, text: cur.workloadText() });
      ev.checks.push(...checkContinuity(segments, src.config.workload.size, 1));
      drivers = servingDrivers(vms[0]!.workload().algs);
      push('guest', 'note', { drivers: Object.entries(drivers).map(([k, v]) => `${k}=${v}`).join(' ') });
      const hisi = vms[0]!.hisi;
      if (hisi) push('guest', 'note', { hisiModules: hisi.modules.join(',') || null, hisiPci: Object.entries(hisi.pci).map(([d, n]) => `${d}:${n}`).join(',') || null });
      for (const h of hops) {
        push('harness', 'note', { hop: h.outcome, totalTimeMs: h.figures.totalTimeMs, downtimeMs: h.figures.downtimeMs, transferredBytes: h.figures.transferredBytes });
      }
    } catch (e) {
      const oops = vms.map((v) => v.oops()).find(Boolean);
      ev.harnessError = oops ? `guest oops (infrastructure, TCG dirty-page race before QEMU 9.0): ${oops}` : (e as Error).message;
      push('harness', 'note', { error: ev.harnessError });
    } finally {
      for (const v of vms) await v.stop();
    }
    return { evidence: ev, hops, bootMs, drivers, attempts: n };
  }
}
