// Hand-built case records for report tests: a small grid with every outcome and status.
import { DEFAULT_DEVICE, type DeviceType } from '../../harness/device/mmio.ts';
import type { Outcome } from '../../harness/oracle/types.ts';
import { cellStatus, type CaseRecord } from '../../harness/report/record.ts';
import type { WorkloadName } from '../../harness/runners/types.ts';

const REVS = ['hisi-acc/v5.18', 'hisi-acc/v6.16', 'hisi-acc/v7.0'];

export function record(src: number, dst: number, workload: WorkloadName, transfer: string, device: DeviceType,
  actual: Outcome, expected: Outcome, known = false): CaseRecord {
  const s = REVS[src], d = REVS[dst];
  const title = `${s.slice(9)} -> ${d.slice(9)} ${workload} ${transfer} ${device}`;
  const r = {
    id: title.replace(/ -> /, '_to_').replace(/ /g, '_'), title, matrix: 'hand', runner: 'sim',
    direction: src === dst ? 'same-version' : src < dst ? 'old-new' : 'new-old', srcRank: src, dstRank: dst,
    spec: { src: s, dst: d, workload, transfer, scenario: 'single-hop' as const, device: { ...DEFAULT_DEVICE, type: device },
      requests: 8, inflight: 2, requestSize: 64, seed: 1000 + src * 10 + dst },
    seed: 1000 + src * 10 + dst, expected, rule: known ? 'expect[1]' : 'default',
    known: known ? { id: 'eqe-dma-v1', description: 'buggy eqe_dma', link: 'docs/reference.md#fix-xqe-dma-address-error' } : null,
    actual, reason: `${actual} because test`, errno: actual === 'refused' ? 'EFAULT' : null, stage: actual === 'refused' ? 'write' : null,
    streamHex: 'ccaaedfecdcdcdcd', timelineDigest: 'abc', timelineEvents: 3, streamSummary: '176 bytes, layout v1',
  };
  return { ...r, status: cellStatus(r), durationMs: 1, reportTestId: `t-${r.id}`, artifacts: { bundle: `repro/${r.id}.json` } };
}

/** 3 × 3 revisions × 2 workloads × 1 transfer, device per cell in turn: 18 cases. */
export function handGrid(overrides: Record<string, Outcome> = {}): CaseRecord[] {
  const out: CaseRecord[] = [];
  const devs: DeviceType[] = ['SEC', 'HPRE', 'ZIP'];
  let i = 0;
  for (let s = 0; s < 3; s++) for (let d = 0; d < 3; d++) for (const w of ['user-polling', 'kernel-crypto'] as const) {
    const dev = devs[i++ % 3];
    let expected: Outcome = s === 2 && d === 0 ? 'refused' : 'migrated';
    let actual: Outcome = expected;
    const known = s === 0 && d === 0 && w === 'kernel-crypto';
    if (known) actual = 'broken';
    if (s === 1 && d === 2 && w === 'user-polling') actual = 'error'; // an unexpected cell
    const r0 = record(s, d, w, 'qemu', dev, actual, expected, known);
    if (overrides[r0.id]) out.push(record(s, d, w, 'qemu', dev, overrides[r0.id], expected, known));
    else out.push(r0);
  }
  return out;
}
