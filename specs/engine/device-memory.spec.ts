import { test, expect } from '@playwright/test';
import { GuestMemory, DmaFaultError } from '../../harness/device/index.ts';

test.describe('GuestMemory', () => {
  test('allocations are deterministic per seed, aligned, and have distinctive non-zero 32-bit halves', () => {
    const a = new GuestMemory(42);
    const b = new GuestMemory(42);
    const c = new GuestMemory(43);
    const xs = [a.alloc(100, 64), a.alloc(4096, 4096), a.alloc(8, 8)];
    expect([b.alloc(100, 64), b.alloc(4096, 4096), b.alloc(8, 8)]).toEqual(xs);
    expect(c.alloc(100, 64)).not.toEqual(xs[0]);
    expect(xs[1] % 4096n).toBe(0n);
    for (const x of xs) {
      expect(x >> 32n).not.toBe(0n);
      expect(x & 0xffffffffn).not.toBe(0n);
      expect(x >> 32n).toBeGreaterThanOrEqual(0xa0n);
    }
  });

  test('u32/u64/bytes round-trip, little-endian, exact 64-bit values', () => {
    const m = new GuestMemory(1);
    const p = m.alloc(64);
    m.writeU64(p, 0xaaccfeeddecadeden);
    expect(m.readU64(p)).toBe(0xaaccfeeddecadeden);
    expect(m.readU32(p)).toBe(0xdecadede);
    expect(m.readU32(p + 4n)).toBe(0xaaccfeed);
    m.write(p + 8n, Uint8Array.of(1, 2, 3));
    expect([...m.read(p + 8n, 4)]).toEqual([1, 2, 3, 0]);
  });

  test('memory grows across many allocations without losing earlier contents', () => {
    const m = new GuestMemory(5, 4096);
    const first = m.alloc(16);
    m.writeU32(first, 0x12345678);
    for (let i = 0; i < 200; i++) m.alloc(4096);
    expect(m.readU32(first)).toBe(0x12345678);
    expect(m.size).toBeGreaterThan(200 * 4096);
  });

  test('anything outside allocated memory is a fault: NULL, the buggy composition, past the end', () => {
    const m = new GuestMemory(9);
    const base = m.alloc(64);
    const buggy = ((base & 0xffffffffn) << 32n) | 0x00000000n; // base_l<<32 | head/tail (R0-R2, docs/reference.md#event-queue-address-composition)
    expect(m.contains(base, 64)).toBe(true);
    expect(m.contains(base, 65)).toBe(false);
    expect(m.contains(0n, 4)).toBe(false);
    expect(m.contains(buggy, 4)).toBe(false);
    expect(m.contains(0xffffffffffffffffn, 4)).toBe(false);
    expect(() => m.readU32(0n)).toThrow(DmaFaultError);
    expect(() => m.writeU32(base + 64n, 1)).toThrow(DmaFaultError);
  });
});
