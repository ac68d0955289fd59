// Lab runs: capture on one host and load on another, every ordered pair of hosts (both directions),
// and the stream corpus replayed against every host. Each cell is Evidence plus a verdict, in the
// same shape as the matrix grid (src, dst, outcome, reason, errno, stage).
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Evidence, Outcome, Verdict } from '../../oracle/types.ts';
import { readProvenance, sidecarPath, type Provenance } from '../vfio-host/provenance.ts';
import type { Inventory, LabHost } from './inventory.ts';
import { hostArgv, type LabTransport } from './transport.ts';

export interface LabCell {
  kind: 'pair' | 'corpus';
  src: string;
  dst: string;
  srcKernel: string;
  dstKernel: string;
  transfer: string;
  outcome: Outcome;
  reason: string;
  errno: string | null;
  stage: string | null;
  evidence: Evidence | null;
  /** the stream file (harness side) and the destination VF: what reproduces the cell with `load` */
  stream?: string;
  dstVf?: string;
}

export interface LabResult {
  cells: LabCell[];
}

interface LoadJson {
  verdict: Verdict;
  destination: Evidence['destination'];
  recovery: { finalState: string; action: string; ok: boolean; detail: string };
  timeline: Evidence['timeline'];
}

const errorCell = (base: Omit<LabCell, 'outcome' | 'reason' | 'errno' | 'stage' | 'evidence'>, reason: string): LabCell => ({
  ...base, outcome: 'error', reason, errno: null, stage: null, evidence: null,
});

const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? '';

/** Load `local` (a stream with its sidecar) on `dst`'s first VF through the transport. */
async function loadOn(t: LabTransport, dst: LabHost, local: string, transfer: string, base: Omit<LabCell, 'outcome' | 'reason' | 'errno' | 'stage' | 'evidence'>, tag: string): Promise<LabCell> {
  const remote = `${dst.workdir}/${tag}.bin`;
  await t.exec(dst, ['mkdir', '-p', dst.workdir]);
  await t.put(dst, local, remote);
  if (existsSync(sidecarPath(local))) await t.put(dst, sidecarPath(local), sidecarPath(remote));
  const r = await t.exec(dst, hostArgv(dst, ['load', '--device', dst.vfs[0], remote, '--transfer', transfer, '--json']));
  if (r.code !== 0 && r.code !== 1) return errorCell(base, `load on ${dst.name} exited ${r.code}: ${lastLine(r.stderr)}`);
  let j: LoadJson;
  try {
    j = JSON.parse(r.stdout) as LoadJson;
  } catch {
    return errorCell(base, `load on ${dst.name}: output is not JSON: ${lastLine(r.stdout || r.stderr)}`);
  }
  const evidence: Evidence = {
    caseId: `${base.src} -> ${base.dst} ${transfer}`, seed: 0, stream: null, timeline: j.timeline, destination: j.destination,
    srcFinalState: null, dstFinalState: j.recovery.finalState, guestOn: 'none',
    checks: [{ name: 'device left RUNNING', ok: j.recovery.ok, detail: `${j.recovery.action} ${j.recovery.detail}`.trim() }],
    hang: null, harnessError: j.verdict.outcome === 'error' ? j.verdict.reason : null,
  };
  return { ...base, outcome: j.verdict.outcome, reason: j.verdict.reason, errno: j.verdict.errno, stage: j.verdict.stage, evidence, stream: local, dstVf: dst.vfs[0] };
}

/** Every ordered pair (A, B), A ≠ B: capture on A's first VF, load on B's first VF. */
export async function runPairs(inv: Inventory, t: LabTransport, opts: { transfer: string; workDir: string }): Promise<LabCell[]> {
  const cells: LabCell[] = [];
  const captured = new Map<string, { local: string; prov: Provenance | null } | string>();
  mkdirSync(opts.workDir, { recursive: true });
  for (const a of inv.hosts) {
    const remote = `${a.workdir}/lab-capture-${a.name}.bin`;
    await t.exec(a, ['mkdir', '-p', a.workdir]);
    const r = await t.exec(a, hostArgv(a, ['capture', '--device', a.vfs[0], '-o', remote, '--force', '--json']));
    if (r.code !== 0) {
      captured.set(a.name, `capture on ${a.name} exited ${r.code}: ${lastLine(r.stderr)}`);
      continue;
    }
    const local = join(opts.workDir, `${a.name}.bin`);
    await t.get(a, remote, local);
    await t.get(a, sidecarPath(remote), sidecarPath(local));
    captured.set(a.name, { local, prov: readProvenance(local) });
  }
  for (const a of inv.hosts) {
    for (const b of inv.hosts) {
      if (a === b) continue;
      const c = captured.get(a.name)!;
      const base = { kind: 'pair' as const, src: a.name, dst: b.name, srcKernel: a.kernel, dstKernel: b.kernel, transfer: opts.transfer };
      if (typeof c === 'string') {
        cells.push(errorCell(base, c));
        continue;
      }
      if (c.prov) base.srcKernel = c.prov.kernelRelease;
      cells.push(await loadOn(t, b, c.local, opts.transfer, base, `lab-from-${a.name}`));
    }
  }
  return cells;
}

/** Every stream of the corpus (with a sidecar) replayed on every host other than the one that wrote it. */
export async function replayCorpus(inv: Inventory, t: LabTransport, corpusDir: string, transfer: string): Promise<LabCell[]> {
  const cells: LabCell[] = [];
  const files = readdirSync(corpusDir).filter((f) => f.endsWith('.bin') && existsSync(join(corpusDir, `${f}.json`))).sort();
  for (const f of files) {
    const local = join(corpusDir, f);
    const prov = readProvenance(local);
    if (!prov) continue;
    for (const h of inv.hosts) {
      if (h.name === prov.host && h.kernel === prov.kernelRelease) continue; // its own origin
      const base = { kind: 'corpus' as const, src: `${basename(f)} (${prov.host})`, dst: h.name, srcKernel: prov.kernelRelease, dstKernel: h.kernel, transfer };
      cells.push(await loadOn(t, h, local, transfer, base, `corpus-${basename(f, '.bin')}`));
    }
  }
  return cells;
}

/** Markdown grid: one row per source, one column per destination host. */
export function labMarkdown(cells: LabCell[]): string {
  const dsts = [...new Set(cells.map((c) => c.dst))];
  const srcs = [...new Set(cells.map((c) => `${c.src} [${c.srcKernel}]`))];
  const lines = [`| source \\ destination | ${dsts.map((d) => `${d} [${cells.find((c) => c.dst === d)!.dstKernel}]`).join(' | ')} |`, `|---|${dsts.map(() => '---').join('|')}|`];
  for (const s of srcs) {
    const row = dsts.map((d) => {
      const c = cells.find((x) => `${x.src} [${x.srcKernel}]` === s && x.dst === d);
      return c ? `${c.outcome}${c.errno ? ` (${c.errno} @ ${c.stage})` : ''}` : '—';
    });
    lines.push(`| ${s} | ${row.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

/** lab.json + lab.md in `dir`, each written to a temp name and renamed. */
export function writeLabResults(dir: string, result: LabResult): void {
  mkdirSync(dir, { recursive: true });
  const put = (name: string, text: string) => {
    const tmp = join(dir, `.${name}.tmp-${process.pid}`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(dir, name));
  };
  put('lab.json', JSON.stringify(result, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? '0x' + v.toString(16) : v), 2) + '\n');
  put('lab.md', labMarkdown(result.cells));
}
