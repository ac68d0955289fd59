// The guest's VF driver (the part of drivers/crypto/hisilicon/qm.c a migration exercises,
// docs/reference.md#guest-side): queue setup through the mailbox, SQE submission with SQ doorbells, and the
// two completion models: kernel mode (EQ interrupt -> EQEs -> CQ processing) and user mode (CQ polled by
// phase). AEQ events are handled in both modes; an EQ overflow event resets the function and reloads. Every
// loop is bounded; anything the guest would see as a device error is recorded, never thrown.
import * as R from '../device/regs.ts';
import { SQE_LOG2, SQE_OFF, SQE_SIZE } from '../device/sqe.ts';
import { IRQ_AEQ, IRQ_EQ } from '../device/qmvf.ts';
import { hi32, lo32 } from '../device/memory.ts';
import type { Vm } from './vm.ts';
import type { GuestRequest } from './requests.ts';

export type CompletionMode = 'kernel' | 'user';

const EQ_DEPTH = 2048; // cap register defaults, docs/reference.md#event-queue-entries
const AEQ_DEPTH = 1024;
const MB_POLLS = 100; // 10 us x 100 = the 1000 us mailbox timeout of docs/reference.md#mailbox

export class GuestQm {
  loaded = false;
  /** device errors the guest saw (mailbox failures, error completions) */
  readonly deviceErrors: string[] = [];
  /** requests completed more than once, or completions naming no outstanding request */
  readonly anomalies: string[] = [];
  eqEventsSeen = 0;
  aeqEvents: number[] = [];
  recoveries = 0;
  /** set when an EQ-overflow AEQE asks for a function reset; the workload runs the recovery */
  resetRequested = false;

  readonly nq: number;
  readonly depth: number;
  // DMA memory (guest physical addresses)
  private sqcArr = 0;
  private cqcArr = 0;
  private eq = 0;
  private aeq = 0;
  private ctxBuf = 0;
  private readonly sq: number[] = [];
  private readonly cq: number[] = [];
  // software ring state
  private eqHead = 0;
  private eqPhase = 1;
  private aeqHead = 0;
  private aeqPhase = 1;
  private readonly sqTail: Uint32Array;
  private readonly cqHead: Uint32Array;
  private readonly cqPhase: Uint8Array;
  /** request occupying each SQ slot, per queue (null = free) */
  private readonly slots: (GuestRequest | null)[][];
  private rr = 0;

  constructor(private readonly vm: Vm, readonly mode: CompletionMode, opts: { queues: number; depth: number }) {
    this.nq = opts.queues;
    this.depth = opts.depth;
    this.sqTail = new Uint32Array(this.nq);
    this.cqHead = new Uint32Array(this.nq);
    this.cqPhase = new Uint8Array(this.nq);
    this.slots = Array.from({ length: this.nq }, () => new Array<GuestRequest | null>(this.depth).fill(null));
  }

  // ------------------------------------------------------------------ setup

  /** Allocate queue memory (once) and program the VF: hisi_qm_start. Returns false on a device error. */
  load(): boolean {
    const mem = this.vm.memory;
    const qpNum = this.vm.device.config.qpNum;
    if (this.sq.length === 0) {
      this.sqcArr = mem.allocN(qpNum * R.SQC_SIZE, 32);
      this.cqcArr = mem.allocN(qpNum * R.CQC_SIZE, 32);
      this.eq = mem.allocN(EQ_DEPTH * R.EQE_SIZE, 4096);
      this.aeq = mem.allocN(AEQ_DEPTH * R.EQE_SIZE, 4096);
      this.ctxBuf = mem.allocN(32, 32);
      for (let q = 0; q < this.nq; q++) {
        this.sq.push(mem.allocN(this.depth * SQE_SIZE, 4096));
        this.cq.push(mem.allocN(this.depth * R.CQE_SIZE, 4096));
      }
    } else {
      // reload after a reset: fresh rings
      mem.writeN(this.eq, new Uint8Array(EQ_DEPTH * R.EQE_SIZE));
      mem.writeN(this.aeq, new Uint8Array(AEQ_DEPTH * R.EQE_SIZE));
      for (let q = 0; q < this.nq; q++) mem.writeN(this.cq[q], new Uint8Array(this.depth * R.CQE_SIZE));
    }
    this.eqHead = this.aeqHead = 0;
    this.eqPhase = this.aeqPhase = 1;
    this.sqTail.fill(0);
    this.cqHead.fill(0);
    this.cqPhase.fill(1);
    for (const s of this.slots) s.fill(null);

    if (!this.mb(R.MB_CMD.SQC_BT, false, 0, this.sqcArr)) return false;
    if (!this.mb(R.MB_CMD.CQC_BT, false, 0, this.cqcArr)) return false;
    // EQC / AEQC (docs/reference.md#queue-and-event-queue-contexts): base, depth-1 and initial phase 1 in dw6
    this.writeCtx([0, lo32(this.eq), hi32(this.eq), 0, 0, 0, (EQ_DEPTH - 1) | (1 << 16)]);
    if (!this.mb(R.MB_CMD.EQC, false, 0, this.ctxBuf)) return false;
    this.writeCtx([0, lo32(this.aeq), hi32(this.aeq), 0, 0, 0, (AEQ_DEPTH - 1) | (1 << 16)]);
    if (!this.mb(R.MB_CMD.AEQC, false, 0, this.ctxBuf)) return false;
    for (let q = 0; q < this.nq; q++) {
      this.writeCtx([0, lo32(this.sq[q]), hi32(this.sq[q]), (this.depth - 1) | (SQE_LOG2 << 12), 0, 0, q, 0]);
      if (!this.mb(R.MB_CMD.SQC, false, q, this.ctxBuf)) return false;
      this.writeCtx([0, lo32(this.cq[q]), hi32(this.cq[q]), (this.depth - 1) | (4 << 12), 0, 0, 0b11, 0]);
      if (!this.mb(R.MB_CMD.CQC, false, q, this.ctxBuf)) return false;
    }
    // clear sources with the current heads, then unmask (docs/reference.md#completion-paths)
    const dev = this.vm.device;
    dev.guestWrite64(R.VF_DB_EQAEQ, R.doorbell(R.DB_CMD.AEQ, 0, 0, 0));
    dev.guestWrite64(R.VF_DB_EQAEQ, R.doorbell(R.DB_CMD.EQ, 0, 0, 0));
    dev.guestWrite32(R.VF_AEQ_INT_MASK, 0);
    dev.guestWrite32(R.VF_EQ_INT_MASK, 0);
    dev.guestWrite32(R.VF_QM_STATE, 0); // QM_READY, written by hisi_qm_start on V3+ VFs
    this.loaded = true;
    return true;
  }

  /** hisi_qm_stop + hisi_qm_uninit: stop queues, mask interrupts, QM_VF_STATE = NOT_READY. */
  unload(): void {
    for (let q = 0; q < this.nq; q++) this.mb(R.MB_CMD.STOP_QP, false, q, 0);
    const dev = this.vm.device;
    dev.guestWrite32(R.VF_EQ_INT_MASK, 1);
    dev.guestWrite32(R.VF_AEQ_INT_MASK, 1);
    dev.guestWrite32(R.VF_QM_STATE, 1);
    this.loaded = false;
  }

  private writeCtx(dw: number[]): void {
    for (let i = 0; i < 8; i++) this.vm.memory.w32(this.ctxBuf + 4 * i, dw[i] ?? 0);
  }

  /** One mailbox command (docs/reference.md#mailbox): wait not busy, send, wait done, check status. */
  private mb(cmd: number, query: boolean, queue: number, addr: number): boolean {
    const dev = this.vm.device;
    if (!this.mbIdle()) return this.fail(`mailbox busy before cmd 0x${cmd.toString(16)}`);
    dev.guestWrite128(R.VF_MAILBOX, R.mailboxLo(cmd, query, queue, lo32(addr)), BigInt(hi32(addr)));
    if (!this.mbIdle()) return this.fail(`mailbox timeout on cmd 0x${cmd.toString(16)}`);
    const status = (this.vm.device.guestRead32(R.VF_MAILBOX) & R.MB_STATUS_MASK) >>> R.MB_STATUS_SHIFT;
    if (status !== 0) return this.fail(`mailbox cmd 0x${cmd.toString(16)} queue ${queue} failed (status ${status})`);
    return true;
  }

  private mbIdle(): boolean {
    const dev = this.vm.device;
    for (let i = 0; i < MB_POLLS; i++) {
      if ((dev.guestRead32(R.VF_MAILBOX) & R.MB_BUSY) === 0) return true;
      dev.delayUs(10);
    }
    return false;
  }

  private fail(msg: string): false {
    this.deviceErrors.push(msg);
    this.vm.timeline.push('guest', 'note', { what: 'device-error', msg });
    return false;
  }

  // ------------------------------------------------------------------ requests

  /** Free SQ slots across queues (one slot per ring stays empty). */
  get freeSlots(): number {
    let n = 0;
    for (let q = 0; q < this.nq; q++) n += this.depth - 1 - this.used(q);
    return n;
  }
  private used(q: number): number {
    let n = 0;
    for (const s of this.slots[q]) if (s) n++;
    return n;
  }

  /** Write an SQE and ring the SQ doorbell. Returns false when every queue is full. */
  submit(r: GuestRequest): boolean {
    for (let k = 0; k < this.nq; k++) {
      const q = (this.rr + k) % this.nq;
      const slot = this.sqTail[q];
      const next = (slot + 1) % this.depth;
      if (this.slots[q][next] !== null || this.slots[q][slot] !== null) continue;
      this.rr = (q + 1) % this.nq;
      const m = this.vm.memory;
      const e = this.sq[q] + slot * SQE_SIZE;
      m.writeN(e, ZERO_SQE);
      m.w32(e + SQE_OFF.tag, r.id);
      m.w8(e + SQE_OFF.op, r.op);
      m.w32(e + SQE_OFF.len, r.data.length);
      m.w64n(e + SQE_OFF.src, r.src);
      m.w64n(e + SQE_OFF.dst, r.dst);
      m.w64n(e + SQE_OFF.key, r.keyAddr);
      m.w32(e + SQE_OFF.keyLen, r.key.length);
      m.w32(e + SQE_OFF.ivLen, r.iv.length);
      m.w64n(e + SQE_OFF.iv, r.ivAddr);
      m.w32(e + SQE_OFF.dstCap, r.dstCap);
      this.slots[q][slot] = r;
      this.sqTail[q] = next;
      this.vm.timeline.push('guest', 'request', { id: r.id, op: r.op, qn: q, slot });
      this.vm.device.guestWrite64(R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, q, next, 0));
      return true;
    }
    return false;
  }

  /** Requests submitted and not yet seen complete. */
  outstanding(): GuestRequest[] {
    const out: GuestRequest[] = [];
    for (const s of this.slots) for (const r of s) if (r) out.push(r);
    return out;
  }

  // ------------------------------------------------------------------ completions

  /** Handle pending interrupts, and in user mode poll the CQs. */
  service(): void {
    const irqs = this.vm.takeIrqs();
    if (!this.loaded) return;
    if (irqs & (1 << IRQ_AEQ)) this.aeqIsr();
    if (irqs & (1 << IRQ_EQ)) this.eqIsr();
    if (this.mode === 'user') for (let q = 0; q < this.nq; q++) this.pollCq(q);
  }

  /** EQ interrupt (docs/reference.md#completion-paths): drain up to depth/2-1 EQEs by phase, ring the EQ doorbell, process CQs. */
  private eqIsr(): void {
    const m = this.vm.memory;
    let mask = 0;
    let n = 0;
    for (; n < EQ_DEPTH / 2 - 1; n++) {
      const e = m.r32(this.eq + this.eqHead * R.EQE_SIZE);
      if (((e >>> 16) & 1) !== this.eqPhase) break;
      const qn = e & 0xffff;
      if (qn < this.nq) mask |= 1 << qn;
      if (++this.eqHead === EQ_DEPTH) {
        this.eqHead = 0;
        this.eqPhase ^= 1;
      }
    }
    if (n === 0) return; // nothing with the expected phase: spurious (or the EQE went elsewhere)
    this.eqEventsSeen += n;
    this.vm.device.guestWrite64(R.VF_DB_EQAEQ, R.doorbell(R.DB_CMD.EQ, 0, this.eqHead, 0));
    // user mode: the kernel only wakes poll() waiters; completions are the CQ poller's job
    if (this.mode === 'kernel') for (let q = 0; q < this.nq; q++) if (mask & (1 << q)) this.pollCq(q);
  }

  private aeqIsr(): void {
    const m = this.vm.memory;
    let n = 0;
    for (; n < AEQ_DEPTH; n++) {
      const e = m.r32(this.aeq + this.aeqHead * R.EQE_SIZE);
      if (((e >>> 16) & 1) !== this.aeqPhase) break;
      const type = e >>> 17;
      this.aeqEvents.push(type);
      this.vm.timeline.push('guest', 'event', { what: 'aeqe', type, qn: e & 0xffff });
      if (type === R.AEQ_EVENT.EQ_OVERFLOW) this.resetRequested = true;
      if (++this.aeqHead === AEQ_DEPTH) {
        this.aeqHead = 0;
        this.aeqPhase ^= 1;
      }
    }
    if (n > 0) this.vm.device.guestWrite64(R.VF_DB_EQAEQ, R.doorbell(R.DB_CMD.AEQ, 0, this.aeqHead, 0));
  }

  /** Consume CQEs by phase; each names the SQE it completes (sq_head). */
  private pollCq(q: number): void {
    const m = this.vm.memory;
    const dev = this.vm.device;
    let n = 0;
    for (; n < this.depth; n++) {
      const c = this.cq[q] + this.cqHead[q] * R.CQE_SIZE;
      if (((m.r32(c + 12) >>> 16) & 1) !== this.cqPhase[q]) break;
      const sqIdx = m.r32(c + 8) & 0xffff;
      this.complete(q, sqIdx);
      if (++this.cqHead[q] === this.depth) {
        this.cqHead[q] = 0;
        this.cqPhase[q] ^= 1;
      }
      dev.guestWrite64(R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.CQ, q, this.cqHead[q], 0));
    }
    if (n > 0) dev.guestWrite64(R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.CQ, q, this.cqHead[q], 1));
  }

  private complete(q: number, sqIdx: number): void {
    const r = sqIdx < this.depth ? this.slots[q][sqIdx] : null;
    if (!r) {
      this.anomalies.push(`completion for empty slot ${sqIdx} of queue ${q}`);
      return;
    }
    this.slots[q][sqIdx] = null;
    const e = this.sq[q] + sqIdx * SQE_SIZE;
    r.status = this.vm.memory.r8(e + SQE_OFF.status);
    r.outLen = this.vm.memory.r32(e + SQE_OFF.outLen);
    r.completions++;
    if (r.completions > 1) this.anomalies.push(`request ${r.id} completed ${r.completions} times`);
    this.vm.timeline.push('guest', 'completion', { id: r.id, qn: q, slot: sqIdx, status: r.status });
  }

  /** Forget outstanding requests (after a function reset they are lost and must be resubmitted). */
  dropOutstanding(): GuestRequest[] {
    const lost = this.outstanding();
    for (const s of this.slots) s.fill(null);
    return lost;
  }
}

const ZERO_SQE = new Uint8Array(SQE_SIZE);
