// Guest operations: what the agent runs in process, INSIDE the kernel guest, against real mdev
// devices through the same vfio-host library the CLI uses (withDevice, capture, load: driver check,
// lock, device left RUNNING). They return plain observations; the host side (specs/kernel) holds the
// expectations. Every device id is an mdev:UUID.
import type { DataFd, MigState } from '../../vfio/types.ts';
import { IOCTL, FEATURE_FLAG, FEATURE_ID, STRUCTS, argszBuf, featureBuf } from '../../vfio/kernel/uapi.ts';
import type { KernelDataFd, KernelVfioDevice } from '../../vfio/kernel/device.ts';
import { POLLIN, POLLOUT } from '../../vfio/kernel/libc.ts';
import { hostContext } from '../vfio-host/context.ts';
import { capture, load, withDevice, type HostContext } from '../vfio-host/ops.ts';
import { ensureRunning } from '../vfio-host/safety.ts';
import { Kmsg, mttyArcs } from './kmsg.ts';
import { uartRead, uartWrite, type UartState, type UartWrite } from './uart.ts';

let ctxP: Promise<HostContext> | null = null;
const ctx = (): Promise<HostContext> => (ctxP ??= hostContext({ via: 'group' }));
const uuidOf = (id: string): string => id.replace(/^mdev:/, '');
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** Write UART registers (and TX bytes) of one port; returns the registers as read back. */
export async function uartSet(id: string, port: number, w: UartWrite): Promise<UartState> {
  return withDevice(await ctx(), id, ({ dev }) => {
    uartRead(dev, port, true); // start from an empty FIFO
    uartWrite(dev, port, w);
    return uartRead(dev, port, false);
  }).value;
}

/** Registers of one port; `drain` also reads the FIFO empty (which changes the device). */
export async function uartGet(id: string, port: number, drain: boolean): Promise<UartState> {
  return withDevice(await ctx(), id, ({ dev }) => uartRead(dev, port, drain)).value;
}

// ---------------------------------------------------------------------------------------------
// The state walk: for each pair, bring the device from RUNNING to `cur` (a RESUMING device gets a
// whole stream so that leaving it can load), then SET `target`; record errno, final state, whether
// a data fd came back, and the arcs mtty reported for both requests.

export interface SetObservation {
  errno: string | null;
  state: string;
  dataFd: boolean;
  arcs: string[];
}
export interface WalkObservation {
  cur: MigState;
  target: MigState;
  reach: SetObservation;
  set: SetObservation | null;
}

function observeSet(dev: KernelVfioDevice, kmsg: Kmsg, uuid: string, target: MigState, keep: DataFd[]): SetObservation {
  kmsg.drain();
  const r = dev.setState(target);
  const arcs = mttyArcs(kmsg.drain(), uuid);
  if (r.ok && r.value.dataFd) keep.push(r.value.dataFd);
  const st = dev.getState();
  return { errno: r.ok ? null : r.errno, state: st.ok ? st.value : st.errno, dataFd: r.ok && r.value.dataFd !== null, arcs };
}

export async function walk(id: string, pairs: [MigState, MigState][], streamB64: string): Promise<WalkObservation[]> {
  const stream = b64(streamB64);
  const uuid = uuidOf(id);
  return withDevice(await ctx(), id, ({ dev }) => {
    const kmsg = new Kmsg();
    const out: WalkObservation[] = [];
    try {
      kmsg.drain();
      for (const [cur, target] of pairs) {
        const back = ensureRunning(dev);
        if (!back.ok) throw new Error(`${id}: could not return to RUNNING before ${cur}->${target}: ${back.detail}`);
        const fds: DataFd[] = [];
        try {
          const reach = observeSet(dev, kmsg, uuid, cur, fds);
          let set: SetObservation | null = null;
          if (reach.errno === null && reach.state === cur) {
            if (cur === 'RESUMING') {
              const w = fds[0]?.write(stream);
              if (!w?.ok || w.value !== stream.length) throw new Error(`${id}: writing the stream in RESUMING: ${w ? (w.ok ? `${w.value} bytes` : w.errno) : 'no data fd'}`);
            }
            set = observeSet(dev, kmsg, uuid, target, fds);
          }
          out.push({ cur, target, reach, set });
        } finally {
          for (const f of fds) f.close();
        }
      }
    } finally {
      kmsg.close();
    }
    return out;
  }).value;
}

// ---------------------------------------------------------------------------------------------
// Marshalling against the real ioctls: argsz handling, feature flags, errno names, the data fd's
// end-of-stream and fd kinds, PRECOPY_INFO in and out of PRE_COPY, fds after a state change or a
// reset. Observations are named; values are numbers, strings or errno names.

export type Observations = Record<string, string | number | boolean | number[] | null>;

export async function marshal(id: string, streamB64: string): Promise<Observations> {
  const c = await ctx();
  const libc = c.libc;
  const stream = b64(streamB64);
  return withDevice(c, id, ({ dev }) => {
    const o: Observations = {};
    const err = () => libc.errno();
    /** VFIO_DEVICE_FEATURE with a hand-made buffer: errno name, or 'ok' */
    const feature = (flags: number, payload: number, argsz?: number, fill?: (b: Buffer) => void): { res: string; buf: Buffer } => {
      const b = featureBuf(flags, payload);
      if (argsz !== undefined) b.writeUInt32LE(argsz, 0);
      fill?.(b);
      const r = libc.ioctlPtr(dev.fd, IOCTL.VFIO_DEVICE_FEATURE, b);
      return { res: r < 0 ? err() : 'ok', buf: b };
    };
    const { GET, SET, PROBE } = FEATURE_FLAG;
    const F = FEATURE_ID;

    // device fd and info
    o['device.cloexec'] = libc.cloexec(dev.fd);
    const info = dev.info();
    o['info'] = info.ok ? [info.value.flags, info.value.numRegions, info.value.numIrqs] : info.errno;
    const short = argszBuf(STRUCTS.device_info);
    short.writeUInt32LE(15, 0);
    o['info.argsz15'] = libc.ioctlPtr(dev.fd, IOCTL.VFIO_DEVICE_GET_INFO, short) < 0 ? err() : 'ok';
    const bar0 = dev.regionInfo(0);
    o['region.bar0'] = bar0.ok ? [bar0.value.flags, Number(bar0.value.size), Number(bar0.value.offset)] : bar0.errno;
    const bad = dev.regionInfo(99);
    o['region.99'] = bad.ok ? 'ok' : bad.errno;

    // the feature ioctl's own checks, then each feature's
    o['feature.argsz7'] = feature(GET | F.MIGRATION, 8, 7).res;
    o['feature.unknownFlag'] = feature(GET | F.MIGRATION | 0x80000, 8).res;
    o['feature.getAndSet'] = feature(GET | SET | F.MIGRATION, 8).res;
    o['feature.none'] = feature(F.MIGRATION, 8).res;
    o['migration.argsz12'] = feature(GET | F.MIGRATION, 8, 12).res;
    const long = feature(GET | F.MIGRATION, 16, undefined, (b) => b.fill(0xaa, 8));
    o['migration.argsz24'] = long.res;
    o['migration.argsz24.flags'] = Number(long.buf.readBigUInt64LE(8));
    o['migration.argsz24.untouched'] = long.buf.subarray(16).every((x) => x === 0xaa);
    o['migration.set'] = feature(SET | F.MIGRATION, 8).res;
    for (const [name, flags] of [
      ['probe.migration.get', PROBE | GET | F.MIGRATION], ['probe.migration.set', PROBE | SET | F.MIGRATION],
      ['probe.state.getset', PROBE | GET | SET | F.MIG_DEVICE_STATE], ['probe.dataSize.get', PROBE | GET | F.MIG_DATA_SIZE],
      ['probe.dataSize.set', PROBE | SET | F.MIG_DATA_SIZE], ['probe.logging.set', PROBE | SET | F.DMA_LOGGING_START],
      ['probe.logging.get', PROBE | GET | F.DMA_LOGGING_START], ['probe.lowPower', PROBE | SET | F.LOW_POWER_ENTRY],
      ['probe.vfToken', PROBE | SET | F.PCI_VF_TOKEN], ['probe.unknown', PROBE | GET | 0x7fff],
    ] as const) o[name] = feature(flags, 0).res;
    // the backend's own calls
    const flags = dev.migrationFlags();
    o['migrationFlags'] = flags.ok ? flags.value : flags.errno;
    const size = dev.dataSize();
    o['dataSize'] = size.ok ? Number(size.value) : size.errno;
    o['dataSize.argsz12'] = feature(GET | F.MIG_DATA_SIZE, 8, 12).res;
    const st = dev.getState();
    o['state'] = st.ok ? st.value : st.errno;
    const inval = feature(SET | F.MIG_DEVICE_STATE, 8, undefined, (b) => {
      b.writeUInt32LE(8, 8); // one past PRE_COPY_P2P
      b.writeInt32LE(0x55555555, 12);
    });
    o['state.set8'] = inval.res;
    o['state.set8.dataFd'] = inval.buf.readInt32LE(12);
    o['state.argsz12'] = feature(SET | F.MIG_DEVICE_STATE, 8, 12, (b) => b.writeUInt32LE(1, 8)).res;

    // a PRE_COPY save session, then STOP_COPY on the same fd
    const fdOps = (f: DataFd) => {
      const k = f as KernelDataFd;
      return {
        pread: () => (libc.pread(k.fd, Buffer.alloc(8), 8, 0) < 0 ? err() : 'ok'),
        write: () => (libc.write(k.fd, Buffer.alloc(4), 4) < 0 ? err() : 'ok'),
        pwrite: () => (libc.pwrite(k.fd, Buffer.alloc(4), 4, 0) < 0 ? err() : 'ok'),
        read: () => (libc.read(k.fd, Buffer.alloc(4), 4) < 0 ? err() : 'ok'),
        poll: () => libc.poll1(k.fd, POLLIN | POLLOUT, 0),
        cloexec: () => libc.cloexec(k.fd),
        info: () => {
          const r = f.precopyInfo();
          return r.ok ? [Number(r.value.initialBytes), Number(r.value.dirtyBytes)] : r.errno;
        },
        infoArgsz: (n: number) => {
          const b = argszBuf(STRUCTS.precopy_info);
          b.writeUInt32LE(n, 0);
          return libc.ioctlPtr(k.fd, IOCTL.VFIO_MIG_GET_PRECOPY_INFO, b) < 0 ? err() : 'ok';
        },
      };
    };
    const readLen = (f: DataFd, n: number) => {
      const r = f.read(n);
      return r.ok ? r.value.length : r.errno;
    };
    const pre = dev.setState('PRE_COPY');
    if (!pre.ok || !pre.value.dataFd) throw new Error(`${id}: RUNNING->PRE_COPY: ${pre.ok ? 'no data fd' : pre.errno}`);
    const save = pre.value.dataFd;
    const s = fdOps(save);
    o['save.cloexec'] = s.cloexec();
    o['save.poll'] = s.poll();
    o['pre.info'] = s.info();
    o['pre.info.argsz23'] = s.infoArgsz(23);
    o['pre.read7'] = readLen(save, 7);
    o['pre.info.after7'] = s.info();
    o['pre.read'] = readLen(save, 4096);
    o['pre.readAtEnd'] = readLen(save, 4096);
    o['pre.info.atEnd'] = s.info();
    o['save.pread'] = s.pread();
    o['save.write'] = s.write();
    const sc = dev.setState('STOP_COPY');
    o['stopCopy.newFd'] = sc.ok ? sc.value.dataFd !== null : sc.errno;
    if (sc.ok) sc.value.dataFd?.close();
    o['stopCopy.info'] = s.info();
    o['stopCopy.read'] = readLen(save, 4096);
    o['stopCopy.readAtEnd'] = readLen(save, 4096);
    o['stopCopy.readAgain'] = readLen(save, 4096);
    const run = dev.setState('RUNNING');
    o['running.set'] = run.ok ? 'ok' : run.errno;
    o['running.oldFd.read'] = s.read();
    o['running.oldFd.info'] = s.info();
    save.close();

    // a reset in the middle of a PRE_COPY session
    const pre2 = dev.setState('PRE_COPY');
    if (!pre2.ok || !pre2.value.dataFd) throw new Error(`${id}: RUNNING->PRE_COPY (2): ${pre2.ok ? 'no data fd' : pre2.errno}`);
    const s2 = fdOps(pre2.value.dataFd);
    const rst = dev.reset();
    o['reset'] = rst.ok ? 'ok' : rst.errno;
    const after = dev.getState();
    o['reset.state'] = after.ok ? after.value : after.errno;
    o['reset.oldFd.read'] = s2.read();
    o['reset.oldFd.info'] = s2.info();
    pre2.value.dataFd.close();
    const pre3 = dev.setState('PRE_COPY');
    o['reset.newSession.info'] = pre3.ok && pre3.value.dataFd ? fdOps(pre3.value.dataFd).info() : pre3.ok ? 'no data fd' : pre3.errno;
    if (pre3.ok) pre3.value.dataFd?.close();
    ensureRunning(dev);

    // STOP_COPY directly: the whole stream, then end of stream
    const direct = dev.setState('STOP_COPY');
    if (!direct.ok || !direct.value.dataFd) throw new Error(`${id}: RUNNING->STOP_COPY: ${direct.ok ? 'no data fd' : direct.errno}`);
    o['direct.read'] = readLen(direct.value.dataFd, 4096);
    o['direct.readAtEnd'] = readLen(direct.value.dataFd, 4096);
    direct.value.dataFd.close();
    ensureRunning(dev);

    // a resume session: fd kind, partial writes, a write past the device's size
    const res = dev.setState('RESUMING');
    if (!res.ok || !res.value.dataFd) throw new Error(`${id}: ->RESUMING: ${res.ok ? 'no data fd' : res.errno}`);
    const rfd = res.value.dataFd;
    const r = fdOps(rfd);
    o['resume.cloexec'] = r.cloexec();
    o['resume.read'] = r.read();
    o['resume.pwrite'] = r.pwrite();
    o['resume.info'] = r.info();
    const chunks: number[] = [];
    for (const [a, b] of [[0, 10], [10, 24], [24, stream.length]] as const) {
      const w = rfd.write(stream.subarray(a, b));
      chunks.push(w.ok ? w.value : -1);
    }
    o['resume.writes'] = chunks;
    const past = rfd.write(Uint8Array.of(0));
    o['resume.writePastSize'] = past.ok ? past.value : past.errno;
    const stop = dev.setState('STOP');
    o['resume.stop'] = stop.ok ? 'ok' : stop.errno;
    rfd.close();
    return o;
  }).value;
}

// ---------------------------------------------------------------------------------------------
// Loads judged from the outside: mark the destination's port 0, load through the library (the
// CLI's code path), then read the port back (draining its FIFO).

export interface LoadInspection {
  outcome: string;
  errno: string | null;
  stage: string | null;
  reason: string;
  recovery: { action: string; finalState: string; ok: boolean };
  before: UartState;
  after: UartState;
}

export async function loadInspect(id: string, streamB64: string, plan: string, mark: UartWrite): Promise<LoadInspection> {
  const c = await ctx();
  const before = await uartSet(id, 0, mark);
  const r = load(c, id, b64(streamB64), plan);
  const after = await uartGet(id, 0, true);
  const v = r.verdict;
  return {
    outcome: v.outcome, errno: v.errno, stage: v.stage, reason: v.reason,
    recovery: { action: r.recovery.action, finalState: r.recovery.finalState, ok: r.recovery.ok }, before, after,
  };
}

/**
 * What mtty does when a VMM ignores a refused header write: the refused bytes still count, so
 * writing the rest and leaving RESUMING loads the stream. Raw session, no safety net but the reset.
 */
export async function refusedHeaderThenStop(id: string, streamB64: string, mark: UartWrite): Promise<Observations> {
  const stream = b64(streamB64);
  await uartSet(id, 0, mark);
  const o: Observations = {};
  withDevice(await ctx(), id, ({ dev }) => {
    const res = dev.setState('RESUMING');
    if (!res.ok || !res.value.dataFd) throw new Error(`${id}: ->RESUMING: ${res.ok ? 'no data fd' : res.errno}`);
    const fd = res.value.dataFd;
    const head = fd.write(stream.subarray(0, 24));
    o['header'] = head.ok ? head.value : head.errno;
    const rest = fd.write(stream.subarray(24));
    o['rest'] = rest.ok ? rest.value : rest.errno;
    const stop = dev.setState('STOP');
    o['stop'] = stop.ok ? 'ok' : stop.errno;
    fd.close();
    const run = dev.setState('RUNNING');
    o['running'] = run.ok ? 'ok' : run.errno;
  });
  const after = await uartGet(id, 0, true);
  o['after.scr'] = after.scr;
  o['after.rx'] = after.rx;
  return o;
}

/** Capture on src and load on dst through the library, `n` times: throughput inside the guest. */
export async function cycles(src: string, dst: string, n: number): Promise<{ n: number; ms: number; bytes: number; outcomes: string[] }> {
  const c = await ctx();
  const t0 = Date.now();
  let bytes = 0;
  const outcomes = new Set<string>();
  for (let i = 0; i < n; i++) {
    const s = capture(c, src).stream;
    bytes += s.length;
    outcomes.add(load(c, dst, s).verdict.outcome);
  }
  return { n, ms: Date.now() - t0, bytes, outcomes: [...outcomes] };
}

/** A capture through the library, with its timeline: the reads show what PRE_COPY and STOP_COPY each gave. */
export async function captureTimeline(id: string): Promise<{ stream: string; events: { kind: string; detail: Record<string, unknown>; errno?: string }[] }> {
  const r = capture(await ctx(), id);
  return {
    stream: Buffer.from(r.stream).toString('base64'),
    events: r.evidence.timeline.map((e) => ({ kind: e.kind, detail: e.detail as Record<string, unknown>, ...(e.errno ? { errno: e.errno } : {}) })),
  };
}
