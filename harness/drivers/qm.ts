// The host driver's low-level QM accesses (docs/reference.md#save-path, docs/reference.md#doorbells,
// docs/reference.md#mailbox): polls with the driver's periods and timeouts in simulated time, the 128-bit
// mailbox, the PF's indirect VFT read and the 64-bit doorbells. Shared by every trait-driven revision; they
// differ above this layer.
import { fail, ok, type ErrnoName, type IoResult } from '../util/errno.ts';
import type { MmioSpace } from '../device/mmio.ts';
import {
  DB_CMD, MB_BUSY, MB_STATUS_MASK, PF_VFT_CFG, PF_VFT_DATA_H, PF_VFT_DATA_L, PF_VFT_OP_ENABLE, PF_VFT_OP_WR,
  PF_VFT_RDY, PF_VFT_TYPE, VF_DB_EQAEQ, VF_DB_SQCQ, VF_MAILBOX, VF_MB_DATA_H, VF_MB_DATA_L, doorbell, mailboxLo,
} from '../device/regs.ts';
import type { QmHost } from './revision.ts';

/**
 * readl_poll_timeout: read until (value & mask) === want, sleeping periodUs between reads, at most
 * timeoutUs in total. Bounded by construction (timeoutUs / periodUs + 1 reads).
 */
export function poll(host: QmHost, space: MmioSpace, off: number, mask: number, want: number, periodUs: number, timeoutUs: number): boolean {
  const tries = Math.floor(timeoutUs / periodUs) + 1;
  for (let i = 0; i < tries; i++) {
    if ((host.read32(space, off) & mask) === want) return true;
    if (i + 1 < tries) host.delayUs(periodUs);
  }
  return false;
}

/** Poll a register until it reads 0: `count` reads, `delayUs` apart (docs/reference.md#stopping-the-vf drain checks). */
export function drain(host: QmHost, space: MmioSpace, off: number, count: number, delayUs: number): boolean {
  for (let i = 0; i < count; i++) {
    if (host.read32(space, off) === 0) return true;
    host.delayUs(delayUs);
  }
  return false;
}

export const mailboxIdle = (host: QmHost): boolean => poll(host, 'vf', VF_MAILBOX, MB_BUSY, 0, 10, 1000);

/**
 * One mailbox command (docs/reference.md#mailbox): busy → EBUSY; after sending, still busy → ETIMEDOUT;
 * status bits non-zero → EIO. Queries return DATA_L | DATA_H << 32.
 */
export function mailbox(host: QmHost, cmd: number, query: boolean, queue: number, addr: bigint): IoResult<bigint> {
  if (!mailboxIdle(host)) return fail('EBUSY');
  host.write128('vf', VF_MAILBOX, mailboxLo(cmd, query, queue, Number(addr & 0xffffffffn)), (addr >> 32n) & 0xffffffffn);
  if (!mailboxIdle(host)) return fail('ETIMEDOUT');
  if (host.read32('vf', VF_MAILBOX) & MB_STATUS_MASK) return fail('EIO');
  if (!query) return ok(0n);
  const lo = host.read32('vf', VF_MB_DATA_L) >>> 0;
  const hi = host.read32('vf', VF_MB_DATA_H) >>> 0;
  return ok((BigInt(hi) << 32n) | BigInt(lo));
}

/** VFT value fields (docs/reference.md#opening-the-save-file, docs/reference.md#mailbox). */
export const vftQpBase = (vft: bigint): number => Number((vft >> 28n) & 0xffffn);
export const vftQpNum = (vft: bigint): number => Number((vft >> 45n) & 0x3ffn) + 1;

/** The PF's indirect SQC VFT read for one VF (docs/reference.md#opening-the-save-file): 10 µs / 1000 µs polls on PF 0x10006C. */
export function pfVftRead(host: QmHost, vfId: number): IoResult<bigint> {
  const err: ErrnoName = 'EINVAL'; // every revision reports a VFT failure as -EINVAL
  if (!poll(host, 'pf', PF_VFT_RDY, 1, 1, 10, 1000)) return fail(err);
  host.write32('pf', PF_VFT_OP_WR, 1);
  host.write32('pf', PF_VFT_TYPE, 0);
  host.write32('pf', PF_VFT_CFG, vfId);
  host.write32('pf', PF_VFT_RDY, 0);
  host.write32('pf', PF_VFT_OP_ENABLE, 1);
  if (!poll(host, 'pf', PF_VFT_RDY, 1, 1, 10, 1000)) return fail(err);
  const lo = host.read32('pf', PF_VFT_DATA_L) >>> 0;
  const hi = host.read32('pf', PF_VFT_DATA_H) >>> 0;
  return ok((BigInt(hi) << 32n) | BigInt(lo));
}

/**
 * qm_db (V2 format, docs/reference.md#doorbells): the address follows `cmd`; the value is the u16 queue
 * number ORed with cmd << 12, so a queue number of 4096 or more spills into the command field, as in the
 * driver.
 */
export function ringDoorbell(host: QmHost, cmd: number, qn: number, index: number, priority: number): void {
  const off = cmd === DB_CMD.SQ || cmd === DB_CMD.CQ ? VF_DB_SQCQ : VF_DB_EQAEQ;
  const q = qn & 0xffff;
  host.write64('vf', off, q < 0x1000 ? doorbell(cmd, q, index, priority & 0xff)
    : doorbell(((q >>> 12) | cmd) & 0xf, q & 0xfff, index, priority & 0xff));
}
