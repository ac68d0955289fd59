// The fuzzer's own machinery, without the engine: mutation operators, the
// docs/reference.md#match-check-order-and-errnos must-refuse oracle, the independent uAPI model, the findings
// registry and the report writer. A planted defect in a stand-in destination proves that the stream property
// fails, shrinks and names the field.
import { test, expect } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2 } from '../../harness/formats/accVfData.ts';
import { DEFAULT_DEVICE, DEVICE_IDS, type DeviceConfig } from '../../harness/device/mmio.ts';
import { FIELDS_V1, FIELDS_V2, fieldByName, readField, writeField } from '../../harness/fuzz/streamFields.ts';
import { applyMutation, mutatedField, mutationFromJson, mutationToJson, type Mutation } from '../../harness/fuzz/mutations.ts';
import { acceptanceRuleFor, mustRefuse } from '../../harness/fuzz/checkedFields.ts';
import { textPath } from '../../harness/conformance/uapiText.ts';
import { FindingsLedger, loadRegistry } from '../../harness/fuzz/findings.ts';
import { streamProperty, transferProperty, chunksOf } from '../../harness/fuzz/properties.ts';
import { SensitivityTable, writeSensitivity } from '../../harness/fuzz/sensitivity.ts';
import type { FuzzTarget, StreamCheck } from '../../harness/fuzz/target.ts';
import type { MigState } from '../../harness/vfio/types.ts';

function v2Stream(dev: DeviceConfig = DEFAULT_DEVICE): Uint8Array {
  const s = new Uint8Array(176);
  const put = (name: string, v: bigint) => writeField(s, fieldByName(s, name)!, v);
  put('acc_magic', ACC_DEV_MAGIC_V2);
  put('major_ver', 1n);
  put('qp_num', BigInt(dev.qpNum));
  put('dev_id', BigInt(DEVICE_IDS[dev.type]));
  put('que_iso_cfg', BigInt(dev.queIsoCfg));
  return s;
}

test('field tables tile the 176-byte struct without gaps or overlaps', () => {
  for (const fields of [FIELDS_V1, FIELDS_V2]) {
    let off = 0;
    for (const f of fields) {
      expect(f.offset, f.name).toBe(off);
      off += f.size;
    }
    expect(off).toBe(176);
  }
  const s = v2Stream();
  expect(readField(s, fieldByName(s, 'acc_magic')!)).toBe(ACC_DEV_MAGIC_V2);
  expect(Buffer.from(s.subarray(0, 8)).toString('hex')).toBe('dedecadeedfeccaa');
});

test('mutations apply, attribute to a field and round-trip through JSON', () => {
  const s = v2Stream();
  const flip: Mutation = { op: 'flip', offset: 13, bit: 3 };
  expect(applyMutation(s, flip)[13]).toBe(s[13] ^ 8);
  expect(mutatedField(s, flip)).toBe('dev_id');
  const set: Mutation = { op: 'set', field: 'eqe_dma', value: 0xdeadbeefcafef00dn };
  expect(Buffer.from(applyMutation(s, set).subarray(144, 152)).readBigUInt64LE()).toBe(0xdeadbeefcafef00dn);
  expect(applyMutation(s, { op: 'truncate', length: 40 }).length).toBe(40);
  expect(applyMutation(s, { op: 'extend', bytes: [1, 2] }).length).toBe(178);
  expect(mutatedField(s, { op: 'truncate', length: 3 })).toBe('length');
  expect(mutationFromJson(JSON.parse(JSON.stringify(mutationToJson(set))))).toEqual(set);
  expect(s.length).toBe(176); // the source stream is never changed in place
});

// docs/reference.md#match-check-order-and-errnos
test('must-refuse oracle follows the match check per revision family', () => {
  const s = v2Stream();
  const old = acceptanceRuleFor('hisi-acc/v6.8')!, neu = acceptanceRuleFor('hisi-acc/v6.16')!, deb = acceptanceRuleFor('hisi-acc/debian-6.1.192')!;
  expect(mustRefuse(old, s, DEFAULT_DEVICE)).toMatch(/acc_magic/); // V2 unknown before v6.16
  expect(mustRefuse(neu, s, DEFAULT_DEVICE)).toBeNull();
  expect(mustRefuse(deb, s, DEFAULT_DEVICE)).toBeNull();
  expect(mustRefuse(neu, applyMutation(s, { op: 'set', field: 'major_ver', value: 2n }), DEFAULT_DEVICE)).toMatch(/major/);
  expect(mustRefuse(neu, applyMutation(s, { op: 'set', field: 'minor_ver', value: 9n }), DEFAULT_DEVICE)).toBeNull();
  expect(mustRefuse(neu, s, { ...DEFAULT_DEVICE, type: 'ZIP' })).toMatch(/dev_id/);
  expect(mustRefuse(neu, s, { ...DEFAULT_DEVICE, qpNum: 5 })).toMatch(/qp_num/);
  expect(mustRefuse(neu, s, { ...DEFAULT_DEVICE, queIsoCfg: 1 })).toMatch(/que_iso_cfg/);
  expect(mustRefuse(neu, s, { ...DEFAULT_DEVICE, qpBase: 99 })).toBeNull(); // qp_base is never compared (docs/reference.md#no-guest-driver-what-the-source-saves)
  expect(mustRefuse(neu, s.slice(0, 40), DEFAULT_DEVICE)).toBeNull();
  expect(mustRefuse(neu, s.slice(0, 100), DEFAULT_DEVICE)).toMatch(/length/);
  const v1 = applyMutation(s, { op: 'set', field: 'acc_magic', value: ACC_DEV_MAGIC_V1 });
  expect(mustRefuse(old, v1, DEFAULT_DEVICE)).toBeNull();
  expect(acceptanceRuleFor('hisi-acc/my-proposal')).toBeNull();
});

// docs/reference.md#resolved-paths
test('the uAPI text resolves the core\'s paths from the arc list alone', () => {
  const path = (a: MigState, b: MigState, f: number) => {
    const r = textPath(a, b, f);
    return r.ok ? r.path.join('>') + (r.opensFd ? ' +fd' : '') : 'EINVAL';
  };
  for (const f of [0x1, 0x5]) {
    expect(path('RUNNING', 'STOP_COPY', f)).toBe('RUNNING>STOP>STOP_COPY +fd');
    expect(path('RUNNING', 'RESUMING', f)).toBe('RUNNING>STOP>RESUMING +fd');
    expect(path('RESUMING', 'RUNNING', f)).toBe('RESUMING>STOP>RUNNING');
    expect(path('STOP_COPY', 'RESUMING', f)).toBe('STOP_COPY>STOP>RESUMING +fd');
    expect(path('RUNNING', 'ERROR', f)).toBe('EINVAL');
    expect(path('RUNNING', 'RUNNING_P2P', f)).toBe('EINVAL');
  }
  expect(path('RUNNING', 'PRE_COPY', 0x1)).toBe('EINVAL');
  expect(path('RUNNING', 'PRE_COPY', 0x5)).toBe('RUNNING>PRE_COPY +fd');
  expect(path('STOP', 'PRE_COPY', 0x5)).toBe('STOP>RUNNING>PRE_COPY +fd');
  expect(path('RESUMING', 'PRE_COPY', 0x5)).toBe('RESUMING>STOP>RUNNING>PRE_COPY +fd');
  expect(path('PRE_COPY', 'STOP_COPY', 0x5)).toBe('PRE_COPY>STOP_COPY');
  expect(path('PRE_COPY', 'STOP', 0x5)).toBe('PRE_COPY>RUNNING>STOP');
  expect(path('STOP_COPY', 'PRE_COPY', 0x5)).toBe('EINVAL');
});

test('the findings registry loads and sorts violations into known and new', () => {
  const reg = loadRegistry();
  expect(reg.map((f) => f.id)).toContain('offset-blind-resume-write');
  const l = new FindingsLedger(reg);
  expect(l.add({ property: 'transfer', kind: 'chunking-changes-verdict', revision: 'hisi-acc/v6.2', detail: '', minimal: {} })?.id).toBe('offset-blind-resume-write');
  expect(l.add({ property: 'transfer', kind: 'chunking-changes-verdict', revision: 'hisi-acc/v6.8', detail: '', minimal: {} })).toBeUndefined();
  expect(l.summary().new).toHaveLength(1);
});

/** A stand-in destination with a planted defect: it never compares que_iso_cfg. */
function plantedTarget(): FuzzTarget {
  const check = (dst: string, s: Uint8Array, chunks: readonly number[] | null, d: DeviceConfig): StreamCheck => {
    const rule = acceptanceRuleFor(dst)!;
    const probe = s.slice();
    if (probe.length >= 20) writeField(probe, fieldByName(probe, 'que_iso_cfg')!, BigInt(d.queIsoCfg)); // the defect
    const why = mustRefuse(rule, probe, d);
    return why ? { outcome: 'refused', errno: 'EINVAL', stage: 'write', reason: why } : { outcome: 'migrated', errno: null, stage: null, reason: 'ok' };
  };
  return { revisions: ['hisi-acc/v6.16'], traitsOf: () => undefined, save: () => v2Stream(), check };
}

test('stream property catches a planted unchecked field, shrinks it and fills the sensitivity report', () => {
  const table = new SensitivityTable();
  const r = streamProperty(plantedTarget(), { seed: 42, numRuns: 2000 }, new FindingsLedger([]), table);
  expect(r.failed).toBe(true);
  expect(r.violation?.kind).toBe('checked-field-not-refused');
  expect(r.violation?.detail).toMatch(/que_iso_cfg/);
  expect(r.report).toMatch(/seed: 42, path: "/);
  const cell = table.revisions['hisi-acc/v6.16'];
  expect(cell['dev_id'].checked).toBe(true);
  expect(cell['dev_id'].counts.migrated).toBe(0);
  // unchecked body fields are measured too, and this destination lets them through (no guest here: `accepted`)
  expect(Object.values(cell).some((c) => !c.checked && c.counts.accepted > 0)).toBe(true);
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
  const files = writeSensitivity(dir, table.toReport(42));
  expect(JSON.parse(readFileSync(files[0], 'utf8')).revisions['hisi-acc/v6.16'].dev_id.checked).toBe(true);
  expect(readFileSync(files[1], 'utf8')).toContain('| dev_id | ✓ |');
  expect(readFileSync(files[2], 'utf8')).toContain('<h2>hisi-acc/v6.16</h2>');
});

test('transfer property fails on a destination whose verdict depends on chunking', () => {
  const t = plantedTarget();
  const inner = t.check;
  t.check = (dst, s, chunks, d) => (chunks && chunks[0] < 8 ? { outcome: 'refused', errno: 'EFAULT', stage: 'write', reason: 'offset-blind' } : inner(dst, s, chunks, d));
  const r = transferProperty(t, { seed: 3, numRuns: 300 }, new FindingsLedger([]));
  expect(r.failed).toBe(true);
  expect(r.violation?.minimal).toMatchObject({ chunks: [1, 175] }); // shrunk to the smallest first chunk
  expect(chunksOf(176, [40])).toEqual([40, 136]);
});
