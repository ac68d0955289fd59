// Behaviours made faithful to the real code after the ktree self-check (specs/findings/ktree.yaml):
// open_device reads no VFT, the driver's vf_qm.qp_num starts at 0 and is set only by a passing match
// check or a load, vf_qm_state is set at probe. The trait stays available for hypothetical revisions.
import { test, expect } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { listRevisions, loadRevision, unregisterRevision } from '../../harness/drivers/registry.ts';
import { runAndJudge } from '../../harness/runners/sim.ts';
import type { CaseSpec } from '../../harness/runners/types.ts';
import { checkStream } from '../../harness/runners/simCheck.ts';
import { GuestMemory, QmVf } from '../../harness/device/index.ts';
import { SimClock } from '../../harness/util/clock.ts';
import { Rng } from '../../harness/util/rng.ts';
import { Timeline } from '../../harness/util/timeline.ts';
import { SimVfioDevice } from '../../harness/vfio/sim.ts';
import { edit, streamFrom } from './drivers-helpers.ts';

const spec = (src: string, dst: string): CaseSpec => ({
  src, dst, workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'qemu', device: DEFAULT_DEVICE,
  requests: 16, inflight: 4, requestSize: 4096, seed: 5,
});

test('no released revision reads the VFT at open_device: the open touches no register', () => {
  const models = listRevisions().filter((r) => r.kind === 'model' && r.id.startsWith('hisi-acc/'));
  expect(models.length).toBeGreaterThanOrEqual(8);
  for (const rev of models) {
    expect(rev.traits!.vftReadAtOpen, rev.id).toBe(false);
    const clock = new SimClock();
    const tl = new Timeline(clock);
    const dev = new QmVf({ config: DEFAULT_DEVICE, memory: new GuestMemory(1, 4096), clock, timeline: tl, side: 'src', rng: new Rng(1) });
    new SimVfioDevice('x', rev.bind({ host: dev, config: DEFAULT_DEVICE, timeline: tl, side: 'src' }), tl, 'src');
    const writes = tl.events.filter((e) => e.kind === 'reg-write' || e.kind === 'mailbox');
    // R4+ reads PF 0x100198 (a read, not recorded); nothing is written
    expect(writes, rev.id).toEqual([]);
  }
});

test('a passing match check sets the driver\'s qp_num: a destination restarts the queues it checked', () => {
  // v6.2 checks at write() and keeps vf_qm_state READY from the match; a match-only (40-byte) stream
  // loads nothing, so the doorbells on STOP->RUNNING come from the match check's qp_num alone
  const full = streamFrom('v6.8');
  const header = edit(full.subarray(0, 40), (d) => { d.vfQmState = 0; });
  const r = checkStream({ rev: 'hisi-acc/v6.8', stream: header, keepTimeline: true });
  expect(r.accepted).toBe(true);
  const db = r.timeline!.filter((e) => e.kind === 'doorbell' && e.detail.by === 'host').map((e) => [e.detail.cmd, e.detail.qn, e.detail.prio]);
  expect(db).toEqual([[0, 0, 1], [0, 1, 1], [0, 2, 1], [0, 3, 1]]);
});

test('a hypothetical revision that reads the VFT at open rings restart doorbells on a refused source; v6.16 itself does not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fidelity-'));
  const yaml = join(dir, 'vft-open.yaml');
  writeFileSync(yaml, 'id: test/vft-at-open\ntitle: v6.16 reading the VFT at open\nkernel: hypothetical\nextends: hisi-acc/v6.16\n' +
    'traits:\n  vftReadAtOpen: true\n');
  try {
    const rev = loadRevision(yaml);
    expect(rev.traits!.vftReadAtOpen).toBe(true);
    const real = runAndJudge(spec('hisi-acc/v6.16', 'hisi-acc/v5.18'));
    const hypo = runAndJudge(spec('test/vft-at-open', 'hisi-acc/v5.18'));
    // both refusals are clean (the guest's next submission restarts a paused source); only the
    // hypothetical driver rings start_device's SQ doorbells on the source
    expect([real.verdict.outcome, real.verdict.stage]).toEqual(['refused', 'resuming->stop']);
    expect([hypo.verdict.outcome, hypo.verdict.stage]).toEqual(['refused', 'resuming->stop']);
    const restart = (ev: typeof real.evidence) => ev.timeline.filter((e) => e.side === 'src' && e.kind === 'doorbell' && e.detail.by === 'host' && e.detail.prio === 1).length;
    expect(restart(real.evidence)).toBe(0);
    expect(restart(hypo.evidence)).toBe(DEFAULT_DEVICE.qpNum);
    const openWrites = hypo.evidence.timeline.filter((e) => e.side === 'src' && e.kind === 'reg-write' && e.detail.space === 'pf');
    expect(openWrites.slice(0, 5).map((e) => e.detail.off)).toEqual([0x100058, 0x10005c, 0x100060, 0x10006c, 0x100054]);
  } finally {
    unregisterRevision('test/vft-at-open');
  }
});

test('R3+ and Debian set vf_qm_state NOT_READY at probe, not at each open', () => {
  // a source saves (vf_qm_state READY), the fd is closed and the device opened again by a new QEMU:
  // a STOP->RUNNING after the reopen still restarts from READY (nothing at open resets it)
  for (const id of ['hisi-acc/v6.16', 'hisi-acc/debian-6.1.192']) {
    const clock = new SimClock();
    const tl = new Timeline(clock);
    const dev = new QmVf({ config: DEFAULT_DEVICE, memory: new GuestMemory(1, 4096), clock, timeline: tl, side: 'src', rng: new Rng(1) });
    const driver = loadRevision(id).bind({ host: dev, config: DEFAULT_DEVICE, timeline: tl, side: 'src' });
    // a fresh binding: STOP->RUNNING does nothing (NOT_READY from probe)
    const a = new SimVfioDevice('a', driver, tl, 'src');
    a.setState('STOP');
    const before = tl.events.length;
    a.setState('RUNNING');
    expect(tl.events.slice(before).filter((e) => e.kind === 'reg-write'), id).toEqual([]);
    // the same binding after a (device-level) save made it READY, across a reopen
    const sc = a.setState('STOP_COPY');
    expect(sc.ok).toBe(true);
    a.setState('STOP');
    a.close();
    const b = new SimVfioDevice('b', driver, tl, 'src');
    b.setState('STOP');
    const at = tl.events.length;
    b.setState('RUNNING');
    expect(tl.events.slice(at).filter((e) => e.kind === 'reg-write').map((e) => e.detail.off), id).toEqual([0x20, 0x24]);
  }
});
