// Guest RAM as device DMA sees it (IOVA == guest physical address, the VM's whole RAM mapped).
// Only what the guest allocated exists: one contiguous span [base, top) grown by a bump allocator,
// so a lookup is a subtraction and a compare. Addresses outside the span are a DMA fault; the
// device checks `contains` first and records the fault itself (the SMMU would), the guest never
// touches memory it did not allocate, so a throw here is a harness bug.
//
// The base is seeded and chosen so both 32-bit halves are non-zero and distinctive (0x000000aX_5aYY0000): a
// wrongly composed address such as base_l<<32 | head/tail (the R0-R2 eqe_dma bug,
// docs/reference.md#event-queue-address-composition) or a swapped/NULL one never lands inside the span.

export class DmaFaultError extends Error {
  override name = 'DmaFaultError';
}

const PAGE = 4096;

export class GuestMemory {
  /** first valid IOVA, as a number (IOVAs of the span stay far below 2^53) */
  readonly baseN: number;
  private buf: Uint8Array;
  private dv: DataView;
  private top = 0; // bytes allocated from base

  constructor(seed = 1, initialBytes = 256 * 1024) {
    const hi = 0xa0 + ((seed >>> 8) & 0xf);
    const lo = (0x5a000000 + ((seed & 0xff) << 16)) >>> 0;
    this.baseN = hi * 0x1_0000_0000 + lo;
    this.buf = new Uint8Array(initialBytes);
    this.dv = new DataView(this.buf.buffer);
  }

  get base(): bigint {
    return BigInt(this.baseN);
  }
  /** bytes allocated so far */
  get size(): number {
    return this.top;
  }

  /** Allocate zeroed memory; returns its IOVA. Deterministic for a given seed and call sequence. */
  alloc(size: number, align = 64): bigint {
    return BigInt(this.allocN(size, align));
  }

  allocN(size: number, align = 64): number {
    if (!(size > 0) || !Number.isInteger(size)) throw new RangeError(`bad allocation size ${size}`);
    if (align <= 0 || (align & (align - 1)) !== 0 || align > PAGE) throw new RangeError(`bad alignment ${align}`);
    const off = (this.top + align - 1) & ~(align - 1);
    const end = off + size;
    if (end > this.buf.length) this.grow(end);
    this.top = end;
    return this.baseN + off;
  }

  private grow(min: number): void {
    let cap = this.buf.length * 2;
    while (cap < min) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.top));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  /** Whether [iova, iova+len) lies inside allocated memory. Accepts any bigint (bad ones are simply outside). */
  contains(iova: bigint | number, len: number): boolean {
    const a = typeof iova === 'bigint' ? Number(iova) : iova;
    const off = a - this.baseN;
    return off >= 0 && off + len <= this.top;
  }

  private off(a: number, len: number): number {
    const off = a - this.baseN;
    if (!(off >= 0 && off + len <= this.top)) {
      throw new DmaFaultError(`access outside guest memory at 0x${a.toString(16)} (+${len})`);
    }
    return off;
  }

  // Public API with bigint addresses.
  read(iova: bigint, len: number): Uint8Array {
    return this.readN(Number(iova), len);
  }
  write(iova: bigint, bytes: Uint8Array): void {
    this.writeN(Number(iova), bytes);
  }
  readU32(iova: bigint): number {
    return this.r32(Number(iova));
  }
  writeU32(iova: bigint, v: number): void {
    this.w32(Number(iova), v);
  }
  readU64(iova: bigint): bigint {
    return this.dv.getBigUint64(this.off(Number(iova), 8), true);
  }
  writeU64(iova: bigint, v: bigint): void {
    this.dv.setBigUint64(this.off(Number(iova), 8), BigInt.asUintN(64, v), true);
  }

  // Number-address fast paths used by the device and the guest driver.
  readN(a: number, len: number): Uint8Array {
    const o = this.off(a, len);
    return this.buf.slice(o, o + len);
  }
  /** A view without copying; valid only until the next allocation. */
  view(a: number, len: number): Uint8Array {
    const o = this.off(a, len);
    return this.buf.subarray(o, o + len);
  }
  writeN(a: number, bytes: Uint8Array): void {
    this.buf.set(bytes, this.off(a, bytes.length));
  }
  r32(a: number): number {
    return this.dv.getUint32(this.off(a, 4), true);
  }
  w32(a: number, v: number): void {
    this.dv.setUint32(this.off(a, 4), v >>> 0, true);
  }
  r16(a: number): number {
    return this.dv.getUint16(this.off(a, 2), true);
  }
  w16(a: number, v: number): void {
    this.dv.setUint16(this.off(a, 2), v & 0xffff, true);
  }
  r8(a: number): number {
    return this.buf[this.off(a, 1)];
  }
  w8(a: number, v: number): void {
    this.buf[this.off(a, 1)] = v & 0xff;
  }
  /** 64-bit value as a number (addresses; exact below 2^53) */
  r64n(a: number): number {
    const o = this.off(a, 8);
    return this.dv.getUint32(o + 4, true) * 0x1_0000_0000 + this.dv.getUint32(o, true);
  }
  w64n(a: number, v: number): void {
    const o = this.off(a, 8);
    this.dv.setUint32(o, v >>> 0, true);
    this.dv.setUint32(o + 4, Math.floor(v / 0x1_0000_0000) >>> 0, true);
  }
}

/** Split an address held as a number into 32-bit halves (addresses stay below 2^53). */
export const lo32 = (a: number): number => a >>> 0;
export const hi32 = (a: number): number => Math.floor(a / 0x1_0000_0000) >>> 0;
/** Compose hi:lo into a number; may exceed 2^53 for garbage halves, which is fine for validity checks. */
export const compose = (hi: number, lo: number): number => (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0);
