// One migration hop between two QEMU processes, judged from both sides: the source's query-migrate,
// both sides' run state, the destination's exit and stderr, and the guest workload on whichever side
// it should be running. return-path is on at both ends, so a destination that fails while loading
// makes the source fail the migration and resume by itself (without it the source reports
// "completed" and stays paused with a dead guest).
import { createServer } from 'node:net';
import type { CheckResult, Outcome, TimelineEvent } from '../../oracle/types.ts';
import { InfraError } from './errors.ts';
import type { MigrationInfo, StatusInfo } from './qmp.ts';
import { QmpError } from './qmp.ts';
import { QemuVm, socketPath, type VmHost, type VmStart } from './vm.ts';
import { checkContinuity, checkHisi, joinSegments, parseWorkload } from './workload.ts';

/** The HiSilicon driver checks that apply to a guest: what its image loads, and the VFs it boots with. */
export function hisiExpectation(vm: QemuVm): { modules: string[]; vfs: number } {
  return { modules: vm.spec.image.hisiModules, vfs: vm.spec.config.vfio.length };
}

export type Channel = 'unix' | 'tcp';

export interface HopOptions {
  channel: Channel;
  /** bytes/s; QEMU 7.2's default is 128 MiB/s */
  maxBandwidth: number;
  /** workload iterations that must follow the hop on the side that should be running */
  proofIters: number;
  timeoutMs: number;
  /** QEMU's downtime-limit (ms) on the source when set; the runner sets it for aarch64 under TCG (ArchProfile.tcgDowntimeLimitMs) */
  downtimeLimitMs?: number;
}

export const DEFAULT_HOP: HopOptions = { channel: 'unix', maxBandwidth: 1 << 30, proofIters: 2, timeoutMs: 60_000 };

export interface HopFigures {
  totalTimeMs: number | null;
  downtimeMs: number | null;
  setupTimeMs: number | null;
  transferredBytes: number | null;
  /** wall time from `migrate` to the first new workload line on the destination */
  migrateToFirstLineMs: number | null;
}

export interface HopResult {
  outcome: Outcome;
  reason: string;
  srcStatus: string | null;
  dstStatus: string | null;
  dstExit: number | string | null;
  dstStderr: string;
  migration: MigrationInfo | null;
  blockedReasons: string[];
  srcLastIter: number;
  dstFirstIter: number | null;
  figures: HopFigures;
  checks: CheckResult[];
  oops: string | null;
}

type Push = (side: TimelineEvent['side'], kind: TimelineEvent['kind'], detail: TimelineEvent['detail'], errno?: string) => void;

/** A TCP port free on 127.0.0.1 right now (for migration listeners and test servers). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).pop() ?? '';

async function safeStatus(vm: QemuVm): Promise<StatusInfo | null> {
  if (!vm.alive()) return null;
  try {
    return await vm.qmp.queryStatus();
  } catch {
    return null;
  }
}

/** Poll query-migrate until it ends. */
export async function waitMigration(vm: QemuVm, timeoutMs: number, push: Push): Promise<MigrationInfo> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const info = await vm.qmp.queryMigrate();
    if (info.status !== last) {
      last = info.status ?? 'none';
      push('src', 'set-state', { migration: last });
    }
    if (info.status === 'completed' || info.status === 'failed' || info.status === 'cancelled') return info;
    if (Date.now() > deadline) throw new InfraError(`migration still ${info.status} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

const uriHost = (a: string) => (a.includes(':') ? `[${a}]` : a);

/**
 * Lab hops (either end on another host) go over TCP to the destination host's migration address; the
 * destination listens on port 0 and reports the real port. Local hops keep the chosen channel.
 */
async function incomingUri(src: VmHost | undefined, dst: QemuVm, opts: HopOptions): Promise<{ listen: string; connect: () => Promise<string> }> {
  const d = dst.spec.host;
  if (src?.kind === 'ssh' || d?.kind === 'ssh') {
    const addr = uriHost(d!.address);
    return {
      listen: `tcp:${addr}:0`,
      connect: async () => {
        const info = await dst.qmp.queryMigrate();
        const port = info['socket-address']?.find((a) => a.type === 'inet')?.port;
        if (!port) throw new InfraError(`${dst.name} on ${dst.hostName}: query-migrate reports no listening port (${JSON.stringify(info)})`);
        return `tcp:${addr}:${port}`;
      },
    };
  }
  const uri = opts.channel === 'unix' ? `unix:${socketPath(dst.spec.dir, `${dst.name}-mig.sock`)}` : `tcp:127.0.0.1:${await freePort()}`;
  return { listen: uri, connect: async () => uri };
}

/**
 * Migrate `src` live to a new destination started from `dstStart` (with -incoming defer). Returns the
 * destination VM when it took over (outcome migrated), else null after ending it.
 */
export async function liveHop(src: QemuVm, dstStart: VmStart, opts: HopOptions, push: Push): Promise<{ result: HopResult; dst: QemuVm | null }> {
  await src.waitIter(1, 60_000);
  if ((src.spec.host === undefined) !== (dstStart.host === undefined)) throw new InfraError('a hop names lab hosts on one side only');
  const dst = await QemuVm.start({ ...dstStart, incoming: 'defer' });
  push('dst', 'note', { started: dst.name, host: dst.hostName, build: dstStart.build.id, pid: dst.proc.pid, machine: dstStart.config.machine, memMiB: dstStart.config.memMiB, vfio: dstStart.config.vfio.join(',') || null });
  let uri = '';
  const result: HopResult = {
    outcome: 'error', reason: '', srcStatus: null, dstStatus: null, dstExit: null, dstStderr: '', migration: null, blockedReasons: [],
    srcLastIter: 0, dstFirstIter: null, checks: [], oops: null,
    figures: { totalTimeMs: null, downtimeMs: null, setupTimeMs: null, transferredBytes: null, migrateToFirstLineMs: null },
  };
  let keep = false;
  try {
    await dst.qmp.setCapabilities({ 'return-path': true });
    const ch = await incomingUri(src.spec.host, dst, opts);
    await dst.qmp.execute('migrate-incoming', { uri: ch.listen });
    uri = await ch.connect();
    await src.qmp.setCapabilities({ 'return-path': true });
    await src.qmp.setParameters({ 'max-bandwidth': opts.maxBandwidth, ...(opts.downtimeLimitMs !== undefined ? { 'downtime-limit': opts.downtimeLimitMs } : {}) });
    const before = src.lastIter();
    push('src', 'note', { migrate: uri, lastIter: before, downtimeLimitMs: opts.downtimeLimitMs ?? null });
    const t0 = Date.now();
    try {
      await src.qmp.execute('migrate', { uri });
    } catch (e) {
      if (!(e instanceof QmpError)) throw e;
      // refused before any byte moved (a migration blocker)
      push('src', 'event', { refused: e.desc });
      const info = await src.qmp.queryMigrate();
      result.blockedReasons = info['blocked-reasons'] ?? [];
      result.reason = e.desc;
      await judgeRefusal(src, dst, before, opts, result, push);
      return { result, dst: null };
    }
    const info = await waitMigration(src, opts.timeoutMs, push);
    result.migration = info;
    result.figures.totalTimeMs = info['total-time'] ?? null;
    result.figures.downtimeMs = info.downtime ?? null;
    result.figures.setupTimeMs = info['setup-time'] ?? null;
    result.figures.transferredBytes = info.ram?.transferred ?? null;
    if (info.status !== 'completed') {
      result.reason = info['error-desc'] ?? `migration ${info.status}`;
      await judgeRefusal(src, dst, before, opts, result, push);
      return { result, dst: null };
    }
    // completed on the source: the destination must run the guest, and the workload must go on there
    await src.sync(); // a remote source's workload file, complete before its last ITER is read
    const deadline = Date.now() + 15_000;
    // QEMU reports completed before the source leaves finish-migrate for postmigrate
    let srcSt: StatusInfo | null = null;
    while (Date.now() < deadline) {
      srcSt = await safeStatus(src);
      if (srcSt?.status !== 'finish-migrate') break;
      await sleep(50);
    }
    result.srcStatus = srcSt?.status ?? null;
    let dstSt: StatusInfo | null = null;
    while (Date.now() < deadline) {
      dstSt = await safeStatus(dst);
      if (!dstSt || dstSt.running) break;
      await sleep(50);
    }
    result.dstStatus = dstSt?.status ?? null;
    push('dst', 'set-state', { status: result.dstStatus ?? 'exited' });
    result.srcLastIter = src.lastIter();
    if (!dstSt?.running) {
      result.dstExit = dst.proc.hasExited() ? await dst.proc.exited : null;
      result.dstStderr = dst.proc.stderr();
      result.outcome = 'broken';
      result.reason = `source reports completed but the destination is ${result.dstStatus ?? `gone (${lastLine(result.dstStderr)})`}`;
      result.checks.push({ name: 'dst-running', ok: false, detail: result.reason });
      return { result, dst: null };
    }
    result.checks.push({ name: 'dst-running', ok: true, detail: `destination ${dstSt.status}, source ${result.srcStatus}` });
    result.checks.push({ name: 'src-postmigrate', ok: result.srcStatus === 'postmigrate', detail: `source ${result.srcStatus}` });
    try {
      await dst.waitIter(result.srcLastIter + 1, 30_000);
      result.figures.migrateToFirstLineMs = Date.now() - t0;
      await dst.waitIter(result.srcLastIter + opts.proofIters, 30_000);
    } catch (e) {
      result.oops = dst.oops();
      if (result.oops) {
        result.reason = `guest oops after the hop (TCG dirty-page race before QEMU 9.0): ${result.oops}`;
        result.outcome = 'error';
        return { result, dst: null };
      }
      result.outcome = 'broken';
      result.reason = `workload did not continue on the destination: ${(e as Error).message}`;
      result.checks.push({ name: 'workload-continues', ok: false, detail: result.reason });
      return { result, dst: null };
    }
    dst.hisi = src.hisi; // the same guest: its drivers and devices came along
    const pair = [{ label: src.name, text: src.workloadText() }, { label: dst.name, text: dst.workloadText() }];
    // a line cut by the hop counts on the destination, where it was completed
    result.dstFirstIter = parseWorkload(joinSegments(pair)[1]!.text).iters[0]?.n ?? null;
    result.checks.push(...[...checkContinuity(pair, src.spec.config.workload.size, null), ...checkHisi(pair, src.hisi, hisiExpectation(src))]
      .map((c) => ({ ...c, detail: `${c.detail} (hop ${src.name} -> ${dst.name})` })));
    const boundaryOk = result.dstFirstIter === result.srcLastIter + 1;
    result.checks.push({ name: 'hop-boundary', ok: boundaryOk, detail: `source last ITER ${result.srcLastIter}, destination first ITER ${result.dstFirstIter}` });
    result.oops = dst.oops();
    if (result.oops) {
      result.outcome = 'error';
      result.reason = `guest oops after the hop (TCG dirty-page race before QEMU 9.0): ${result.oops}`;
      return { result, dst: null };
    }
    const failed = result.checks.filter((c) => !c.ok);
    result.outcome = failed.length ? 'broken' : 'migrated';
    result.reason = failed.length ? failed.map((c) => c.detail).join('; ') : `migrated in ${info['total-time']} ms, downtime ${info.downtime} ms`;
    keep = result.outcome === 'migrated';
    push('harness', 'check', { outcome: result.outcome, reason: result.reason });
    return { result, dst: keep ? dst : null };
  } finally {
    if (!keep) {
      result.dstExit ??= dst.proc.hasExited() ? await dst.proc.exited : null;
      if (!result.dstStderr) result.dstStderr = dst.proc.stderr();
      await dst.stop();
    }
  }
}

/** After a failed or blocked migration: the source must be running and its workload must go on. */
async function judgeRefusal(src: QemuVm, dst: QemuVm, before: number, opts: HopOptions, result: HopResult, push: Push): Promise<void> {
  // the destination either exited with its load error or still waits for a stream
  await Promise.race([dst.proc.exited, sleep(1000)]);
  result.dstExit = dst.proc.hasExited() ? await dst.proc.exited : null;
  result.dstStderr = dst.proc.stderr();
  const dstSt = await safeStatus(dst);
  result.dstStatus = dstSt?.status ?? null;
  push('dst', 'set-state', { status: result.dstStatus ?? 'exited', exit: result.dstExit === null ? null : String(result.dstExit), stderr: lastLine(result.dstStderr) });
  const srcSt = await safeStatus(src);
  result.srcStatus = srcSt?.status ?? null;
  push('src', 'set-state', { status: result.srcStatus ?? 'exited' });
  result.checks.push({ name: 'dst-not-running', ok: !dstSt?.running, detail: `destination ${result.dstStatus ?? `exited ${result.dstExit}: ${lastLine(result.dstStderr)}`}` });
  if (!srcSt?.running) {
    result.outcome = 'broken';
    result.reason = `refused, but the source is left ${result.srcStatus ?? 'gone'}: ${result.reason}`;
    result.checks.push({ name: 'src-running', ok: false, detail: result.reason });
    return;
  }
  result.checks.push({ name: 'src-running', ok: true, detail: `source ${srcSt.status}` });
  try {
    await src.waitIter(Math.max(before, src.lastIter()) + opts.proofIters, 30_000);
  } catch (e) {
    result.oops = src.oops();
    result.outcome = result.oops ? 'error' : 'broken';
    result.reason = result.oops ? `guest oops on the source: ${result.oops}` : `workload stopped on the source after the refusal: ${(e as Error).message}`;
    result.checks.push({ name: 'workload-continues', ok: false, detail: result.reason });
    return;
  }
  result.srcLastIter = src.lastIter();
  result.checks.push({ name: 'workload-continues', ok: true, detail: `source went on from ITER ${before} to ${result.srcLastIter}` });
  const seg = [{ label: src.name, text: src.workloadText() }];
  result.checks.push(...checkContinuity(seg, src.spec.config.workload.size, null), ...checkHisi(seg, src.hisi, hisiExpectation(src)));
  const failed = result.checks.filter((c) => !c.ok);
  result.outcome = failed.length ? 'broken' : 'refused';
  if (failed.length) result.reason = failed.map((c) => c.detail).join('; ');
  push('harness', 'check', { outcome: result.outcome, reason: result.reason });
}

/** Save the running guest to a file (`exec:cat > FILE`: QEMU 7.2 has no file: URI). No return path: nothing answers. */
export async function saveToFile(src: QemuVm, file: string, opts: HopOptions, push: Push): Promise<MigrationInfo> {
  await src.qmp.setCapabilities({ 'return-path': false });
  await src.qmp.setParameters({ 'max-bandwidth': opts.maxBandwidth });
  push('src', 'note', { save: file, lastIter: src.lastIter() });
  await src.qmp.execute('migrate', { uri: `exec:cat > '${file.replace(/'/g, `'\\''`)}'` });
  return waitMigration(src, opts.timeoutMs, push);
}

/** A new QEMU loading the file (`-incoming exec:cat FILE`); resolves once the guest runs again. */
export async function restoreFromFile(start: VmStart, file: string, push: Push): Promise<QemuVm> {
  const vm = await QemuVm.start({ ...start, incoming: `exec:cat '${file.replace(/'/g, `'\\''`)}'` });
  push('dst', 'note', { restore: file, started: vm.name, pid: vm.proc.pid });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const st = await safeStatus(vm);
    if (st?.running) break;
    if (!st || Date.now() > deadline) {
      const why = lastLine(vm.proc.stderr());
      await vm.stop();
      throw new InfraError(`restore from ${file} did not resume the guest: ${st?.status ?? why}`);
    }
    await sleep(50);
  }
  push('dst', 'set-state', { status: 'running' });
  return vm;
}
