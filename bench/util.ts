// Small helpers for benchmark scripts: measure a loop for a while on one core and report rate and memory.
import { readFileSync } from 'node:fs';

export function measure(name: string, fn: () => void, opts: { seconds?: number; unit?: string; target?: string } = {}): number {
  const seconds = opts.seconds ?? 2;
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  const rate = n / (Number(elapsed) / 1e9);
  report(name, rate, opts.unit ?? 'ops/s', opts.target);
  return rate;
}

export function report(name: string, value: number, unit: string, target?: string): void {
  const v = value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
  process.stdout.write(`${name}: ${v} ${unit}${target ? ` (target ${target})` : ''}\n`);
}

export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Resident memory of another process (0 once it is gone). */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
