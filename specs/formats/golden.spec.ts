// Golden vectors from the layout table of docs/reference.md#stream-layout: every field decoded at its offset, exact
// 64-bit values, the byte->field map naming every byte as the table does, and encode reproducing
// the hand-built bytes.
import { test, expect } from '@playwright/test';
import { decode, encodeAccVfData, decodeAccVfData, fieldAt, type AccVfData } from '../../harness/formats/index.ts';
import { goldenV1Full, goldenV2Full, matchOnly, TABLE_V1, TABLE_V2 } from './vectors.ts';

function readLE(b: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

const cases = [
  { name: 'V1 full', g: goldenV1Full(), table: TABLE_V1, layout: 'v1' },
  { name: 'V2 full', g: goldenV2Full(), table: TABLE_V2, layout: 'v2' },
  { name: 'V1 match-only', g: matchOnly(goldenV1Full()), table: TABLE_V1.filter(([o]) => o < 40), layout: 'v1' },
  { name: 'V2 match-only', g: matchOnly(goldenV2Full()), table: TABLE_V2.filter(([o]) => o < 40), layout: 'v2' },
] as const;

for (const c of cases) {
  test(`golden ${c.name}: each field at its table offset`, () => {
    const d = decode(c.g.bytes, { fieldMap: true });
    expect(d.ok).toBe(true);
    expect(d.layout).toBe(c.layout);
    expect(d.length).toBe(c.g.bytes.length);
    const spans = d.fieldMap!.spans;
    // same fields, same order, same offsets and sizes as the layout table
    expect(spans.map((s) => [s.offset, s.size, s.path])).toEqual(c.table.map((r) => [...r]));
    for (const [off, size, path] of c.table) {
      const s = fieldAt(d.fieldMap!, off)!;
      expect(s.path).toBe(path);
      const v = typeof s.value === 'bigint' ? s.value : BigInt(s.value as number);
      expect(v, `${path} @${off}`).toBe(readLE(c.g.bytes, off, size));
    }
    // every byte has a name
    for (let i = 0; i < c.g.bytes.length; i++) expect(fieldAt(d.fieldMap!, i), `byte ${i}`).toBeDefined();
  });

  test(`golden ${c.name}: typed decode and encode agree with the hand-built bytes`, () => {
    const d = decodeAccVfData(c.g.bytes);
    const data: AccVfData = c.g.data;
    expect(d.header).toEqual({
      accMagic: data.accMagic, qpNum: data.qpNum, devId: data.devId, queIsoCfg: data.queIsoCfg,
      qpBase: data.qpBase, vfQmState: data.vfQmState, qmRsvState: data.qmRsvState,
    });
    const full = c.g.bytes.length === 176;
    expect(d.body !== undefined).toBe(full);
    if (full) {
      const { accMagic, qpNum, devId, queIsoCfg, qpBase, vfQmState, qmRsvState, ...body } = data;
      expect(d.body).toEqual(body);
    }
    expect(Buffer.from(encodeAccVfData(data, full ? 176 : 40)).toString('hex')).toBe(Buffer.from(c.g.bytes).toString('hex'));
  });
}

test('magic and DMA addresses come out exact (no double rounding)', () => {
  const v2 = decodeAccVfData(goldenV2Full().bytes);
  expect(v2.header!.accMagic).toBe(0xaaccfeeddecadeden);
  expect(v2.body!.eqeDma).toBe(0x80000001abcd0000n);
  // one below the V2 magic is not V2 (a double compare would say it is)
  const b = goldenV2Full().bytes;
  b[0] -= 1;
  const off = decodeAccVfData(b);
  expect(off.layout).toBe('unknown');
  expect(off.header!.accMagic).toBe(0xaaccfeeddecadeddn);
  const v1 = decodeAccVfData(goldenV1Full().bytes);
  expect(v1.header!.accMagic).toBe(0xcdcdcdcdfeedaaccn);
});

test('derived values: heads, tails, depths, phases and both base compositions', () => {
  const v1 = decodeAccVfData(goldenV1Full().bytes).derived!;
  expect(v1).toMatchObject({ eqHead: 7, eqTail: 0x11, eqDepth: 2048, eqPhase: 1, aeqHead: 2, aeqTail: 3, aeqDepth: 1024, aeqPhase: 1 });
  expect(v1.eqBaseFixed).toBe(0x00000012fe000000n);
  expect(v1.eqBaseBuggy).toBe(0xfe00000000110007n);
  expect(v1.aeqBaseFixed).toBe(0x00000012fd800000n);
  expect(v1.eqeDmaComposition).toBe('buggy');
  expect(v1.aeqeDmaComposition).toBe('buggy');
  const v2 = decodeAccVfData(goldenV2Full().bytes);
  expect(v2.majorVer).toBe(1);
  expect(v2.minorVer).toBe(0);
  expect(v2.derived!.eqeDmaComposition).toBe('fixed');
  expect(v2.derived!.eqBaseBuggy).toBe(0xabcd000000090004n);
});

test('invalid lengths and unknown magic decode into a result that says so, with the raw bytes', () => {
  const full = goldenV1Full().bytes;
  for (const n of [0, 1, 39]) {
    const d = decodeAccVfData(full.slice(0, n));
    expect(d).toMatchObject({ ok: false, length: n, problemCode: 'truncated' });
    expect(d.problem).toContain('invalid length');
    expect(d.raw.length).toBe(n);
    expect(d.header).toBeUndefined();
  }
  for (const n of [41, 100, 175, 177, 300]) {
    const b = new Uint8Array(n);
    b.set(full.subarray(0, Math.min(n, 176)));
    const d = decodeAccVfData(b);
    expect(d).toMatchObject({ ok: false, length: n, problemCode: 'length', layout: 'v1' });
    expect(d.header!.qpNum).toBe(4);
    expect(d.body !== undefined).toBe(n >= 176);
  }
  const bad = full.slice();
  bad[7] = 0;
  const d = decodeAccVfData(bad);
  expect(d).toMatchObject({ ok: false, layout: 'unknown', problemCode: 'magic' });
  expect(d.problem).toContain('unknown magic 0x00cdcdcdfeedaacc');
  expect(d.header!.qmRsvState).toEqual([0, 0, 0]);
});

test('field map of a malformed stream still names every byte', () => {
  const full = goldenV2Full().bytes;
  const long = new Uint8Array(200);
  long.set(full);
  const m = decode(long, { fieldMap: true }).fieldMap!;
  expect(fieldAt(m, 180)!.path).toBe('excess');
  for (let i = 0; i < 200; i++) expect(fieldAt(m, i), `byte ${i}`).toBeDefined();
  const short = decode(full.slice(0, 31), { fieldMap: true }).fieldMap!;
  expect(fieldAt(short, 29)!).toMatchObject({ path: 'header.rsv.major_ver', size: 2, value: 1 });
  expect(fieldAt(short, 29)!.truncated).toBeUndefined();
  expect(fieldAt(short, 30)!).toMatchObject({ path: 'header.rsv.minor_ver', truncated: true, size: 1, value: undefined });
  expect(short.spans.at(-1)!.offset + short.spans.at(-1)!.size).toBe(31);
});
