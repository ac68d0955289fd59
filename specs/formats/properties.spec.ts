// fast-check properties with fixed seeds: round trips both ways, and any byte string decodes (or
// fails with a structured problem) without throwing or hanging.
import { test, expect } from '@playwright/test';
import fc from 'fast-check';
import {
  ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2, decode, decodeAccVfData, encodeAccVfData, encodeFieldSet, fieldAt, lint, diff,
  decodeVfioDeviceState, type AccVfData,
} from '../../harness/formats/index.ts';

const SEED = 20261122;
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
      expect(d.length).toBe(length);
      expect(d.layout).toBe(accMagic === ACC_DEV_MAGIC_V1 ? 'v1' : accMagic === ACC_DEV_MAGIC_V2 ? 'v2' : 'unknown');
      expect(d.ok).toBe(d.layout !== 'unknown');
      expect(d.header).toEqual({ accMagic, qpNum, devId, queIsoCfg, qpBase, vfQmState, qmRsvState });
      if (length === 176) expect(d.body).toEqual(body);
      else expect(d.body).toBeUndefined();
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
      expect(Buffer.from(encodeAccVfData(data, b.length as 40 | 176)).equals(Buffer.from(b))).toBe(true);
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
      expect(d.length).toBe(b.length);
      expect(d.raw).toBe(b);
      const valid = (b.length === 40 || b.length === 176) && d.layout !== 'unknown';
      expect(d.ok).toBe(valid);
      if (!valid) expect(d.problem).toMatch(/invalid length|unknown magic/);
      // every byte of the input has a field name
      for (let i = 0; i < b.length; i++) expect(fieldAt(d.fieldMap!, i)).toBeDefined();
      const r = lint(b);
      expect(r.ok).toBe(!r.findings.some((f) => f.severity === 'error'));
      if (!valid) expect(r.ok).toBe(false);
      expect(diff(b, b).same).toBe(true);
      // the QEMU payload parser must not throw on arbitrary input either
      const q = decodeVfioDeviceState(b);
      expect(q.consumed + q.trailing).toBe(b.length);
    }),
    { seed: SEED, numRuns: 400 },
  );
});

test('field-set encoding (what the encode command uses) round-trips through decode', () => {
  fc.assert(
    fc.property(fc.constantFrom(ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2), u32, words(7), u64, fc.constantFrom(40, 176), (m, qp, eqc, dma, length) => {
      const b = encodeFieldSet({ acc_magic: '0x' + m.toString(16), qp_num: qp, qm_eqc_dw: eqc, eqe_dma: '0x' + dma.toString(16), length });
      const d = decodeAccVfData(b);
      expect(b.length).toBe(length);
      expect(d.header!.accMagic).toBe(m);
      expect(d.header!.qpNum).toBe(qp);
      expect(d.majorVer).toBe(m === ACC_DEV_MAGIC_V2 ? 1 : undefined);
      if (length === 176) {
        expect(d.body!.qmEqcDw).toEqual(eqc);
        expect(d.body!.eqeDma).toBe(dma);
      }
    }),
    { seed: SEED, numRuns: 300 },
  );
});
