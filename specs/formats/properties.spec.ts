// fast-check properties with fixed seeds: round trips both ways, and any byte string decodes (or
// fails with a structured problem) without throwing or hanging. Inside properties node:assert is
// used (Playwright's expect records a stack per call, far too slow for thousands of checks).
import { test } from '@playwright/test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2, decode, decodeAccVfData, encodeAccVfData, encodeFieldSet, fieldAt, lint, diff,
  decodeVfioDeviceState, type AccVfData,
} from '../../harness/formats/index.ts';
import { listRevisions } from '../../harness/drivers/registry.ts';

const SEED = 20261122;
const profiles = listRevisions().filter((r) => r.traits).map((r) => ({ id: r.id, traits: r.traits! }));
const u32 = fc.nat({ max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const magic = fc.oneof(fc.constant(ACC_DEV_MAGIC_V1), fc.constant(ACC_DEV_MAGIC_V2), u64);
const words = (n: number) => fc.array(u32, { minLength: n, maxLength: n });

const accVfData: fc.Arbitrary<AccVfData> = fc.record({
  accMagic: magic, qpNum: u32, devId: u32, queIsoCfg: u32, qpBase: u32, vfQmState: u32,
  qmRsvState: words(3) as unknown as fc.Arbitrary<[number, number, number]>,
  aeqIntMask: u32, eqIntMask: u32, ifcIntSource: u32, ifcIntMask: u32, ifcIntSet: u32, pageSize: u32,
  qmEqcDw: words(7), qmAeqcDw: words(7), qmRsvRegs: words(5), padding: u32,
  eqeDma: u64, aeqeDma: u64, sqcDma: u64, cqcDma: u64,
});

test('decode(encode(x)) = x for every field set, full and match-only', () => {
  fc.assert(
    fc.property(accVfData, fc.constantFrom(40 as const, 176 as const), (x, length) => {
      const d = decodeAccVfData(encodeAccVfData(x, length));
      const { accMagic, qpNum, devId, queIsoCfg, qpBase, vfQmState, qmRsvState, ...body } = x;
      assert.equal(d.length, length);
      assert.equal(d.layout, accMagic === ACC_DEV_MAGIC_V1 ? 'v1' : accMagic === ACC_DEV_MAGIC_V2 ? 'v2' : 'unknown');
      assert.equal(d.ok, d.layout !== 'unknown');
      assert.deepEqual(d.header, { accMagic, qpNum, devId, queIsoCfg, qpBase, vfQmState, qmRsvState });
      if (length === 176) assert.deepEqual(d.body, body);
      else assert.equal(d.body, undefined);
    }),
    { seed: SEED, numRuns: 500 },
  );
});

test('encode(decode(b)) = b for every valid stream', () => {
  const stream = fc.tuple(fc.constantFrom(40, 176), fc.constantFrom('v1', 'v2', 'any')).chain(([n, kind]) =>
    fc.uint8Array({ minLength: n, maxLength: n }).map((b) => {
      if (kind !== 'any') new DataView(b.buffer).setBigUint64(0, kind === 'v1' ? ACC_DEV_MAGIC_V1 : ACC_DEV_MAGIC_V2, true);
      return b;
    }),
  );
  fc.assert(
    fc.property(stream, (b) => {
      const d = decodeAccVfData(b);
      const data = { ...d.header!, ...(d.body ?? emptyBody()) } as AccVfData;
      assert.equal(Buffer.from(encodeAccVfData(data, b.length as 40 | 176)).toString('hex'), Buffer.from(b).toString('hex'));
    }),
    { seed: SEED, numRuns: 500 },
  );
});

function emptyBody() {
  return { aeqIntMask: 0, eqIntMask: 0, ifcIntSource: 0, ifcIntMask: 0, ifcIntSet: 0, pageSize: 0, qmEqcDw: [0, 0, 0, 0, 0, 0, 0], qmAeqcDw: [0, 0, 0, 0, 0, 0, 0], qmRsvRegs: [0, 0, 0, 0, 0], padding: 0, eqeDma: 0n, aeqeDma: 0n, sqcDma: 0n, cqcDma: 0n };
}

test('any byte string (empty, truncated, extended, random) decodes or fails with a structured problem', () => {
  const base = encodeAccVfData({ ...emptyBody(), accMagic: ACC_DEV_MAGIC_V2, qpNum: 1, devId: 0xa256, queIsoCfg: 0, qpBase: 0, vfQmState: 0, qmRsvState: [1, 0, 0] }, 176);
  const bytes = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 400 }),
    fc.nat({ max: 176 }).map((n) => base.slice(0, n)),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((x) => Uint8Array.from([...base, ...x])),
    fc.tuple(fc.nat({ max: 175 }), fc.nat({ max: 255 })).map(([i, v]) => {
      const b = base.slice();
      b[i] = v;
      return b;
    }),
  );
  fc.assert(
    fc.property(bytes, (b) => {
      const d = decode(b, { fieldMap: true });
      assert.equal(d.length, b.length);
      assert.equal(d.raw, b);
      const valid = (b.length === 40 || b.length === 176) && d.layout !== 'unknown';
      assert.equal(d.ok, valid);
      if (!valid) assert.match(d.problem ?? '', /invalid length|unknown magic/);
      // every byte of the input has a field name
      for (let i = 0; i < b.length; i++) assert.ok(fieldAt(d.fieldMap!, i), `byte ${i} has no field`);
      const r = lint(b, profiles);
      assert.equal(r.ok, !r.findings.some((f) => f.severity === 'error'));
      // a length no destination takes, or a header every loaded revision refuses, is an error
      if (b.length !== 40 && b.length !== 176) assert.equal(r.ok, false);
      if (!r.acceptance || r.acceptance.accepted.length === 0) assert.equal(r.ok, false);
      assert.equal(diff(b, b).same, true);
      // the QEMU payload parser must not throw on arbitrary input either
      const q = decodeVfioDeviceState(b);
      assert.equal(q.consumed + q.trailing, b.length);
    }),
    { seed: SEED, numRuns: 400 },
  );
});

test('field-set encoding (what the encode command uses) round-trips through decode', () => {
  fc.assert(
    fc.property(fc.constantFrom(ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2), u32, words(7), u64, fc.constantFrom(40, 176), (m, qp, eqc, dma, length) => {
      const b = encodeFieldSet({ acc_magic: '0x' + m.toString(16), qp_num: qp, qm_eqc_dw: eqc, eqe_dma: '0x' + dma.toString(16), length });
      const d = decodeAccVfData(b);
      assert.equal(b.length, length);
      assert.equal(d.header!.accMagic, m);
      assert.equal(d.header!.qpNum, qp);
      assert.equal(d.majorVer, m === ACC_DEV_MAGIC_V2 ? 1 : undefined);
      if (length === 176) {
        assert.deepEqual(d.body!.qmEqcDw, eqc);
        assert.equal(d.body!.eqeDma, dma);
      }
    }),
    { seed: SEED, numRuns: 300 },
  );
});
