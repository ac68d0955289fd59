// A `ktree:NAME` revision bound to one simulated VF: the real driver code, probed in the shim
// library, driven exactly as the VFIO core drives a variant driver (open_device, the migration
// ops, the data-fd file operations, reset through the PCI error handlers). Its MMIO goes to the
// same QmHost the models use, so both see the same registers, rings and workloads.
import { DEVICE_IDS } from '../device/mmio.ts';
import type { DriverContext } from '../drivers/revision.ts';
import { errnoName, fail, ok, type ErrnoName, type IoResult } from '../util/errno.ts';
import { HangError, type MigrationDriver } from '../vfio/driver.ts';
import { WALK_BOUND } from '../vfio/fsm.ts';
import { MIG_STATE, MIG_STATE_NAMES, type DataFd, type MigState, type PrecopyInfo } from '../vfio/types.ts';
import { SHIM_CORE_HANG, SHIM_DOORBELL_BOUND, SHIM_DOORBELL_HANG, SHIM_SET_HANG, loadShimLib, type ShimLib } from './ffi.ts';

/** PCI revision of a QM V3 PF (hisi_acc_qm.h QM_HW_V3): the driver offers migration only from V3 on. */
export const QM_HW_V3 = 0x30;
const VFIO_MIG_GET_PRECOPY_INFO = 0x3b79;

const stateName = (n: number): MigState => MIG_STATE_NAMES.find((k) => MIG_STATE[k] === n) ?? 'ERROR';
const errno = (ret: number): ErrnoName => errnoName(ret) as ErrnoName;

let nextFdBase = 5000;
/** bindings still holding a shim instance; a long-lived process frees them between cases */
const live = new Set<KtreeDriver>();

/** Unbind every real-driver instance of this process (between cases or probes). */
export function releaseAllKtreeDrivers(): void {
  for (const d of [...live]) d.destroy();
}

export class KtreeDriver implements MigrationDriver {
  readonly migrationFlags: number;
  private readonly lib: ShimLib;
  private readonly inst: number;
  /** arcs asked of the core during the current SET (for the timeline and the firmware hook) */
  private pending: { from: MigState; to: MigState } | null = null;
  private arcs: string[] = [];
  private fdSeq = nextFdBase;
  private destroyed = false;
  /** the driver programmed SQC/CQC base tables during the current arc (a real restore happened) */
  private restored = false;
  /** why the current SET request is being abandoned as a hang (set just before the shim escapes) */
  private hangWhere: string | null = null;

  constructor(readonly revId: string, libPath: string, private readonly ctx: DriverContext) {
    nextFdBase = nextFdBase >= 1_000_000 ? 5000 : nextFdBase + 100;
    this.lib = loadShimLib(libPath);
    const host = ctx.host;
    const tl = ctx.timeline;
    const side = ctx.side;
    // The device records what it receives; this binding only forwards (and notes the driver's log).
    const sink = {
      read32: (s: 'vf' | 'pf', o: number) => host.read32(s, o),
      write32: (s: 'vf' | 'pf', o: number, v: number) => host.write32(s, o, v),
      write64: (s: 'vf' | 'pf', o: number, v: bigint) => host.write64(s, o, v),
      write128: (s: 'vf' | 'pf', o: number, lo: bigint, hi: bigint) => {
        // a CQC_BT set (cmd 5, op 0) is the last device programming step of a restore
        if (s === 'vf' && (lo & 0x40ffn) === 0x05n) this.restored = true;
        host.write128(s, o, lo, hi);
      },
      log: (level: number, msg: string) => tl.push(side, 'note', { dmesg: msg.trimEnd(), level, rev: revId }),
    };
    this.claimHooks();
    const inst = this.lib.create(DEVICE_IDS[ctx.config.type], ctx.config.vfId - 1, QM_HW_V3);
    if (inst < 0) throw new Error(`ktree ${revId}: probe failed (${errnoName(inst)})`);
    this.inst = inst;
    live.add(this);
    this.lib.sinks.set(inst, sink);
    const f = this.lib.migrationFlags(inst);
    if (f < 0) throw new Error(`ktree ${revId}: the driver bound without migration ops (${errnoName(f)})`);
    this.migrationFlags = f;
  }

  /** The callbacks are shared by every instance of the library: route delays and core answers here. */
  private claimHooks(): void {
    const host = this.ctx.host;
    this.lib.hooks = {
      delayUs: (us) => host.delayUs(us),
      coreStep: (cur, target, ret, next) => this.onCoreStep(cur, target, ret, next),
    };
  }

  open(): void {
    this.claimHooks();
    const r = this.lib.open(this.inst);
    if (r < 0) throw new Error(`ktree ${this.revId}: open_device failed (${errnoName(r)})`);
  }

  close(): void {
    if (this.destroyed) return;
    this.claimHooks();
    this.lib.close(this.inst);
  }

  /** Unbind the driver from the VF and free the instance (the process may run many cases). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    this.claimHooks();
    this.lib.destroy(this.inst);
  }

  getState(): MigState {
    this.claimHooks();
    const r = this.lib.getState(this.inst);
    return r.ret < 0 ? 'ERROR' : stateName(r.state);
  }

  setState(target: MigState): IoResult<DataFd | null> {
    this.claimHooks();
    this.pending = null;
    this.arcs = [];
    this.restored = false;
    this.hangWhere = null;
    const r = this.lib.setState(this.inst, MIG_STATE[target]);
    if (r.ret === SHIM_SET_HANG) {
      // the SET never returns: the arc in progress (if any) is recorded as hung, the walk is the evidence
      // (set by the callbacks during the call: TypeScript cannot see that)
      const p = this.pending as { from: MigState; to: MigState } | null;
      this.pending = null;
      if (p) this.ctx.timeline.push(this.ctx.side, 'arc', { from: p.from, to: p.to }, 'HANG');
      throw new HangError(this.hangWhere ?? `${this.revId} set_device_state: the device's state mutex is held by a SET request that never returned`,
        [...this.arcs]);
    }
    const reached = this.getState();
    this.settleArc(reached, r.ret < 0 ? errno(r.ret) : undefined);
    if (r.ret < 0) return fail(errno(r.ret));
    return ok(r.file ? new KtreeFile(this.lib, r.file, this.fdSeq++, () => this.claimHooks()) : null);
  }

  dataSize(): IoResult<bigint> {
    this.claimHooks();
    const r = this.lib.dataSize(this.inst);
    return r.ret < 0 ? fail(errno(r.ret)) : ok(r.len);
  }

  reset(): IoResult<void> {
    this.claimHooks();
    this.lib.resetPrepare(this.inst);
    this.ctx.host.functionReset();
    this.lib.resetDone(this.inst);
    return ok(undefined);
  }

  /** The driver's software QM struct (what firmware reads after a restore; evidence for compare). */
  softwareQm(): ReturnType<ShimLib['vfQm']> {
    return this.lib.vfQm(this.inst);
  }

  // The driver asked the tree's core for a step and got this answer. The previous arc succeeded iff
  // the driver's state moved to its end; that is when a completed RESUMING→STOP hands the bases to
  // firmware. Returning 1 makes the shim abandon the SET request (a hang, never an errno).
  private onCoreStep(cur: number, target: number, ret: number, next: number): number {
    if (ret === SHIM_DOORBELL_HANG) {
      // inside an arc (start_device's loop): the same bound as the model's (START_DEVICE_BOUND,
      // docs/revisions.md); the arc in progress stays pending and is recorded as hung
      this.hangWhere = `${this.revId} start_device: SQ doorbell loop past ${SHIM_DOORBELL_BOUND} doorbells`;
      return 1;
    }
    const curS = stateName(cur);
    const targetS = stateName(target);
    this.settleArc(curS, undefined);
    if (ret === SHIM_CORE_HANG) {
      this.hangWhere = `${this.revId} vfio_mig_get_next_state (the tree's core): no answer for ${curS}->${targetS} within its CPU-time budget`;
      return 1;
    }
    if (ret < 0) return 0; // the driver fails the request with its own errno
    if (this.arcs.length >= WALK_BOUND) {
      this.hangWhere = `${this.revId} set_device_state: the walk to ${targetS} passed ${WALK_BOUND} arcs`;
      return 1;
    }
    const nextS = stateName(next);
    this.pending = { from: curS, to: nextS };
    this.restored = false;
    this.arcs.push(`${curS}->${nextS}`);
    return 0;
  }

  private settleArc(now: MigState, err: ErrnoName | undefined): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    const done = now === p.to;
    if (done && p.from === 'RESUMING' && p.to === 'STOP' && this.restored) {
      // docs/device-model.md#model-assumptions (1): after a restore the device delivers events to the driver's
      // composed eqe_dma/aeqe_dma, which only the driver's software QM struct holds. Like the
      // models, only a load that programmed the device counts (not a match-only stream or the
      // NULL-address guard's early return).
      const q = this.lib.vfQm(this.inst);
      this.ctx.host.firmware.setEventDmaBases(q.eqeDma, q.aeqeDma);
    }
    // after the hook, as the models record it (the hook runs inside their load step)
    this.ctx.timeline.push(this.ctx.side, 'arc', { from: p.from, to: p.to }, done ? undefined : err ?? 'EINVAL');
  }
}

/** A data fd of the real driver: read/write/ioctl/close go through the VFS checks to its fops. */
class KtreeFile implements DataFd {
  private closed = false;
  constructor(
    private readonly lib: ShimLib,
    private readonly file: unknown,
    readonly fd: number,
    private readonly claim: () => void,
  ) {}

  read(maxBytes: number): IoResult<Uint8Array> {
    if (this.closed) return fail('EBADF');
    this.claim();
    const r = this.lib.fileRead(this.file, maxBytes);
    return r.ret < 0 ? fail(errno(r.ret)) : ok(r.bytes);
  }

  write(bytes: Uint8Array): IoResult<number> {
    if (this.closed) return fail('EBADF');
    this.claim();
    const r = this.lib.fileWrite(this.file, bytes);
    return r < 0 ? fail(errno(r)) : ok(r);
  }

  precopyInfo(): IoResult<PrecopyInfo> {
    if (this.closed) return fail('EBADF');
    this.claim();
    const arg = new Uint8Array(24);
    new DataView(arg.buffer).setUint32(0, 24, true);
    const r = this.lib.fileIoctl(this.file, VFIO_MIG_GET_PRECOPY_INFO, arg);
    if (r < 0) return fail(errno(r));
    const dv = new DataView(arg.buffer);
    return ok({ initialBytes: dv.getBigUint64(8, true), dirtyBytes: dv.getBigUint64(16, true) });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.claim();
    this.lib.fileClose(this.file);
  }
}
