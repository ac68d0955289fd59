// Just enough of ELF (64-bit little-endian: x86_64 and aarch64 binaries and kernel modules) to read
// what the harness needs from files built for another architecture, where ldd and modinfo cannot
// run: a module's .modinfo strings and build id, an executable's interpreter and DT_NEEDED libraries.
import { UsageError } from './usage-error.ts';

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
  addr: bigint;
}

export interface ElfFile {
  machine: number;
  sections: ElfSection[];
  /** PT_INTERP: the dynamic loader an executable names, or null */
  interpreter: string | null;
  /** DT_NEEDED entries, in order */
  needed: string[];
}

/** e_machine values we name in messages */
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

const PT_INTERP = 3;
const PT_DYNAMIC = 2;
const DT_NEEDED = 1;
const DT_STRTAB = 5;

function cstr(b: Buffer, at: number): string {
  const end = b.indexOf(0, at);
  return b.toString('latin1', at, end < 0 ? b.length : end);
}

/** Parse the headers of an ELF64 LE file; `what` names it in the one-line error for anything else. */
export function readElf(b: Buffer, what = 'file'): ElfFile {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new UsageError(`${what} is not an ELF file`);
  if (b[4] !== 2 || b[5] !== 1) throw new UsageError(`${what}: only 64-bit little-endian ELF is supported`);
  const machine = b.readUInt16LE(18);
  const phoff = Number(b.readBigUInt64LE(32));
  const shoff = Number(b.readBigUInt64LE(40));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  const shentsize = b.readUInt16LE(58);
  const shnum = b.readUInt16LE(60);
  const shstrndx = b.readUInt16LE(62);
  const sections: ElfSection[] = [];
  if (shoff && shoff + shnum * shentsize <= b.length) {
    const hdrs = [];
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      hdrs.push({ nameOff: b.readUInt32LE(at), type: b.readUInt32LE(at + 4), addr: b.readBigUInt64LE(at + 16), offset: Number(b.readBigUInt64LE(at + 24)), size: Number(b.readBigUInt64LE(at + 32)) });
    }
    const strtab = hdrs[shstrndx];
    for (const h of hdrs) sections.push({ name: strtab ? cstr(b, strtab.offset + h.nameOff) : '', type: h.type, offset: h.offset, size: h.size, addr: h.addr });
  }
  let interpreter: string | null = null;
  let dyn: { offset: number; size: number } | null = null;
  const loads: { vaddr: bigint; offset: number; filesz: number }[] = [];
  for (let i = 0; i < phnum && phoff; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > b.length) break;
    const type = b.readUInt32LE(at);
    const offset = Number(b.readBigUInt64LE(at + 8));
    const vaddr = b.readBigUInt64LE(at + 16);
    const filesz = Number(b.readBigUInt64LE(at + 32));
    if (type === PT_INTERP) interpreter = cstr(b, offset);
    else if (type === PT_DYNAMIC) dyn = { offset, size: filesz };
    else if (type === 1) loads.push({ vaddr, offset, filesz });
  }
  const needed: string[] = [];
  if (dyn) {
    const entries: [bigint, bigint][] = [];
    for (let at = dyn.offset; at + 16 <= dyn.offset + dyn.size; at += 16) {
      const tag = b.readBigInt64LE(at);
      if (tag === 0n) break;
      entries.push([tag, b.readBigUInt64LE(at + 8)]);
    }
    const strVaddr = entries.find(([t]) => t === BigInt(DT_STRTAB))?.[1];
    // DT_STRTAB is a virtual address: map it to a file offset through the PT_LOAD that holds it
    const seg = strVaddr === undefined ? undefined : loads.find((l) => strVaddr >= l.vaddr && strVaddr < l.vaddr + BigInt(l.filesz));
    if (seg && strVaddr !== undefined) {
      const strOff = seg.offset + Number(strVaddr - seg.vaddr);
      for (const [t, v] of entries) if (t === BigInt(DT_NEEDED)) needed.push(cstr(b, strOff + Number(v)));
    }
  }
  return { machine, sections, interpreter, needed };
}

export function sectionBytes(b: Buffer, elf: ElfFile, name: string): Buffer | null {
  const s = elf.sections.find((x) => x.name === name);
  return s ? b.subarray(s.offset, s.offset + s.size) : null;
}

/** A kernel module's .modinfo as key → values (a key may repeat, e.g. alias). */
export function modinfo(ko: Buffer, what = 'module'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const sec = sectionBytes(ko, readElf(ko, what), '.modinfo');
  if (!sec) return out;
  for (const kv of sec.toString('latin1').split('\0')) {
    const i = kv.indexOf('=');
    if (i <= 0) continue;
    const k = kv.slice(0, i);
    out.set(k, [...(out.get(k) ?? []), kv.slice(i + 1)]);
  }
  return out;
}

/** The GNU build id (hex) of an ELF file: what the kernel shows in /sys/module/NAME/notes. */
export function buildId(b: Buffer, what = 'file'): string | null {
  const sec = sectionBytes(b, readElf(b, what), '.note.gnu.build-id');
  return sec ? buildIdFromNote(sec) : null;
}

/** The build id inside a raw ELF note (namesz, descsz, type 3, "GNU\0", desc), as sysfs shows it. */
export function buildIdFromNote(note: Buffer): string | null {
  let at = 0;
  while (at + 12 <= note.length) {
    const namesz = note.readUInt32LE(at);
    const descsz = note.readUInt32LE(at + 4);
    const type = note.readUInt32LE(at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + ((namesz + 3) & ~3);
    if (descAt + descsz > note.length) return null;
    if (type === 3 && note.toString('latin1', nameAt, nameAt + namesz).replace(/\0+$/, '') === 'GNU') return note.subarray(descAt, descAt + descsz).toString('hex');
    at = descAt + ((descsz + 3) & ~3);
  }
  return null;
}
