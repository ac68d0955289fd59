// A cpio "newc" archive writer (the initramfs format the kernel unpacks), so the guest image is built
// by our own code without host cpio tools. Entries: directories, regular files, symlinks.
import { gzipSync } from 'node:zlib';

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(ino: number, mode: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.from(name + '\0');
  const fields = [ino, mode, 0, 0, mode & S_IFDIR ? 2 : 1, 0, size, 0, 0, 0, 0, nameBytes.length, 0];
  const h = Buffer.from('070701' + fields.map(hex8).join(''), 'ascii');
  // header (110 bytes) + name are padded together to a multiple of 4
  return Buffer.concat([h, nameBytes, Buffer.alloc(pad4(h.length + nameBytes.length))]);
}

/** The archive bytes (uncompressed). Paths are relative ("init", "bin/busybox"). */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    let mode: number;
    let data: Uint8Array;
    if (e.kind === 'dir') {
      mode = S_IFDIR | (e.mode ?? 0o755);
      data = new Uint8Array(0);
    } else if (e.kind === 'file') {
      mode = S_IFREG | (e.mode ?? 0o644);
      data = e.data;
    } else {
      mode = S_IFLNK | 0o777;
      data = Buffer.from(e.target);
    }
    parts.push(header(ino++, mode, data.length, path), Buffer.from(data), Buffer.alloc(pad4(data.length)));
  }
  parts.push(header(0, 0, 0, 'TRAILER!!!'));
  return Buffer.concat(parts);
}

export function cpioNewcGz(entries: CpioEntry[]): Buffer {
  return gzipSync(cpioNewc(entries), { level: 6 });
}

/** Parse a newc archive back (used by tests and `migcompat qemu image --list`). */
export function readCpioNewc(buf: Uint8Array): { path: string; mode: number; size: number; data: Buffer }[] {
  const b = Buffer.from(buf);
  const out: { path: string; mode: number; size: number; data: Buffer }[] = [];
  let off = 0;
  for (;;) {
    if (off + 110 > b.length) throw new Error(`cpio truncated at ${off}`);
    const magic = b.toString('ascii', off, off + 6);
    if (magic !== '070701') throw new Error(`bad cpio magic at ${off}: ${magic}`);
    const f = (i: number) => parseInt(b.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = f(1);
    const size = f(6);
    const nameSize = f(11);
    const name = b.toString('utf8', off + 110, off + 110 + nameSize - 1);
    off += 110 + nameSize;
    off += pad4(110 + nameSize);
    if (name === 'TRAILER!!!') return out;
    out.push({ path: name, mode, size, data: b.subarray(off, off + size) });
    off += size + pad4(size);
  }
}
