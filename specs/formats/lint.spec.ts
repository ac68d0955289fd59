// lint findings, acceptance and provenance, and diff, on streams built from the golden vectors.
// lint reasons over the revision profiles it is given: the released ones and the 2024 proposal here
// (a fixed set, so a profile added to the repository does not move these expectations), and the
// last tests show that another profile changes what it says.
import { test, expect } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diff, lint as lintWith, type LintReport, type StreamProfile } from '../../harness/formats/index.ts';
import { loadRevision, profiledRevisions, registerRevision, unregisterRevision, modelRevision } from '../../harness/drivers/registry.ts';
import { goldenV1Full, goldenV2Full, le32, le64, matchOnly } from './vectors.ts';

const RELEASED = ['v5.18', 'v6.2', 'v6.8', 'v6.16', 'v6.19', 'v7.0', 'debian-6.1.192', 'debian-6.12.118'].map((v) => `hisi-acc/${v}`);
const PROFILES: StreamProfile[] = profiledRevisions([...RELEASED, 'hisi-acc/proposal-2024']);
const lint = (b: Uint8Array) => lintWith(b, PROFILES);

const R0_R2 = ['hisi-acc/v5.18', 'hisi-acc/v6.2', 'hisi-acc/v6.8'];
const V2_WRITERS = ['hisi-acc/v6.16', 'hisi-acc/v6.19', 'hisi-acc/v7.0', 'hisi-acc/debian-6.1.192', 'hisi-acc/debian-6.12.118'];
const codes = (r: LintReport) => r.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity}:${f.code}`).sort();

test('provenance: V1 with buggy composition came from v5.18..v6.15 sources', () => {
  const r = lint(goldenV1Full().bytes);
  expect(r.ok).toBe(true);
  expect(codes(r)).toEqual([]);
  expect(r.provenance.revisions).toEqual(R0_R2);
});

test('provenance: V2 1.0 with fixed composition came from v6.16+ or Debian 6.1.192 / 6.12.118', () => {
  const r = lint(goldenV2Full().bytes);
  expect(r.ok).toBe(true);
  expect(codes(r)).toEqual([]);
  expect(r.provenance.revisions).toEqual(V2_WRITERS);
});

test('provenance: V1 with the fixed composition is no real source (repaired or hand-crafted)', () => {
  const b = goldenV1Full().bytes;
  le64(b, 144, 0x00000012fe000000n); // EQC dw2:dw1
  le64(b, 152, 0x00000012fd800000n);
  const r = lint(b);
  expect(r.provenance.revisions).toEqual([]);
  expect(r.provenance.reason).toMatch(/repaired|hand-crafted/);
  expect(r.findings.find((f) => f.code === 'dma-unwritten-composition')?.message).toMatch(/no source of this magic \(v5\.18, v6\.2, v6\.8\)/);
});

test('acceptance comes from the profiles: V1 is refused by the 2024 proposal, V2 by v5.18..v6.8', () => {
  const v1 = lint(goldenV1Full().bytes);
  expect(v1.acceptance).toEqual({
    accepted: RELEASED, recompute: ['hisi-acc/v6.16', 'hisi-acc/v6.19', 'hisi-acc/v7.0', 'hisi-acc/debian-6.1.192', 'hisi-acc/debian-6.12.118'],
    refused: [{ id: 'hisi-acc/proposal-2024', why: 'magic' }],
  });
  const m1 = v1.findings.find((f) => f.code === 'magic-v1')!.message;
  expect(m1).toBe('V1 magic: accepted by v5.18, v6.2, v6.8, v6.16, v6.19, v7.0, debian-6.1.192, debian-6.12.118; refused by proposal-2024; v6.16, v6.19, v7.0, debian-6.1.192, debian-6.12.118 recompute eqe_dma/aeqe_dma');
  expect(m1).not.toMatch(/every revision/);
  const v2 = lint(goldenV2Full().bytes);
  expect(v2.findings.find((f) => f.code === 'magic-v2')!.message).toBe(
    'V2 magic: accepted by v6.16, v6.19, v7.0, debian-6.1.192, debian-6.12.118; refused by v5.18, v6.2, v6.8, proposal-2024');
  // with only the released profiles, V1 is accepted everywhere
  expect(lintWith(goldenV1Full().bytes, profiledRevisions(RELEASED)).findings.find((f) => f.code === 'magic-v1')!.message)
    .toMatch(/^V1 magic: accepted by every revision \(v5\.18, .*debian-6\.1\.192, debian-6\.12\.118\)/);
});

test("a proposal's own stream is accepted by the proposal and written by it; its version byte is checked", () => {
  const p = goldenV2Full().bytes;
  le64(p, 0, 0xaccde0feedcafe01n);
  le32(p, 28, 0); // no V2 version fields in a proposal header (its contexts and fixed eqe_dma stay)
  const r = lint(p);
  expect(r.acceptance!.accepted).toEqual(['hisi-acc/proposal-2024']);
  expect(r.findings.find((f) => f.code === 'magic-other')!.message).toMatch(/^0xaccde0feedcafe01 magic: accepted by proposal-2024; refused by v5\.18/);
  expect(r.provenance.revisions).toEqual(['hisi-acc/proposal-2024']);
  expect(r.ok).toBe(true);
  p[0] = 0x02; // version byte 2: newer than the proposal accepts
  const newer = lint(p);
  expect(newer.findings.find((f) => f.severity === 'error')).toMatchObject({ code: 'version-refused', field: 'acc_magic' });
  expect(newer.acceptance!.refused.find((x) => x.id === 'hisi-acc/proposal-2024')!.why).toBe('version byte 2');
});

test('a new profile changes what lint says: registered at run time, or loaded from a YAML path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migcompat-lint-'));
  const yaml = join(dir, 'v2-only.yaml');
  writeFileSync(yaml, [
    'id: hisi-acc/test-v2-only', 'title: a destination that drops V1', 'kernel: test', 'extends: hisi-acc/v7.0',
    'traits:', '  accept:', '    - { magic: V2, major: [1, 2] }', '  nullDmaGuard: false', '',
  ].join('\n'));
  const fromYaml = loadRevision(yaml);
  try {
    const withIt = lintWith(goldenV1Full().bytes, [...PROFILES, { id: fromYaml.id, traits: fromYaml.traits! }]);
    expect(withIt.findings.find((f) => f.code === 'magic-v1')!.message).toMatch(/refused by proposal-2024, test-v2-only;/);
    // major_ver 2 was an error (every V2 destination refuses it); the new profile accepts it
    const major2 = goldenV2Full().bytes;
    major2[28] = 2;
    expect(lint(major2).findings.find((f) => f.code === 'v2-major')?.severity).toBe('error');
    const r2 = lintWith(major2, [...PROFILES, { id: fromYaml.id, traits: fromYaml.traits! }]);
    expect(r2.findings.some((f) => f.code === 'v2-major')).toBe(false);
    expect(r2.acceptance!.accepted).toEqual(['hisi-acc/test-v2-only']);
    // NULL-guard statements follow the accepting profiles
    const zero = goldenV2Full().bytes;
    le64(zero, 160, 0n);
    expect(lintWith(zero, [...PROFILES, { id: fromYaml.id, traits: fromYaml.traits! }]).findings.find((f) => f.code === 'dma-zero')!.message)
      .toBe('sqc_dma is zero: v6.16, v6.19, v7.0, debian-6.1.192, debian-6.12.118 skip the restore (NULL guard); test-v2-only program it');
  } finally {
    unregisterRevision(fromYaml.id);
  }
  // a revision registered in code (e.g. a generated model) is a profile too
  const base = loadRevision('hisi-acc/v5.18');
  const reg = modelRevision({ id: 'hisi-acc/test-v1-recompute', title: 't', kernel: 't', file: 'test' },
    { ...base.traits!, accept: [{ magic: base.traits!.write.magic, recomputeDma: true }] });
  registerRevision(reg);
  try {
    const r = lintWith(goldenV1Full().bytes, profiledRevisions(['hisi-acc/v5.18', reg.id]));
    expect(r.findings.find((f) => f.code === 'magic-v1')!.message).toBe('V1 magic: accepted by every revision (v5.18, test-v1-recompute); test-v1-recompute recompute eqe_dma/aeqe_dma');
    expect(r.findings.find((f) => f.code === 'dma-buggy')).toMatchObject({ severity: 'info' });
    // v5.18 alone keeps the buggy composition: nothing repairs it, events go to the wrong address
    expect(lintWith(goldenV1Full().bytes, profiledRevisions(['hisi-acc/v5.18'])).findings.find((f) => f.code === 'dma-buggy'))
      .toMatchObject({ severity: 'error', message: expect.stringMatching(/v5\.18 keep it, so events go to the wrong address$/) });
  } finally {
    unregisterRevision(reg.id);
  }
});

test('provenance: match-only headers, PRE_COPY part versus driver-not-ready', () => {
  // QM_NOT_READY: any revision of that magic family stops after the header
  expect(lint(matchOnly(goldenV1Full(), 1).bytes).provenance.revisions).toEqual(R0_R2);
  expect(lint(matchOnly(goldenV2Full(), 1).bytes).provenance.revisions).toEqual(V2_WRITERS);
  // QM_READY in a 40-byte stream is the PRE_COPY part: v5.18 and Debian 6.1.192 have no PRE_COPY
  expect(lint(matchOnly(goldenV1Full(), 0).bytes).provenance.revisions).toEqual(['hisi-acc/v6.2', 'hisi-acc/v6.8']);
  expect(lint(matchOnly(goldenV2Full(), 0).bytes).provenance.revisions).toEqual(['hisi-acc/v6.16', 'hisi-acc/v6.19', 'hisi-acc/v7.0', 'hisi-acc/debian-6.12.118']);
});

test('errors: invalid length, unknown magic, V2 major, queue count 0, head/tail beyond depth', () => {
  const long = new Uint8Array(177);
  long.set(goldenV2Full().bytes);
  expect(codes(lint(long))).toContain('error:invalid-length');
  expect(lint(long).ok).toBe(false);

  const magic = goldenV2Full().bytes;
  magic[0] ^= 1;
  expect(codes(lint(magic))).toContain('error:unknown-magic');
  expect(lint(magic).provenance.revisions).toEqual([]);

  const major = goldenV2Full().bytes;
  major[28] = 2;
  const rm = lint(major);
  expect(codes(rm)).toEqual(['error:v2-major']);
  expect(rm.findings.find((f) => f.code === 'v2-major')).toMatchObject({ field: 'major_ver', offset: 28 });

  const minor = goldenV2Full().bytes;
  minor[30] = 1;
  expect(codes(lint(minor))).toEqual(['warning:v2-minor']);

  const qp = goldenV1Full().bytes;
  le32(qp, 8, 0);
  expect(codes(lint(qp))).toEqual(['error:qp-num-zero']);

  const head = goldenV2Full().bytes;
  le32(head, 64 + 24, 0x00010007); // EQ depth 8
  le32(head, 64, 0x00030008); // head 8, tail 3
  expect(codes(lint(head))).toEqual(['error:eq-head-range']);
  const tail = goldenV2Full().bytes;
  le32(tail, 92 + 24, 0x00010003); // AEQ depth 4
  le32(tail, 92, 0x00040000); // head 0, tail 4
  expect(codes(lint(tail))).toEqual(['error:aeq-tail-range']);
});

test('warnings: reserved words, padding, zero DMA addresses, addresses matching neither composition', () => {
  const rsv = goldenV1Full().bytes;
  le32(rsv, 36, 5);
  le32(rsv, 124, 1);
  le32(rsv, 140, 9);
  expect(codes(lint(rsv))).toEqual(['warning:padding-nonzero', 'warning:reserved-nonzero', 'warning:reserved-nonzero']);

  const zero = goldenV2Full().bytes;
  le64(zero, 160, 0n);
  le64(zero, 168, 0n);
  const rz = lint(zero);
  expect(rz.findings.filter((f) => f.code === 'dma-zero').map((f) => f.field)).toEqual(['sqc_dma', 'cqc_dma']);
  expect(rz.ok).toBe(true);

  const neither = goldenV1Full().bytes;
  le64(neither, 144, 0x1234n);
  expect(codes(lint(neither))).toEqual(['warning:dma-inconsistent']);
  expect(lint(neither).provenance.revisions).toEqual([]);

  // V2 destinations trust eqe_dma: a buggy composition under V2 is an error
  const v2buggy = goldenV2Full().bytes;
  le64(v2buggy, 144, 0xabcd000000090004n);
  expect(codes(lint(v2buggy))).toEqual(['error:dma-buggy']);
});

test('diff: field-level changes with offsets, old and new values', () => {
  const a = goldenV1Full().bytes;
  const b = a.slice();
  le32(b, 8, 6);
  le64(b, 160, 0xfffffffffffffff0n);
  const d = diff(a, b);
  expect(d.same).toBe(false);
  expect(d.changes).toEqual([
    { path: 'header.qp_num', offset: 8, size: 4, old: '0x00000004', new: '0x00000006' },
    { path: 'body.sqc_dma', offset: 160, size: 8, old: '0x00000012fc000000', new: '0xfffffffffffffff0' },
  ]);
  expect(diff(a, a.slice()).same).toBe(true);

  // match-only against full: every body field exists only in B
  const m = diff(a.slice(0, 40), a);
  expect(m.changes.length).toBe(30); // 6 registers, 7+7 context dwords, 5 reserved, padding, 4 addresses
  expect(m.changes.every((c) => c.old === undefined && c.offset >= 40)).toBe(true);

  // V1 against V2 labels: bytes 28..31 are one word in A and major/minor in B
  const v = diff(goldenV1Full().bytes, goldenV2Full().bytes);
  expect(v.layout).toEqual({ a: 'v1', b: 'v2' });
  expect(v.changes.find((c) => c.offset === 28 && c.size === 2)).toMatchObject({ path: 'header.rsv.major_ver', new: '0x0001' });
  expect(v.changes.find((c) => c.offset === 32)).toBeUndefined(); // same bytes under two names
});
