// ktree ids everywhere a revision id goes: the real Debian 6.1 and 6.12 code, loaded by id, runs
// whole cases and destination checks in a child process and agrees with its model. Lives in the ktree
// project, which fetches and builds the tree (debianLib()).
import { test, expect } from '@playwright/test';
import '../../harness/ktree/install.ts'; // ktree: ids resolve, real code runs in child processes
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { loadRevision } from '../../harness/drivers/registry.ts';
import { judge } from '../../harness/oracle/judge.ts';
import { runCase } from '../../harness/runners/sim.ts';
import { checkStream } from '../../harness/runners/simCheck.ts';
import type { CaseSpec } from '../../harness/runners/types.ts';
import { streamFrom } from '../engine/drivers-helpers.ts';
import { DEBIAN, DEBIAN_612, MODEL, MODEL_612, debianLib } from './trees.ts';

const spec = (src: string, dst: string, o: Partial<CaseSpec> = {}): CaseSpec => ({
  src, dst, workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'single', device: DEFAULT_DEVICE,
  requests: 8, inflight: 2, requestSize: 256, seed: 4, ...o,
});

let libPath = '';
test.beforeAll(() => {
  libPath = debianLib().libPath;
});

test('loadRevision(ktree:debian-6.1) is an isolated external revision', () => {
  const r = loadRevision(DEBIAN);
  expect([r.id, r.kind]).toEqual([DEBIAN, 'external']);
  expect(r.kernel).toMatch(/^6\.1\.\d+$/); // the series is pinned; the point release is what apt served
  expect(r.childLib).toBe(libPath);
});

test('runCase and checkStream by id agree with the Debian model', () => {
  for (const s of [spec(DEBIAN, DEBIAN), spec('hisi-acc/v6.16', DEBIAN), spec(DEBIAN, 'hisi-acc/v5.18')]) {
    const real = runCase(s);
    expect(real.harnessError).toBeNull();
    const model = runCase({ ...s, src: s.src.replace(DEBIAN, MODEL), dst: s.dst.replace(DEBIAN, MODEL) });
    expect(judge(real), `${s.src} -> ${s.dst}`).toEqual(judge(model));
    expect(Buffer.from(real.stream!).equals(Buffer.from(model.stream!))).toBe(true);
  }
  const stream = streamFrom('v6.16', 'kernel-crypto');
  const c = checkStream({ rev: DEBIAN, stream });
  expect(c.harnessError).toBeUndefined();
  expect([c.accepted, c.rev]).toEqual([true, DEBIAN]);
  expect(c.restored.eqeDma).toBe(Buffer.from(stream).readBigUInt64LE(144));
  const m = checkStream({ rev: MODEL, stream, transfer: 'chunks:40,136' });
  const r = checkStream({ rev: DEBIAN, stream, transfer: 'chunks:40,136' });
  expect([r.accepted, r.errno, r.stage]).toEqual([m.accepted, m.errno, m.stage]);
});

test('ktree:debian-6.12 by id: an isolated external revision; checks as by its model, and 6.12 -> 6.1 over QEMU refused', () => {
  const lib = debianLib(DEBIAN_612).libPath;
  const r = loadRevision(DEBIAN_612);
  expect([r.id, r.kind, r.childLib]).toEqual([DEBIAN_612, 'external', lib]);
  expect(r.kernel).toMatch(/^6\.12\.\d+$/);
  const stream = streamFrom('v6.16', 'kernel-crypto');
  for (const transfer of ['single', 'chunks:40,136', 'chunks:40,1,135']) {
    const c = checkStream({ rev: DEBIAN_612, stream, transfer });
    const m = checkStream({ rev: MODEL_612, stream, transfer });
    expect([c.accepted, c.errno, c.stage, c.writes], transfer).toEqual([m.accepted, m.errno, m.stage, m.writes]);
  }
  // a 6.12 source to a 6.1 destination over QEMU's transfer, by id on both sides
  const e = runCase(spec(DEBIAN_612, DEBIAN, { transfer: 'qemu' }));
  expect(judge(e)).toMatchObject({ outcome: 'refused', errno: 'EINVAL', stage: 'resuming->stop' });
});
