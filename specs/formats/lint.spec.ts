// lint findings and provenance, and diff, on streams built from the golden vectors.
import { test, expect } from '@playwright/test';
import { diff, lint, type LintReport } from '../../harness/formats/index.ts';
import { goldenV1Full, goldenV2Full, le32, le64, matchOnly } from './vectors.ts';

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
  expect(r.findings.map((f) => f.code)).toContain('dma-fixed-v1');
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
