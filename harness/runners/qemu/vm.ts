// One QEMU process running the guest: its command line (argument array, never a shell string), its
// QMP client, its console and workload files. Source and destination of a hop use the same command line
// but for file paths, the QMP socket and `-incoming`, unless a refusal scenario changes one thing.
// A VM may run on a lab host over SSH (remote.ts): same argument array with that host's paths.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archProfile, type Accel, type GuestArch } from './arch.ts';
import type { QemuBuild } from './builds.ts';
import { InfraError } from './errors.ts';
import type { GuestImage } from './image.ts';
import { startTracked, type ProcHandle } from './procs.ts';
import type { RemoteHost, RemoteMirror } from './remote.ts';
import { QmpClient } from './qmp.ts';
import { WORKLOAD_PORT } from './guestInit.ts';
import { DEFAULT_WORKLOAD, parseWorkload, type HisiReport, type WorkloadLog, type WorkloadParams } from './workload.ts';

export interface VmConfig {
  /** guest architecture (the build must emulate it) */
  arch: GuestArch;
  /** tcg everywhere but on lab hosts whose inventory says kvm (KVM hangs guests on the harness machines) */
  accel: Accel;
  /** versioned machine type: both ends must agree (the alias "q35" moves with the QEMU version) */
  machine: string;
  memMiB: number;
  /** a named CPU model: QEMU does not check -cpu across a migration */
  cpu: string;
  /** the virtio-serial device carrying the workload port */
  workloadPort: boolean;
  /** a virtio-crypto-pci device (QEMU marks it unmigratable: a migration blocker) */
  virtioCrypto: boolean;
  /** PCI addresses of VFs passed through with vfio-pci (lab) */
  vfio: string[];
  workload: WorkloadParams;
}

/** The VM of an architecture: release line 7.2's machine type, the accelerator's CPU model, 256 MiB, one workload port. */
export function defaultVm(arch: GuestArch = 'x86_64', accel: Accel = 'tcg'): VmConfig {
  const p = archProfile(arch);
  return { arch, accel, machine: p.machineAt('7.2'), memMiB: 256, cpu: p.cpu[accel], workloadPort: true, virtioCrypto: false, vfio: [], workload: DEFAULT_WORKLOAD };
}

export const DEFAULT_VM: VmConfig = defaultVm('x86_64');

/** Where a VM runs: the harness machine, or a lab host over SSH. `address` is where its migration listener is reached. */
export type VmHost =
  | { kind: 'local'; name: string; address: string }
  | { kind: 'ssh'; name: string; address: string; remote: RemoteHost };

/** Paths as the QEMU process sees them (another host's for a remote VM). */
export interface VmPaths {
  file: (n: 'console.log' | 'workload.log') => string;
  qmp: string;
  kernel: string;
  initrd: string;
}

export interface VmStart {
  name: string;
  dir: string;
  build: QemuBuild;
  image: GuestImage;
  config: VmConfig;
  /** 'defer' for a live destination, 'exec:cat FILE' to restore a file, undefined for a source */
  incoming?: string;
  /** undefined: the harness machine (as before lab mode) */
  host?: VmHost;
}

const shortDirs = new Map<string, string>();
process.on('exit', () => {
  for (const d of shortDirs.values()) rmSync(d, { recursive: true, force: true });
});
/** unix socket paths must stay under 108 bytes: sockets live in a short temp folder per run folder */
export function socketPath(dir: string, name: string): string {
  let d = shortDirs.get(dir);
  if (!d) {
    d = mkdtempSync(join(tmpdir(), 'mcq-'));
    shortDirs.set(dir, d);
  }
  return join(d, name);
}

export function localPaths(s: VmStart): VmPaths {
  return { file: (n) => join(s.dir, `${s.name}-${n}`), qmp: socketPath(s.dir, `${s.name}-qmp.sock`), kernel: s.image.kernel, initrd: s.image.initrd };
}

export function qemuArgs(s: VmStart, at: VmPaths = localPaths(s)): string[] {
  const c = s.config;
  const p = archProfile(c.arch);
  const f = at.file;
  const args = [
    ...s.build.args,
    '-name', s.name,
    '-machine', [c.machine, ...p.machineProps].join(','),
    // tcg unless a lab host's inventory says kvm: KVM opens on the harness machines but hangs guests
    '-accel', c.accel,
    '-cpu', c.cpu, '-smp', '1', '-m', `${c.memMiB}M`,
    '-nodefaults', '-display', 'none', '-no-reboot', '-no-user-config',
    '-kernel', at.kernel, '-initrd', at.initrd,
    '-append', `console=${p.console} panic=1 quiet mc.delay=${c.workload.delayMs} mc.size=${c.workload.size}`,
    '-chardev', `file,id=con0,path=${f('console.log')}`, '-serial', 'chardev:con0',
    '-qmp', `unix:${at.qmp},server=on,wait=off`,
  ];
  if (c.workloadPort) {
    args.push('-device', 'virtio-serial-pci,id=vser0',
      '-chardev', `file,id=wl0,path=${f('workload.log')}`,
      '-device', `virtserialport,bus=vser0.0,chardev=wl0,name=${WORKLOAD_PORT}`);
  }
  if (c.virtioCrypto) args.push('-object', 'cryptodev-backend-builtin,id=cryptodev0', '-device', 'virtio-crypto-pci,id=crypto0,cryptodev=cryptodev0');
  // VFs last, in list order, so both ends give them the same PCI slots
  // (an mdev from a lab inventory is passed by its sysfs path, as QEMU's vfio-pci takes mediated devices)
  for (const [i, addr] of c.vfio.entries()) {
    const dev = addr.startsWith('mdev:') ? `sysfsdev=/sys/bus/mdev/devices/${addr.slice(5)}` : `host=${addr}`;
    args.push('-device', `vfio-pci,${dev},id=vf${i}`);
  }
  if (s.incoming) args.push('-incoming', s.incoming);
  return args;
}

// x86 and arm64 wordings (arm64: "Unable to handle kernel …", "Internal error: Oops …")
const OOPS = /(BUG: |Oops|general protection fault|Kernel panic|kernel BUG at|list_add corruption|RIP: 0010:|Unable to handle kernel|Internal error:)/;

/** The first kernel oops line of a console log, or null. */
export function findOops(console: string): string | null {
  for (const line of console.split('\n')) if (OOPS.test(line)) return line.trim();
  return null;
}

export class QemuVm {
  qmp!: QmpClient;
  proc!: ProcHandle;
  args: string[] = [];
  readonly startedAt = Date.now();
  /** the guest's HISI line, read at boot on the first VM and handed on to each VM the guest migrates to */
  hisi: HisiReport | null = null;
  private mirrors: RemoteMirror[] = [];

  private constructor(readonly spec: VmStart) {}

  /** lab host name ('local' on the harness machine) */
  get hostName(): string {
    return this.spec.host?.name ?? 'local';
  }

  get name(): string {
    return this.spec.name;
  }
  file(n: 'console.log' | 'workload.log' | 'qmp.sock'): string {
    if (n === 'qmp.sock') return socketPath(this.spec.dir, `${this.spec.name}-qmp.sock`);
    return join(this.spec.dir, `${this.spec.name}-${n}`);
  }

  static async start(spec: VmStart): Promise<QemuVm> {
    if (spec.build.arch !== spec.config.arch) throw new InfraError(`${spec.name}: ${spec.build.id} runs ${spec.build.arch} guests, the VM is ${spec.config.arch}`);
    if (spec.image.arch !== spec.config.arch) throw new InfraError(`${spec.name}: the guest image is ${spec.image.arch}, the VM is ${spec.config.arch}`);
    mkdirSync(spec.dir, { recursive: true });
    const vm = new QemuVm(spec);
    if (spec.host?.kind === 'ssh') {
      await vm.startRemote(spec.host.remote);
      return vm;
    }
    vm.args = qemuArgs(spec);
    vm.proc = startTracked(spec.build.binary, vm.args, { ...process.env, ...spec.build.env });
    try {
      vm.qmp = await QmpClient.connect(vm.file('qmp.sock'), { timeoutMs: 15_000, alive: () => !vm.proc.hasExited() });
    } catch (e) {
      await vm.proc.stop(500);
      const why = vm.proc.stderr().trim().split('\n').pop() ?? '';
      throw new InfraError(`${spec.name} (${spec.build.id}) did not start: ${why || (e as Error).message}`);
    }
    return vm;
  }

  private async startRemote(r: RemoteHost): Promise<void> {
    const img = await r.pushImage(this.spec.image);
    const at: VmPaths = { file: (n) => `${r.runDir}/${this.name}-${n}`, qmp: `${r.runDir}/${this.name}-qmp.sock`, kernel: img.kernel, initrd: img.initrd };
    if (Buffer.byteLength(at.qmp) > 107) throw new InfraError(`${r.lab.name}: QMP socket path ${at.qmp} is over the 107-byte unix socket limit (shorten workdir)`);
    this.args = qemuArgs(this.spec, at);
    this.proc = await r.start([this.spec.build.binary, ...this.args]);
    try {
      this.qmp = await QmpClient.connectVia(() => r.openUnix(at.qmp), `${r.lab.name}:${at.qmp}`, { timeoutMs: 20_000, alive: () => !this.proc.hasExited() });
      this.mirrors.push(await r.mirror(at.file('console.log'), this.file('console.log')));
      this.mirrors.push(await r.mirror(at.file('workload.log'), this.file('workload.log')));
    } catch (e) {
      await this.proc.stop(500);
      for (const m of this.mirrors) await m.stop();
      const why = this.proc.stderr().trim().split('\n').pop() ?? '';
      throw new InfraError(`${this.name} on ${r.lab.name} (${this.spec.build.id}) did not start: ${why || (e as Error).message}`);
    }
  }

  /** Make the local copies of a remote VM's console and workload files complete (no-op for a local VM). */
  async sync(): Promise<void> {
    for (const m of this.mirrors) await m.sync();
  }

  consoleText(): string {
    return existsSync(this.file('console.log')) ? readFileSync(this.file('console.log'), 'utf8') : '';
  }
  workloadText(): string {
    return existsSync(this.file('workload.log')) ? readFileSync(this.file('workload.log'), 'utf8') : '';
  }
  workload(): WorkloadLog {
    return parseWorkload(this.workloadText());
  }
  lastIter(): number {
    const it = this.workload().iters;
    return it.length ? it[it.length - 1]!.n : 0;
  }
  oops(): string | null {
    return findOops(this.consoleText());
  }
  alive(): boolean {
    return !this.proc.hasExited();
  }

  /** Wait until the workload log holds an iteration >= n (fails fast on an oops or a dead QEMU). */
  async waitIter(n: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = this.lastIter();
      if (last >= n) {
        this.hisi ??= this.workload().hisi;
        return last;
      }
      const oops = this.oops();
      if (oops) throw new InfraError(`${this.name}: guest oops: ${oops}`);
      if (!this.alive()) throw new InfraError(`${this.name}: QEMU exited (${this.proc.stderr().trim().split('\n').pop() ?? ''})`);
      if (Date.now() > deadline) throw new InfraError(`${this.name}: no ITER ${n} within ${timeoutMs} ms (last ${last})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** quit over QMP, then make sure the process is gone. */
  async stop(): Promise<void> {
    if (this.alive()) {
      try {
        await this.qmp.execute('quit', undefined, 2000);
      } catch {
        /* it may close the socket before answering */
      }
    }
    this.qmp?.close();
    await this.proc.stop(1500);
    if (this.mirrors.length) {
      await this.sync().catch(() => null);
      for (const m of this.mirrors) await m.stop();
      this.mirrors = [];
    }
  }
}
