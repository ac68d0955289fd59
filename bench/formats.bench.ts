// Stream format throughput on one core: full decodes (the engine's path), encodes, decodes with the
// byte->field map (the CLI's path), lint; then peak memory. Target: >= 100,000 full decodes/s.
import { measure, peakRssMiB, report } from './util.ts';
import {
  ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2, decode, decodeAccVfData, emptyAccVfData, encodeAccVfData, lint, parsersOrigin, type AccVfData,
} from '../harness/formats/index.ts';
import { listRevisions } from '../harness/drivers/registry.ts';

function sample(magic: bigint): AccVfData {
  const d = emptyAccVfData();
  Object.assign(d, {
    accMagic: magic, qpNum: 4, devId: 0xa256, queIsoCfg: 1, qpBase: 32, qmRsvState: magic === ACC_DEV_MAGIC_V2 ? [1, 0, 0] : [0, 0, 0],
    pageSize: 0x1000, qmEqcDw: [0x00110007, 0xfe000000, 0x12, 0x2000, 0, 0, 0x107ff], qmAeqcDw: [0x00030002, 0xfd800000, 0x12, 0, 0, 0, 0x103ff],
    eqeDma: 0x00000012fe000000n, aeqeDma: 0x00000012fd800000n, sqcDma: 0x00000012fc000000n, cqcDma: 0x00000012fb000000n,
  });
  return d;
}

const profiles = listRevisions().filter((r) => r.traits).map((r) => ({ id: r.id, traits: r.traits! }));
const v1 = sample(ACC_DEV_MAGIC_V1);
const v2 = sample(ACC_DEV_MAGIC_V2);
const fullV2 = encodeAccVfData(v2, 176);
const fullV1 = encodeAccVfData(v1, 176);
const header = encodeAccVfData(v2, 40);
process.stdout.write(`parsers: ${parsersOrigin()} (generated = current build, memory = compiled on load)\n`);

let sink = 0;
measure('decode full V2 (no field map)', () => { sink += decodeAccVfData(fullV2).length; }, { unit: 'streams/s', target: '>= 100,000' });
measure('decode full V1 (no field map)', () => { sink += decodeAccVfData(fullV1).length; }, { unit: 'streams/s' });
measure('decode match-only (40 bytes)', () => { sink += decodeAccVfData(header).length; }, { unit: 'streams/s' });
measure('encode full V2', () => { sink += encodeAccVfData(v2, 176).length; }, { unit: 'streams/s' });
measure('encode full V1', () => { sink += encodeAccVfData(v1, 176).length; }, { unit: 'streams/s' });
measure('encode+decode (one simulated case)', () => { sink += decodeAccVfData(encodeAccVfData(v2, 176)).length; }, { unit: 'cases/s', target: '>= 1,000' });
measure('decode full with field map', () => { sink += decode(fullV2, { fieldMap: true }).fieldMap!.spans.length; }, { unit: 'streams/s', seconds: 1 });
measure('lint full', () => { sink += lint(fullV2, profiles).findings.length; }, { unit: 'streams/s', seconds: 1 });
if (sink === 0) process.stdout.write('(unreachable)\n');
report('peak memory (RSS)', peakRssMiB(), 'MiB');
