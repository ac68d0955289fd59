// Transfer plans: parsing, and what each plan does on the wire (docs/reference.md#vfio-device-sections for qemu).
import { test, expect } from '@playwright/test';
import { createHash } from 'node:crypto';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { expandPlans, parsePlan } from '../../harness/transfer/plan.ts';
import { runCase } from '../../harness/runners/sim.ts';
import type { CaseSpec } from '../../harness/runners/types.ts';
import { UsageError } from '../../harness/util/usage-error.ts';
import { runTransfer } from '../../harness/transfer/run.ts';
import { Rng } from '../../harness/util/rng.ts';
import { fail, ok } from '../../harness/util/errno.ts';
import { HangError } from '../../harness/vfio/driver.ts';
import { MIG_FLAG, type DataFd, type MigState, type VfioDevice } from '../../harness/vfio/types.ts';

const spec = (o: Partial<CaseSpec>): CaseSpec => ({
  src: 'v6.16', dst: 'v6.16', workload: 'user-polling', scenario: 'single-hop', transfer: 'single', device: DEFAULT_DEVICE,
  requests: 8, inflight: 2, requestSize: 256, seed: 11, ...o,
});
const dstWrites = (o: Partial<CaseSpec>) => runCase(spec(o)).timeline.filter((e) => e.side === 'dst' && e.kind === 'write').map((e) => e.detail.size);
const srcReads = (o: Partial<CaseSpec>) => runCase(spec(o)).timeline.filter((e) => e.side === 'src' && e.kind === 'read').map((e) => e.detail.bytes);

test('plan parsing and lists', () => {
  expect(parsePlan('chunks:40,136')).toEqual({ kind: 'chunks', sizes: [40, 136] });
  expect(expandPlans('single,chunks:40,136,qemu')).toEqual(['single', 'chunks:40,136', 'qemu']);
  expect(expandPlans('all')).toEqual(['single', 'qemu', 'chunks:40,136', 'random']);
  for (const bad of ['chunks:', 'chunks:0', 'chunks:4x', 'dribble']) expect(() => parsePlan(bad)).toThrow(UsageError);
});

test('single: one read, one write of 176', () => {
  expect(srcReads({})).toEqual([176, 0]);
  expect(dstWrites({})).toEqual([176]);
});

test('qemu with a PRE_COPY source: the 40-byte precopy chunk, then 136 in STOP_COPY', () => {
  expect(srcReads({ transfer: 'qemu' })).toEqual([40, 136, 0]);
  expect(dstWrites({ transfer: 'qemu' })).toEqual([40, 136]);
  const ev = runCase(spec({ transfer: 'qemu' }));
  const srcSets = ev.timeline.filter((e) => e.side === 'src' && e.kind === 'set-state').map((e) => e.detail.target);
  expect(srcSets.slice(0, 2)).toEqual(['PRE_COPY', 'STOP_COPY']);
  expect(ev.timeline.some((e) => e.side === 'src' && e.kind === 'precopy-info')).toBe(true);
  expect(ev.timeline.some((e) => e.side === 'src' && e.kind === 'data-size')).toBe(true);
});

test('qemu with a STOP_COPY-only source: no PRE_COPY, 1 MiB buffer, one 176-byte chunk', () => {
  const ev = runCase(spec({ src: 'v5.18', dst: 'v6.16', transfer: 'qemu' }));
  const reads = ev.timeline.filter((e) => e.side === 'src' && e.kind === 'read');
  expect(reads.map((e) => [e.detail.max, e.detail.bytes])).toEqual([[1 << 20, 176], [1 << 20, 0]]);
  expect(ev.timeline.filter((e) => e.side === 'dst' && e.kind === 'write').map((e) => e.detail.size)).toEqual([176]);
  expect(ev.timeline.find((e) => e.side === 'src' && e.kind === 'data-size')?.errno).toBe('ENOTTY');
});

test('chunks and random: writes follow the plan, deterministic per seed', () => {
  expect(dstWrites({ transfer: 'chunks:16,24' })).toEqual([16, 24, 136]);
  const a = dstWrites({ transfer: 'random', seed: 3 });
  expect(a.reduce((x, y) => Number(x) + Number(y), 0)).toBe(176);
  expect(dstWrites({ transfer: 'random', seed: 3 })).toEqual(a);
  expect(dstWrites({ transfer: 'random', seed: 4 })).not.toEqual(a);
});

test('the captured stream is kept as evidence and equals what the source read', () => {
  const ev = runCase(spec({ transfer: 'qemu' }));
  expect(ev.stream?.length).toBe(176);
  expect(Buffer.from(ev.stream!.subarray(0, 8)).toString('hex')).toBe('dedecadeedfeccaa'); // V2 magic, LE
});

test('a whole case is a pure function of (case, seed)', () => {
  const a = runCase(spec({ workload: 'kernel-crypto', transfer: 'random', seed: 99 }));
  const b = runCase(spec({ workload: 'kernel-crypto', transfer: 'random', seed: 99 }));
  const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');
  expect(b.timeline.length).toBe(a.timeline.length);
  expect(digest(b.timeline)).toBe(digest(a.timeline)); // fd numbers, times, every register write
  expect(digest(b.stream)).toBe(digest(a.stream));
});

/** A device pair by hand: the source hands out `stream` in STOP_COPY; the destination's write answers `writeAnswer(call, bytes)`. */
function handPair(stream: Uint8Array, writeAnswer: (call: number, bytes: number) => number) {
  const closed: string[] = [];
  let writes = 0;
  const fd = (name: string, io: Partial<DataFd>): DataFd => ({
    fd: 3, read: () => fail('EINVAL'), write: () => fail('EINVAL'), precopyInfo: () => fail('EINVAL'), close: () => void closed.push(name), ...io,
  });
  const device = (name: string, dataFd: () => DataFd): VfioDevice => {
    let state: MigState = 'RUNNING';
    return {
      name, migrationFlags: () => ok(MIG_FLAG.STOP_COPY), getState: () => ok(state), dataSize: () => ok(BigInt(stream.length)),
      reset: () => ok(undefined), close: () => {},
      setState: (t) => {
        state = t;
        return ok({ dataFd: t === 'STOP_COPY' || t === 'RESUMING' ? dataFd() : null });
      },
    };
  };
  let sent = false;
  const src = device('src', () => fd('src-fd', { read: () => ok(sent ? new Uint8Array(0) : ((sent = true), stream)) }));
  const dst = device('dst', () => fd('dst-fd', { write: (b) => ok(writeAnswer(writes++, b.length)) }));
  return { src, dst, closed };
}

test('every data fd the transfer opened is closed at the end, accepted or not', () => {
  const stream = new Uint8Array(176).fill(7);
  const good = handPair(stream, (_, n) => n);
  expect(runTransfer(good.src, good.dst, parsePlan('single'), new Rng(1)).destination?.accepted).toBe(true);
  expect(good.closed.sort()).toEqual(['dst-fd', 'src-fd']);
  const hung = handPair(stream, () => 0);
  expect(() => runTransfer(hung.src, hung.dst, parsePlan('single'), new Rng(1))).toThrow(HangError);
  expect(hung.closed.sort()).toEqual(['dst-fd', 'src-fd']);
});

test('a write that takes 0 bytes is retried as QEMU does: progress afterwards is accepted, none ever is a hang (never an invented errno)', () => {
  const stream = new Uint8Array(176).fill(7);
  const once = handPair(stream, (call, n) => (call === 0 ? 0 : n));
  const r = runTransfer(once.src, once.dst, parsePlan('single'), new Rng(1));
  expect(r.destination).toMatchObject({ accepted: true, errno: null });
  expect(r.writes).toEqual([176, 176]);
  const never = handPair(stream, () => 0);
  const e = (() => {
    try {
      runTransfer(never.src, never.dst, parsePlan('qemu'), new Rng(1));
      return null;
    } catch (x) {
      return x;
    }
  })();
  expect(e).toBeInstanceOf(HangError);
  expect((e as HangError).message).toContain('destination write loop');
});
