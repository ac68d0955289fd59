// One QEMU process running the guest: its command line (argument array, never a shell string), its
// QMP client, its console and workload files. Source and destination of a hop use the same command line
// but for file paths, the QMP socket and `-incoming`, unless a refusal scenario changes one thing.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QemuBuild } from './builds.ts';
import { InfraError } from './errors.ts';
import type { GuestImage } from './image.ts';
import { startTracked, type Tracked } from './procs.ts';
import { QmpClient } from './qmp.ts';
import { WORKLOAD_PORT } from './guestInit.ts';
import { DEFAULT_WORKLOAD, parseWorkload, type WorkloadLog, type WorkloadParams } from './workload.ts';

export interface VmConfig {
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

export const DEFAULT_VM: VmConfig = {
  machine: 'pc-q35-7.2', memMiB: 256, cpu: 'qemu64', workloadPort: true, virtioCrypto: false, vfio: [], workload: DEFAULT_WORKLOAD,
};

export interface VmStart {
  name: string;
  dir: string;
  build: QemuBuild;
  image: GuestImage;
  config: VmConfig;
  /** 'defer' for a live destination, 'exec:cat FILE' to restore a file, undefined for a source */
  incoming?: string;
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

export function qemuArgs(s: VmStart): string[] {
  const c = s.config;
  const f = (n: string) => join(s.dir, `${s.name}-${n}`);
  const args = [
    ...s.build.args,
    '-name', s.name,
    '-machine', c.machine, '-accel', 'tcg', // KVM opens on these hosts but hangs guests
    '-cpu', c.cpu, '-smp', '1', '-m', `${c.memMiB}M`,
    '-nodefaults', '-display', 'none', '-no-reboot', '-no-user-config',
    '-kernel', s.image.kernel, '-initrd', s.image.initrd,
    '-append', `console=ttyS0 panic=1 quiet mc.delay=${c.workload.delayMs} mc.size=${c.workload.size}`,
    '-chardev', `file,id=con0,path=${f('console.log')}`, '-serial', 'chardev:con0',
    '-qmp', `unix:${socketPath(s.dir, `${s.name}-qmp.sock`)},server=on,wait=off`,
  ];
  if (c.workloadPort) {
    args.push('-device', 'virtio-serial-pci,id=vser0',
      '-chardev', `file,id=wl0,path=${f('workload.log')}`,
      '-device', `virtserialport,bus=vser0.0,chardev=wl0,name=${WORKLOAD_PORT}`);
  }
  if (c.virtioCrypto) args.push('-object', 'cryptodev-backend-builtin,id=cryptodev0', '-device', 'virtio-crypto-pci,id=crypto0,cryptodev=cryptodev0');
  for (const [i, addr] of c.vfio.entries()) args.push('-device', `vfio-pci,host=${addr},id=vf${i}`);
  if (s.incoming) args.push('-incoming', s.incoming);
  return args;
}

const OOPS = /(BUG: |Oops|general protection fault|Kernel panic|kernel BUG at|list_add corruption|RIP: 0010:)/;

/** The first kernel oops line of a console log, or null. */
export function findOops(console: string): string | null {
  for (const line of console.split('\n')) if (OOPS.test(line)) return line.trim();
  return null;
}

export class QemuVm {
  qmp!: QmpClient;
  proc!: Tracked;
  readonly args: string[];
  readonly startedAt = Date.now();

  private constructor(readonly spec: VmStart) {
    this.args = qemuArgs(spec);
  }

  get name(): string {
    return this.spec.name;
  }
  file(n: 'console.log' | 'workload.log' | 'qmp.sock'): string {
    if (n === 'qmp.sock') return socketPath(this.spec.dir, `${this.spec.name}-qmp.sock`);
    return join(this.spec.dir, `${this.spec.name}-${n}`);
  }

  static async start(spec: VmStart): Promise<QemuVm> {
    mkdirSync(spec.dir, { recursive: true });
    const vm = new QemuVm(spec);
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
      if (last >= n) return last;
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
  }
}
