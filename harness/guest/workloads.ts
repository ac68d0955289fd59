// Guest workloads (docs/reference.md#completion-paths, docs/reference.md#stream-length-by-situation,
// docs/reference.md#no-guest-driver-what-the-source-saves): what the guest does before the stop point, what
// it does after it runs again (on the destination VF, or on the source after a refusal), and the checks that
// decide whether it lost or corrupted anything.
import type { CheckResult } from '../oracle/types.ts';
import type { DeviceType } from '../device/mmio.ts';
import { SQE_STATUS } from '../device/sqe.ts';
import { AEQ_EVENT } from '../device/regs.ts';
import { GuestQm, type CompletionMode } from './qm.ts';
import { RequestFactory, type GuestRequest } from './requests.ts';
import { resultMatches } from './expected.ts';
import type { Vm } from './vm.ts';

/** The guest workloads a case can run (their names are what matrices and the CLI accept). */
export type WorkloadName = 'user-polling' | 'kernel-crypto' | 'ras-recovery' | 'no-driver' | 'driver-unloaded';
export const WORKLOADS: readonly WorkloadName[] = ['user-polling', 'kernel-crypto', 'ras-recovery', 'no-driver', 'driver-unloaded'];

export interface WorkloadOptions {
  /** requests submitted before the stop point */
  requests: number;
  /** how many of them are still not completed at the stop point */
  inflight: number;
  requestSize: number;
  seed: number;
  deviceType: DeviceType;
  /** requests submitted after the guest runs again (default 4) */
  resumeRequests?: number;
  /** simulated-time budget of each guest phase, microseconds (default 200 ms) */
  budgetUs?: number;
}

export interface Workload {
  readonly name: WorkloadName;
  boot(vm: Vm): void;
  runToStopPoint(vm: Vm): void;
  resume(vm: Vm): void;
  checks(vm: Vm): CheckResult[];
}

type DriveResult = 'done' | 'stall' | 'timeout';

const SQ_DEPTH = 64;
const MAX_LOOP = 200_000; // bound of a guest wait loop
const IDLE_POLL_US = 50;

const MODE: Record<WorkloadName, CompletionMode> = {
  'user-polling': 'user', 'kernel-crypto': 'kernel', 'ras-recovery': 'kernel', 'no-driver': 'kernel', 'driver-unloaded': 'kernel',
};

class GuestWorkload implements Workload {
  private readonly factory: RequestFactory;
  private readonly mode: CompletionMode;
  private readonly resumeRequests: number;
  private readonly budgetUs: number;
  private drv: GuestQm | null = null;
  /** every driver instance the guest loaded (driver-unloaded loads twice) */
  private readonly drivers: GuestQm[] = [];
  private readonly all: GuestRequest[] = [];
  private backlog: GuestRequest[] = [];
  private readonly phases: { phase: string; result: DriveResult }[] = [];
  private inflightAtStop = 0;
  private eqEventsBeforeResume = 0;
  private rasInjected = false;
  private recoveryDone = false;
  private resumed = false;

  constructor(readonly name: WorkloadName, private readonly opts: WorkloadOptions) {
    if (!(opts.requests >= 0) || !(opts.inflight >= 0)) throw new RangeError('requests and inflight must be >= 0');
    this.factory = new RequestFactory(opts.deviceType, opts.requestSize, opts.seed);
    this.mode = MODE[name];
    this.resumeRequests = opts.resumeRequests ?? 4;
    this.budgetUs = opts.budgetUs ?? 200_000;
  }

  // ------------------------------------------------------------------ phases

  boot(vm: Vm): void {
    if (this.name === 'no-driver') {
      vm.timeline.push('guest', 'note', { what: 'no VF driver loaded' });
      return;
    }
    if (!this.loadDriver(vm)) return;
    if (this.name === 'driver-unloaded') {
      // use the device a little, then unload the driver: QM_VF_STATE = NOT_READY
      // (docs/reference.md#stream-length-by-situation)
      this.submitNew(vm, Math.min(4, Math.max(1, this.opts.requests)));
      this.drive(vm, 'boot', () => this.allDone());
      this.drv!.unload();
      this.drv = null;
    }
  }

  runToStopPoint(vm: Vm): void {
    if (!this.drv) {
      vm.device.advance(IDLE_POLL_US);
      return;
    }
    const n = this.opts.requests;
    const inflight = Math.min(this.opts.inflight, n);
    this.submitNew(vm, n);
    const need = this.all.length - inflight;
    this.drive(vm, 'to-stop-point', () => this.completedCount() >= need);
    this.inflightAtStop = this.all.length - this.completedCount();
    this.eqEventsBeforeResume = this.drv.eqEventsSeen;
    vm.timeline.push('guest', 'note', { what: 'stop-point', inflight: this.inflightAtStop });
  }

  resume(vm: Vm): void {
    this.resumed = true;
    vm.timeline.push('guest', 'note', { what: 'resume', on: vm.device.side });
    if (this.name === 'no-driver' || this.name === 'driver-unloaded') {
      // the guest loads its VF driver now, on whatever VF it runs on
      if (!this.loadDriver(vm)) return;
      this.eqEventsBeforeResume = this.drv!.eqEventsSeen;
      this.submitNew(vm, Math.max(1, this.opts.requests));
      this.drive(vm, 'resume', () => this.allDone());
      return;
    }
    if (!this.drv) return;
    this.drv.service(); // interrupts that became pending while the VM was stopped
    if (this.name === 'ras-recovery') {
      this.rasInjected = true;
      vm.device.injectRas('eq-overflow');
      const r = this.drive(vm, 'ras-event', () => this.drv!.resetRequested);
      if (r === 'done') this.recover(vm);
    }
    this.submitNew(vm, this.resumeRequests);
    this.drive(vm, 'resume', () => this.allDone());
  }

  /** EQ overflow (docs/reference.md#event-queue-entries): reset the whole function, reload, resubmit what was lost. */
  private recover(vm: Vm): void {
    const drv = this.drv!;
    drv.resetRequested = false;
    const lost = drv.dropOutstanding();
    vm.requestFunctionReset();
    if (!drv.load()) return;
    drv.recoveries++;
    this.recoveryDone = true;
    this.backlog = [...lost, ...this.backlog];
    vm.timeline.push('guest', 'note', { what: 'recovered', resubmitted: lost.length });
  }

  // ------------------------------------------------------------------ helpers

  private loadDriver(vm: Vm): boolean {
    const queues = Math.min(2, vm.device.config.qpNum);
    const drv = new GuestQm(vm, this.mode, { queues, depth: SQ_DEPTH });
    this.drivers.push(drv);
    this.drv = drv;
    return drv.load();
  }

  private submitNew(vm: Vm, n: number): void {
    for (let i = 0; i < n; i++) {
      const r = this.factory.make(vm.memory);
      this.all.push(r);
      this.backlog.push(r);
    }
    this.feed();
  }

  private feed(): void {
    const drv = this.drv;
    if (!drv || !drv.loaded) return;
    while (this.backlog.length > 0 && drv.submit(this.backlog[0])) this.backlog.shift();
  }

  private completedCount(): number {
    let n = 0;
    for (const r of this.all) if (r.completions > 0) n++;
    return n;
  }

  private allDone(): boolean {
    return this.backlog.length === 0 && this.completedCount() === this.all.length;
  }

  /** Let the guest and the device run until `until` holds; a stall or an exhausted budget is recorded, never a hang. */
  private drive(vm: Vm, phase: string, until: () => boolean): DriveResult {
    const drv = this.drv!;
    const start = vm.clock.now();
    let result: DriveResult = 'timeout';
    for (let i = 0; i < MAX_LOOP; i++) {
      drv.service();
      this.feed();
      if (until()) {
        result = 'done';
        break;
      }
      if (vm.clock.now() - start > this.budgetUs) break;
      const dev = vm.device;
      const due = dev.nextDue();
      if (due !== null) {
        dev.advance(Math.max(0, due - vm.clock.now()));
        continue;
      }
      if (vm.pendingIrqs) continue;
      // engine idle and nothing pending: one more poll period, then it is a stall
      dev.advance(IDLE_POLL_US);
      drv.service();
      this.feed();
      if (until()) {
        result = 'done';
        break;
      }
      if (dev.nextDue() === null && vm.pendingIrqs === 0) {
        result = 'stall';
        break;
      }
    }
    this.phases.push({ phase, result });
    if (result !== 'done') vm.timeline.push('guest', 'note', { what: 'stall', phase, result, outstanding: this.all.length - this.completedCount() });
    return result;
  }

  // ------------------------------------------------------------------ checks

  checks(vm: Vm): CheckResult[] {
    const out: CheckResult[] = [];
    const errors = this.drivers.flatMap((d) => d.deviceErrors);
    const loadedOk = this.drivers.length > 0 && errors.length === 0;
    out.push({
      name: 'no-device-error',
      ok: errors.length === 0,
      detail: errors.length ? errors.slice(0, 3).join('; ') : `${this.drivers.length} driver load(s), no device error seen by the guest`,
    });
    if (this.name === 'no-driver' || this.name === 'driver-unloaded') {
      out.push({ name: 'driver-loads-after-migration', ok: this.resumed && loadedOk && !!this.drv?.loaded, detail: this.drv?.loaded ? 'guest VF driver loaded on the VF it runs on' : 'guest VF driver did not load' });
    }
    const missing = this.all.filter((r) => r.completions === 0);
    out.push({
      name: 'all-completed',
      ok: missing.length === 0 && this.all.length > 0,
      detail: missing.length ? `${missing.length} of ${this.all.length} requests never completed (ids ${missing.slice(0, 5).map((r) => r.id).join(',')})` : `${this.all.length} requests completed`,
    });
    const anomalies = this.drivers.flatMap((d) => d.anomalies);
    const dup = this.all.filter((r) => r.completions > 1);
    out.push({
      name: 'exactly-once',
      ok: anomalies.length === 0 && dup.length === 0,
      detail: anomalies.length ? anomalies.slice(0, 3).join('; ') : 'no request completed twice, no stray completion',
    });
    const wrong: number[] = [];
    for (const r of this.all) {
      if (r.completions === 0) continue;
      if (r.status !== SQE_STATUS.DONE || !resultMatches(r, vm.memory.readN(r.dst, r.outLen))) wrong.push(r.id);
    }
    out.push({
      name: 'results-match-node-crypto',
      ok: wrong.length === 0,
      detail: wrong.length ? `wrong result or error status for requests ${wrong.slice(0, 5).join(',')}` : 'every completed result equals the host computation',
    });
    const stalls = this.phases.filter((p) => p.result !== 'done');
    out.push({
      name: 'no-stall',
      ok: stalls.length === 0,
      detail: stalls.length ? stalls.map((p) => `${p.phase}: ${p.result}`).join(', ') : `${this.phases.length} phase(s) finished`,
    });
    if (this.mode === 'kernel' && this.drv) {
      const seen = this.drv.eqEventsSeen - this.eqEventsBeforeResume;
      out.push({ name: 'eq-events-delivered', ok: seen > 0, detail: `${seen} EQE(s) consumed after the guest ran again` });
    }
    if (this.name === 'ras-recovery') {
      const sawAeq = this.drivers.some((d) => d.aeqEvents.includes(AEQ_EVENT.EQ_OVERFLOW));
      out.push({
        name: 'ras-recovery-finished',
        ok: this.rasInjected && sawAeq && this.recoveryDone,
        detail: !this.rasInjected ? 'RAS event never injected (guest did not resume)' : !sawAeq ? 'AEQ event never reached the guest' : this.recoveryDone ? 'AEQ event -> function reset -> driver reloaded' : 'reload after reset failed',
      });
    }
    return out;
  }

  /** figures for evidence and tests */
  get summary() {
    return {
      requests: this.all.length,
      completed: this.completedCount(),
      inflightAtStop: this.inflightAtStop,
      phases: this.phases.slice(),
    };
  }
}

export function createWorkload(name: WorkloadName, opts: WorkloadOptions): Workload & { readonly summary: GuestWorkload['summary'] } {
  if (!(name in MODE)) throw new RangeError(`unknown workload ${name}`);
  return new GuestWorkload(name, opts);
}
