// Runs header-probe.c (compiled against the installed <linux/vfio.h>) and parses what it prints.
import { execFileSync } from 'node:child_process';
import { buildC } from './build-c.ts';

export interface HeaderFacts {
  /** kernel version of the installed uapi headers, e.g. "6.1.187" */
  headerVersion: string;
  ioctls: Map<string, number>;
  consts: Map<string, number>;
  sizes: Map<string, number>;
  /** "struct.field" → [offset, size] (size 0 for a flexible array) */
  offsets: Map<string, [number, number]>;
  missing: Set<string>;
}

export function probeHeaders(): HeaderFacts {
  const exe = buildC('header-probe.c', 'exe');
  const out = execFileSync(exe, { encoding: 'utf8' });
  const f: HeaderFacts = {
    headerVersion: '0.0.0', ioctls: new Map(), consts: new Map(), sizes: new Map(), offsets: new Map(), missing: new Set(),
  };
  for (const line of out.split('\n')) {
    const [kind, name, a, b] = line.split(' ');
    if (kind === 'header') {
      const v = Number(a);
      f.headerVersion = `${v >> 16}.${(v >> 8) & 0xff}.${v & 0xff}`;
    } else if (kind === 'ioctl') f.ioctls.set(name, Number(a));
    else if (kind === 'const') f.consts.set(name, Number(a));
    else if (kind === 'size') f.sizes.set(name, Number(a));
    else if (kind === 'off') f.offsets.set(name, [Number(a), Number(b)]);
    else if (kind === 'missing') f.missing.add(name);
  }
  return f;
}
