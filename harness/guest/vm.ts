// The guest as the device sees it: its RAM (shared by source and destination on sim: RAM migration
// is QEMU's job) and the VF currently assigned to it. Interrupts raised by that VF become pending
// vCPU state here; pending interrupts survive a switch of VF (QEMU migrates vCPU/APIC state).
import type { GuestMemory, QmVf } from '../device/index.ts';
import type { SimClock } from '../util/clock.ts';
import type { Rng } from '../util/rng.ts';
import type { Timeline } from '../util/timeline.ts';

export interface VmOptions {
  memory: GuestMemory;
  device: QmVf;
  clock: SimClock;
  timeline: Timeline;
  rng: Rng;
}

export class Vm {
  readonly memory: GuestMemory;
  readonly clock: SimClock;
  readonly timeline: Timeline;
  readonly rng: Rng;
  /** bit n set = MSI vector n pending for the guest */
  pendingIrqs = 0;
  /**
   * How a guest-initiated function reset (FLR from the guest's VF driver) reaches the host. QEMU turns
   * it into VFIO_DEVICE_RESET, so a runner sets this to go through the revision's reset handling;
   * unset, the VF is reset directly.
   */
  resetHook: (() => void) | null = null;
  private dev!: QmVf;
  private readonly sink = (vector: number, from: QmVf): void => {
    if (from === this.dev) this.pendingIrqs |= 1 << vector;
  };

  constructor(opts: VmOptions) {
    this.memory = opts.memory;
    this.clock = opts.clock;
    this.timeline = opts.timeline;
    this.rng = opts.rng;
    this.device = opts.device;
  }

  /** the host VF the guest currently runs on; the runner switches it after a migration */
  get device(): QmVf {
    return this.dev;
  }
  set device(d: QmVf) {
    if (this.dev === d) return;
    if (this.dev && this.dev.irqSink === this.sink) this.dev.irqSink = null;
    this.dev = d;
    d.irqSink = this.sink;
    this.timeline.push('guest', 'note', { what: 'vm-on', side: d.side });
  }

  takeIrqs(): number {
    const p = this.pendingIrqs;
    this.pendingIrqs = 0;
    return p;
  }

  requestFunctionReset(): void {
    if (this.resetHook) this.resetHook();
    else this.dev.functionReset();
  }
}
