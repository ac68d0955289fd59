// Plain aligned text tables for the format commands.
export function table(head: string[], rows: string[][], right: Set<number> = new Set()): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : right.has(i) ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export const hexOff = (n: number): string => '0x' + n.toString(16).padStart(4, '0');
