// The mtty stream (formats/mtty_data.ksy): a vector written by hand from the layout in
// docs/kernel-guest.md#mttys-stream-and-what-a-destination-checks (independent of the .ksy), decode
// with a byte -> field map, lint findings for what a real mtty destination refuses or loads blindly,
// format detection, and the CLI commands.
// Real streams captured from the kernel are checked in the kernel project (specs/kernel).
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMtty, isMttyStream, lintMtty, MTTY_MAGIC, mttyStreamSize } from '../../harness/formats/mtty.ts';
import { detectFormat } from '../../harness/formats/detect.ts';

/** One port: LCR 0x03, scratch 0x5a, "ABC" waiting in the FIFO, FIFO on with trigger 14. */
function portBytes(scr = 0x5a): number[] {
  const regs = [0, 0x00, 0, 0x03, 0x08, 0, 0, scr];
  const fifo = [0x41, 0x42, 0x43, ...new Array(13).fill(0)];
  // head 3, tail 0, count 3, dlab 0, overrun 0, pad, divisor 12 (LE), fcr 0xc1, depth 16, trigger 14, pad
  return [...regs, ...fifo, 3, 0, 3, 0, 0, 0, 12, 0, 0xc1, 16, 14, 0];
}

function stream(ports: number, opts: { magic?: bigint; major?: number; flags?: number; nr?: number } = {}): Uint8Array {
  const h = new DataView(new ArrayBuffer(24));
  const magic = opts.magic ?? MTTY_MAGIC;
  h.setUint32(0, Number(magic & 0xffffffffn), true);
  h.setUint32(4, Number(magic >> 32n), true);
  h.setUint32(8, opts.major ?? 1, true);
  h.setUint32(12, 0, true);
  h.setUint32(16, opts.nr ?? ports, true);
  h.setUint32(20, opts.flags ?? 0, true);
  const body: number[] = [];
  for (let i = 0; i < ports; i++) body.push(...portBytes(0x5a + i));
  return Uint8Array.from([...new Uint8Array(h.buffer), ...body]);
}

test('a whole 1-port stream decodes with every field at its offset', () => {
  const b = stream(1);
  expect(b.length).toBe(60);
  expect(mttyStreamSize(2)).toBe(96);
  expect(isMttyStream(b)).toBe(true);
  expect(Array.from(b.subarray(0, 8))).toEqual([0x4e, 0x2c, 0x3e, 0x8c, 0x89, 0x09, 0x9d, 0x7e]);
  const d = decodeMtty(b, { fieldMap: true });
  expect(d.ok).toBe(true);
  expect(d.header).toEqual({ magic: MTTY_MAGIC, magicOk: true, majorVer: 1, minorVer: 0, nrPorts: 1, flags: 0 });
  expect(d.ports).toHaveLength(1);
  expect(d.ports[0]).toMatchObject({ lcr: 3, mcr: 8, scr: 0x5a, fifoHead: 3, fifoTail: 0, fifoCount: 3, divisor: 12, fcr: 0xc1, maxFifoSize: 16, intrTriggerLevel: 14, pending: [0x41, 0x42, 0x43] });
  const at = (path: string) => d.fieldMap!.spans.find((s) => s.path === path);
  expect(at('header.magic')).toMatchObject({ offset: 0, size: 8, value: MTTY_MAGIC });
  expect(at('header.nr_ports')).toMatchObject({ offset: 16, size: 4, value: 1 });
  expect(at('ports[0].scr')).toMatchObject({ offset: 31, size: 1, value: 0x5a });
  expect(at('ports[0].fifo')).toMatchObject({ offset: 32, size: 16 });
  expect(at('ports[0].fifo_count')).toMatchObject({ offset: 50, value: 3 });
  expect(at('ports[0].divisor')).toMatchObject({ offset: 54, size: 2, value: 12 });
  expect(at('ports[0].pad2')).toMatchObject({ offset: 59, size: 1 });
  // every byte has a name, once
  const covered = d.fieldMap!.spans.reduce((n, s) => n + s.size, 0);
  expect(covered).toBe(60);
  expect(lintMtty(b)).toMatchObject({ ok: true, layout: 'mtty-1', provenance: { revisions: ['mtty mtty-1'] } });
});

test('a 2-port stream and the PRE_COPY header alone', () => {
  const two = decodeMtty(stream(2));
  expect(two.ok).toBe(true);
  expect(two.ports.map((p) => p.scr)).toEqual([0x5a, 0x5b]);
  const head = stream(1).subarray(0, 24);
  const d = decodeMtty(head);
  expect(d).toMatchObject({ ok: false, problemCode: 'truncated', ports: [] });
  const l = lintMtty(head);
  expect(l.findings.map((f) => f.code)).toContain('header-only');
  expect(l.provenance.reason).toMatch(/PRE_COPY part/);
});

test('lint names what a destination does with each defect', () => {
  const codes = (b: Uint8Array) => lintMtty(b).findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity}:${f.code}`);
  expect(codes(stream(1, { magic: MTTY_MAGIC ^ 0xffn }))).toEqual(['error:bad-magic']);
  expect(lintMtty(stream(1, { magic: MTTY_MAGIC ^ 0xffn })).findings[0]!.message).toMatch(/EFAULT/);
  expect(codes(stream(1, { major: 2 }))).toEqual(['error:major-ver']);
  expect(codes(stream(1, { flags: 1 }))).toEqual(['error:flags']);
  expect(codes(stream(1, { nr: 3 }))).toEqual(['error:nr-ports']);
  expect(codes(stream(1).subarray(0, 40))).toEqual(['error:truncated']);
  expect(codes(Uint8Array.from([...stream(1), 0]))).toEqual(['error:too-long']);
  expect(codes(stream(1).subarray(0, 10))).toEqual(['error:short-header']);
  // port records are loaded unchecked: an index past the FIFO is an out-of-bounds access in the destination
  const oob = stream(1);
  oob[24 + 24] = 200;
  expect(codes(oob)).toEqual(['error:fifo-index']);
  const odd = stream(1);
  odd[24 + 26] = 5; // count disagrees with head - tail
  odd[24 + 33] = 7; // depth neither 1 nor 16
  odd[24 + 0] = 1; // unused register slot
  expect(codes(odd)).toEqual(['warning:fifo-inconsistent', 'warning:fifo-size', 'warning:unused-reg']);
});

test('format detection: by magic, or by an mtty header behind a damaged magic', () => {
  expect(detectFormat(stream(1))).toBe('mtty');
  expect(detectFormat(stream(2, { magic: 0n }))).toBe('mtty');
  expect(detectFormat(stream(1, { magic: 0n }).subarray(0, 40))).toBe('hisi-acc'); // not an mtty length
  expect(detectFormat(new Uint8Array(40))).toBe('hisi-acc');
  expect(detectFormat(Uint8Array.from([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3]))).toBe('qemu-migration');
});

test('decode and lint from the command line pick the mtty format by themselves', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-mtty-'));
  try {
    const bin = new URL('../../bin/migcompat.js', import.meta.url).pathname;
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
    writeFileSync(join(dir, 'ok.bin'), stream(1));
    writeFileSync(join(dir, 'bad.bin'), stream(1, { magic: 1n }));
    const d = run('decode', join(dir, 'ok.bin'));
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/60 bytes, mtty stream \(1-port header\), ok/);
    expect(d.stdout).toMatch(/^0x001f\s+1\s+ports\[0\]\.scr\s+0x5a$/m);
    expect(d.stdout).toMatch(/port 0: scr 0x5a.*FIFO 3 byte\(s\) waiting \[41 42 43\]/);
    const j = JSON.parse(run('decode', join(dir, 'ok.bin'), '--json').stdout);
    expect(j).toMatchObject({ format: 'mtty', ok: true, header: { magic: '0x7e9d09898c3e2c4e', nrPorts: 1 } });
    expect(j.ports[0].fifo).toBe('414243' + '00'.repeat(13));
    const forced = run('decode', join(dir, 'bad.bin'), '--format', 'mtty');
    expect(forced.stdout).toMatch(/problem: magic 0x0000000000000001 is not mtty's/);
    const l = run('lint', join(dir, 'bad.bin'));
    expect(l.status).toBe(1);
    expect(l.stdout).toMatch(/bad-magic/);
    expect(run('lint', join(dir, 'ok.bin')).status).toBe(0);
    const unknown = run('lint', join(dir, 'ok.bin'), '--format', 'nope');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    // hisi_acc revision profiles say nothing about an mtty stream: lint --rev and check refuse it in one line
    const rev = run('lint', join(dir, 'ok.bin'), '--rev', 'all');
    expect([rev.status, rev.stderr.trim()]).toEqual([2, 'migcompat: --rev names hisi_acc revision profiles; an mtty stream is judged without them']);
    const check = run('check', '--rev', 'all', '--stream', join(dir, 'ok.bin'));
    expect([check.status, check.stderr.trim()]).toEqual([2, `migcompat: ${join(dir, 'ok.bin')}: no hisi_acc device stream to check: ${join(dir, 'ok.bin')} (mtty) (check runs hisi_acc revisions)`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
