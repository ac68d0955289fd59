// Carry one migration stream from a source VfioDevice to a destination VfioDevice according to a
// plan, driving both state machines the way the plan's user space does. Ends with the source
// stopped (its stream captured) and the destination RUNNING, or with the step that failed.
import type { DestinationResult } from '../oracle/types.ts';
import type { ErrnoName, IoResult } from '../util/errno.ts';
import type { Rng } from '../util/rng.ts';
import { HangError } from '../vfio/driver.ts';
import { MIG_FLAG, type DataFd, type VfioDevice } from '../vfio/types.ts';
import type { TransferPlan } from './plan.ts';

const MIB = 1 << 20;
/** bound on read/write loops: a stream is at most a few hundred bytes, so this is never reached honestly */
const IO_BOUND = 4096;

export interface TransferResult {
  /** bytes read from the source, in order (the captured stream) */
  stream: Uint8Array;
  /** the source produced its stream (reached STOP_COPY and read to end) */
  sourceOk: boolean;
  /** set when the source side failed: errno and stage */
  sourceError: { errno: string; stage: string } | null;
  /** what the destination did (null when the source failed before the destination saw anything) */
  destination: DestinationResult | null;
  /** chunks written to the destination, in order */
  writes: number[];
}

class Capture {
  private parts: Uint8Array[] = [];
  private n = 0;
  add(b: Uint8Array): void {
    this.parts.push(b);
    this.n += b.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

type Step<T> = { ok: true; value: T } | { ok: false; errno: ErrnoName | string; stage: string };

function step<T>(r: IoResult<T>, stage: string): Step<T> {
  return r.ok ? r : { ok: false, errno: r.errno, stage };
}

/** Read until end of stream (0 bytes; ENOMSG counts as 0, docs/reference.md#vfio-device-sections). */
function readAll(fd: DataFd, max: number, cap: Capture, onChunk: (b: Uint8Array) => Step<void>): Step<void> {
  for (let i = 0; i < IO_BOUND; i++) {
    const r = fd.read(max);
    if (!r.ok) return r.errno === 'ENOMSG' ? { ok: true, value: undefined } : { ok: false, errno: r.errno, stage: 'src:read' };
    if (r.value.length === 0) return { ok: true, value: undefined };
    cap.add(r.value);
    const w = onChunk(r.value);
    if (!w.ok) return w;
  }
  throw new HangError('source read loop', []);
}

/**
 * write(2) until the chunk is accepted, as QEMU's full write does: it retries a write that took 0
 * bytes, so a driver that never makes progress keeps it there (our bound ends that as a hang).
 */
function writeChunk(fd: DataFd, chunk: Uint8Array, writes: number[]): Step<void> {
  let off = 0;
  for (let i = 0; off < chunk.length; i++) {
    if (i >= IO_BOUND) throw new HangError('destination write loop', []);
    const r = fd.write(chunk.subarray(off));
    writes.push(chunk.length - off);
    if (!r.ok) return { ok: false, errno: r.errno, stage: 'write' };
    off += r.value;
  }
  return { ok: true, value: undefined };
}

/** The destination's final SET RESUMING → RUNNING (QEMU starts the VM): which arc failed. */
function finishDestination(dst: VfioDevice): Step<void> {
  const r = dst.setState('RUNNING');
  if (r.ok) return { ok: true, value: undefined };
  const at = dst.getState();
  const stage = at.ok && at.value === 'RESUMING' ? 'resuming->stop' : at.ok && at.value === 'STOP' ? 'stop->running' : 'set-state';
  return { ok: false, errno: r.errno, stage };
}

/**
 * Carry the stream per plan. A HangError (a driver loop past its bound) propagates; `seen.stream`
 * then holds the bytes read from the source so far, for the evidence.
 */
export function runTransfer(src: VfioDevice, dst: VfioDevice, plan: TransferPlan, rng: Rng, seen?: { stream: Uint8Array | null }): TransferResult {
  const cap = new Capture();
  // every data fd the two devices hand out is closed at the end, as the VMM's cleanup does: on a
  // real device an fd left open is a leaked file per case over a whole lab run
  const fds = new Set<DataFd>();
  const track = (d: VfioDevice): VfioDevice => ({
    name: d.name,
    migrationFlags: () => d.migrationFlags(),
    getState: () => d.getState(),
    dataSize: () => d.dataSize(),
    reset: () => d.reset(),
    close: () => d.close(),
    setState: (t) => {
      const r = d.setState(t);
      if (r.ok && r.value.dataFd) fds.add(r.value.dataFd);
      return r;
    },
  });
  try {
    return transfer(track(src), track(dst), plan, rng, cap);
  } catch (e) {
    if (seen && e instanceof HangError) seen.stream = cap.bytes();
    throw e;
  } finally {
    for (const fd of fds) fd.close();
  }
}

function transfer(src: VfioDevice, dst: VfioDevice, plan: TransferPlan, rng: Rng, cap: Capture): TransferResult {
  const writes: number[] = [];
  const result = (sourceError: TransferResult['sourceError'], dest: Step<void> | null): TransferResult => ({
    stream: cap.bytes(),
    sourceOk: sourceError === null,
    sourceError,
    destination: dest === null ? null : dest.ok
      ? { accepted: true, errno: null, stage: null, reason: 'destination accepted the stream and reached RUNNING' }
      : { accepted: false, errno: dest.errno, stage: dest.stage, reason: `destination failed at ${dest.stage} with ${dest.errno}` },
    writes,
  });

  if (plan.kind === 'qemu') return qemuPlan(src, dst, cap, writes, result);

  // single / chunks / random: the source stops and is read completely first
  const s = step(src.setState('STOP_COPY'), 'src:stop-copy');
  if (!s.ok) return result({ errno: s.errno, stage: s.stage }, null);
  if (!s.value.dataFd) return result({ errno: 'EINVAL', stage: 'src:no-data-fd' }, null);
  const rd = readAll(s.value.dataFd, MIB, cap, () => ({ ok: true, value: undefined }));
  if (!rd.ok) return result({ errno: rd.errno, stage: rd.stage }, null);
  const stream = cap.bytes();

  const d = step(dst.setState('RESUMING'), 'set-resuming');
  if (!d.ok) return result(null, d);
  if (!d.value.dataFd) return result(null, { ok: false, errno: 'EINVAL', stage: 'set-resuming' });
  const fd = d.value.dataFd;
  for (const chunk of chunkStream(stream, plan, rng)) {
    const w = writeChunk(fd, chunk, writes);
    if (!w.ok) return result(null, w);
  }
  return result(null, finishDestination(dst));
}

function chunkStream(stream: Uint8Array, plan: TransferPlan, rng: Rng): Uint8Array[] {
  if (plan.kind === 'single' || plan.kind === 'qemu') return [stream];
  const out: Uint8Array[] = [];
  let off = 0;
  if (plan.kind === 'chunks') {
    for (const n of plan.sizes) {
      if (off >= stream.length) break;
      out.push(stream.subarray(off, off + n));
      off += n;
    }
  } else {
    while (stream.length - off > 0) {
      const n = rng.int(1, stream.length - off);
      out.push(stream.subarray(off, off + n));
      off += n;
    }
  }
  if (off < stream.length) out.push(stream.subarray(off));
  return out;
}

function qemuPlan(
  src: VfioDevice, dst: VfioDevice, cap: Capture, writes: number[],
  result: (e: TransferResult['sourceError'], d: Step<void> | null) => TransferResult,
): TransferResult {
  // save_setup: buffer = MIN(1 MiB, stop_copy_size), 1 MiB when the query fails
  const size = src.dataSize();
  const buffer = size.ok && size.value > 0n ? Math.min(MIB, Number(size.value)) : MIB;
  const flags = src.migrationFlags();
  let saveFd: DataFd | null = null;
  if (flags.ok && flags.value & MIG_FLAG.PRE_COPY) {
    const pc = step(src.setState('PRE_COPY'), 'src:pre-copy');
    if (!pc.ok) return result({ errno: pc.errno, stage: pc.stage }, null);
    saveFd = pc.value.dataFd;
    saveFd?.precopyInfo();
  }
  // destination load_setup
  const d = step(dst.setState('RESUMING'), 'set-resuming');
  if (!d.ok) return result(null, d);
  const dfd = d.value.dataFd;
  if (!dfd) return result(null, { ok: false, errno: 'EINVAL', stage: 'set-resuming' });
  const send = (b: Uint8Array): Step<void> => writeChunk(dfd, b, writes);

  // save_iterate while PRE_COPY has pending bytes: one read of up to `buffer` per iteration
  if (saveFd) {
    for (let i = 0; ; i++) {
      if (i >= IO_BOUND) throw new HangError('precopy iterate', []);
      const info = saveFd.precopyInfo();
      if (!info.ok || info.value.initialBytes + info.value.dirtyBytes === 0n) break;
      const r = saveFd.read(buffer);
      if (!r.ok && r.errno !== 'ENOMSG') return result({ errno: r.errno, stage: 'src:read' }, null);
      if (!r.ok || r.value.length === 0) break;
      cap.add(r.value);
      const w = send(r.value);
      if (!w.ok) return result(null, w);
    }
  }
  // complete_precopy: VM stopped, STOP_COPY, read until 0
  const sc = step(src.setState('STOP_COPY'), 'src:stop-copy');
  if (!sc.ok) return result({ errno: sc.errno, stage: sc.stage }, null);
  const fd = sc.value.dataFd ?? saveFd;
  if (!fd) return result({ errno: 'EINVAL', stage: 'src:no-data-fd' }, null);
  const rd = readAll(fd, buffer, cap, send);
  if (!rd.ok) return rd.stage === 'write' ? result(null, rd) : result({ errno: rd.errno, stage: rd.stage }, null);
  return result(null, finishDestination(dst));
}
