// The real Debian 6.1.192 driver on the simulated VF, driven through its migration ops and data-fd
// file operations: save on a source with a guest, load on a destination, the revision in the
// registry and the sim runner, and a crash or hang of the real code ending only its own case.
import { test, expect } from '@playwright/test';
import { GuestMemory, QmVf, DEFAULT_DEVICE } from '../../harness/device/index.ts';
import { registerRevision, loadRevision } from '../../harness/drivers/registry.ts';
import { Vm, createWorkload } from '../../harness/guest/index.ts';
import { ACC_DEV_MAGIC_V2 } from '../../harness/formats/accVfData.ts';
import { buildTree } from '../../harness/ktree/build.ts';
import { KtreeDriver, releaseAllKtreeDrivers } from '../../harness/ktree/driver.ts';
import type { Job } from '../../harness/ktree/jobs.ts';
import { runJobsInChild } from '../../harness/ktree/pool.ts';
import { ktreeRevision } from '../../harness/ktree/registry.ts';
import { judge } from '../../harness/oracle/judge.ts';
import type { Evidence } from '../../harness/oracle/types.ts';
import { checkStream } from '../../harness/runners/simCheck.ts';
import { runCase } from '../../harness/runners/sim.ts';
import type { CaseSpec } from '../../harness/runners/types.ts';
import { SimClock } from '../../harness/util/clock.ts';
import { Rng } from '../../harness/util/rng.ts';
import { Timeline } from '../../harness/util/timeline.ts';
import { SimVfioDevice } from '../../harness/vfio/sim.ts';
import { DEBIAN, MODEL, atFunctionStart, debianLib, patchedTree } from './trees.ts';

test.afterEach(() => releaseAllKtreeDrivers());

/** A source VF with a kernel-crypto guest at its stop point, saved by `rev`. */
function save(revId: string, readSize = 4096): { stream: Buffer; timeline: Timeline; dev: QmVf } {
  const rev = revId.startsWith('ktree:') ? ktreeRevision(revId) : loadRevision(revId);
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(3);
  const dev = new QmVf({ config: DEFAULT_DEVICE, memory, clock, timeline, side: 'src', rng: new Rng(3) });
  const vfio = new SimVfioDevice('src', rev.bind({ host: dev, config: DEFAULT_DEVICE, timeline, side: 'src' }), timeline, 'src');
  const vm = new Vm({ memory, device: dev, clock, timeline, rng: new Rng(4) });
  const wl = createWorkload('kernel-crypto', { requests: 6, inflight: 2, requestSize: 64, seed: 3, deviceType: 'SEC' });
  wl.boot(vm);
  wl.runToStopPoint(vm);
  const r = vfio.setState('STOP_COPY');
  if (!r.ok || !r.value.dataFd) throw new Error(`STOP_COPY failed: ${JSON.stringify(r)}`);
  const parts: Buffer[] = [];
  for (;;) {
    const c = r.value.dataFd.read(readSize);
    if (!c.ok) throw new Error(c.errno);
    if (c.value.length === 0) break;
    parts.push(Buffer.from(c.value));
  }
  return { stream: Buffer.concat(parts), timeline, dev };
}

test('save on a source: the real code writes a V2 stream with the guest\'s queue addresses, like the model', () => {
  const real = save(DEBIAN);
  expect(real.stream.length).toBe(176);
  expect(real.stream.readBigUInt64LE(0)).toBe(ACC_DEV_MAGIC_V2);
  expect(real.stream.readUInt16LE(28)).toBe(1); // major_ver
  expect(real.stream.readUInt32LE(12)).toBe(0xa256); // dev_id of a SEC VF
  const eqc = [1, 2].map((i) => real.stream.readUInt32LE(64 + 4 * i));
  expect(real.stream.readBigUInt64LE(144)).toBe((BigInt(eqc[1]) << 32n) | BigInt(eqc[0])); // eqe_dma = dw2:dw1
  expect(real.stream.readBigUInt64LE(160)).not.toBe(0n); // sqc_dma from the SQC_BT query
  // what the real code told the device: PAUSE_QM, SQC_BT/CQC_BT queries, EQ/AEQ doorbells after save
  const mb = real.timeline.events.filter((e) => e.kind === 'mailbox' && e.detail.by === 'host').map((e) => e.detail.cmd);
  expect(mb).toEqual([0xe, 0x4, 0x5]);
  const db = real.timeline.events.filter((e) => e.kind === 'doorbell' && e.detail.by === 'host').map((e) => e.detail.cmd);
  expect(db).toEqual([2, 3]);
  expect(save(MODEL).stream.equals(real.stream)).toBe(true);
});

// docs/reference.md#save-fd-read-semantics
test('Debian 6.1.192 save fd is offset-blind: every read copies from the start of the struct', () => {
  const chunked = save(DEBIAN, 50).stream;
  const whole = save(DEBIAN).stream;
  expect(chunked.length).toBe(176);
  expect(chunked.subarray(50, 100).equals(whole.subarray(0, 50))).toBe(true);
  expect(chunked.subarray(150, 176).equals(whole.subarray(0, 26))).toBe(true);
  expect(save(MODEL, 50).stream.equals(chunked)).toBe(true);
});

test('load on a destination: accepted, registers restored, event bases handed to firmware', () => {
  const { stream } = save(DEBIAN);
  const r = checkStream({ rev: ktreeRevision(DEBIAN), stream, keepTimeline: true });
  expect(r.accepted).toBe(true);
  expect(r.restored.migState).toBe('RUNNING');
  expect(r.restored.eqeDma).toBe(stream.readBigUInt64LE(144));
  expect(r.restored.aeqeDma).toBe(stream.readBigUInt64LE(152));
  const writes = r.timeline!.filter((e) => e.kind === 'reg-write' && e.detail.by === 'host').map((e) => e.detail.off);
  expect(writes.slice(0, 8)).toEqual([0x60, 0x4, 0xc, 0x20, 0x24, 0x2c, 0x30, 0x34]); // docs/reference.md#load_data-steps, steps 4 and 6 in order
  const setMb = r.timeline!.filter((e) => e.kind === 'mailbox' && e.detail.op === 0 && e.detail.by === 'host').map((e) => e.detail.addr);
  expect(setMb).toContain('0x' + stream.readBigUInt64LE(160).toString(16).padStart(16, '0'));
});

// docs/reference.md#where-the-match-check-runs, docs/reference.md#resume-fd-write-semantics
test('Debian 6.1.192 resume fd is offset-blind and checks at RESUMING->STOP', () => {
  const { stream } = save(DEBIAN);
  const chunked = checkStream({ rev: ktreeRevision(DEBIAN), stream, transfer: 'chunks:40,136' });
  expect(chunked.writes).toEqual([40, 136]); // both writes accepted...
  expect(chunked.accepted).toBe(false); // ...the second one landed at offset 0
  expect(chunked.stage).toBe('resuming->stop');
  expect(chunked.errno).toBe('EINVAL');
  const bad = Buffer.from(stream);
  bad.writeUInt16LE(2, 28); // V2 major 2
  const r = checkStream({ rev: ktreeRevision(DEBIAN), stream: bad });
  expect([r.accepted, r.stage, r.errno]).toEqual([false, 'resuming->stop', 'EINVAL']);
  const tooLong = checkStream({ rev: ktreeRevision(DEBIAN), stream: Buffer.concat([stream, Buffer.alloc(1)]) });
  expect([tooLong.stage, tooLong.errno]).toEqual(['write', 'ENOMEM']);
});

test('a ktree revision in the registry runs whole cases in the sim runner', () => {
  registerRevision(ktreeRevision(DEBIAN), { replace: true });
  const spec: CaseSpec = {
    src: DEBIAN, dst: DEBIAN, workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'single',
    device: DEFAULT_DEVICE, requests: 8, inflight: 2, requestSize: 64, seed: 9,
  };
  const v = judge(runCase(spec));
  expect(v.outcome).toBe('migrated');
  const refused = judge(runCase({ ...spec, src: 'hisi-acc/v6.16', transfer: 'chunks:1,175' }));
  expect(refused.outcome).not.toBe('migrated');
});

test('the driver binding frees its shim instance (many cases in one process)', () => {
  const e = debianLib();
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  for (let i = 0; i < 2100; i++) { // more than the shim's instance table holds at once
    const dev = new QmVf({ config: DEFAULT_DEVICE, memory: new GuestMemory(1, 4096), clock, timeline, side: 'dst', rng: new Rng(1) });
    const d = new KtreeDriver(DEBIAN, e.libPath, { host: dev, config: DEFAULT_DEVICE, timeline, side: 'dst' });
    d.destroy();
  }
});

test('a crash or a hang of the real code ends that job as an error; the following jobs still run', async () => {
  const crash = buildTree(patchedTree((s) => atFunctionStart(s, 'hisi_acc_vf_stop_device', '*(volatile int *)0 = 1;')));
  const hang = buildTree(patchedTree((s) => atFunctionStart(s, 'hisi_acc_vf_stop_device', 'for (;;) ;')));
  const spec: CaseSpec = {
    src: 'ktree:crash', dst: DEBIAN, workload: 'user-polling', scenario: 'single-hop', transfer: 'single',
    device: DEFAULT_DEVICE, requests: 4, inflight: 1, requestSize: 64, seed: 2,
  };
  const jobs: Job[] = [
    { kind: 'case', id: 'crash', spec },
    { kind: 'case', id: 'hang', spec: { ...spec, src: 'ktree:hang' } },
    { kind: 'case', id: 'fine', spec: { ...spec, src: DEBIAN } },
  ];
  const r = await runJobsInChild(jobs, {
    libs: { 'ktree:crash': crash.libPath, 'ktree:hang': hang.libPath, [DEBIAN]: debianLib().libPath }, jobTimeoutMs: 4000,
  });
  expect(r.map((x) => x.id)).toEqual(['crash', 'hang', 'fine']);
  expect(r[0].error).toContain('SIGSEGV');
  expect(r[1].error).toMatch(/did not finish within 4000 ms/);
  expect(r[2].error).toBeNull();
  const ev = r[2].evidence as unknown as Evidence & { stream: string };
  expect(judge({ ...ev, stream: Buffer.from(ev.stream, 'hex') }).outcome).toBe('migrated');
});
