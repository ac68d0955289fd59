// `migcompat run --src IDS --dst IDS --workload W --transfer T [--seed N] [--json]`: every
// combination on the simulated device; a grid per workload and transfer, or one JSON record per case.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat run --src IDS --dst IDS [--workload W] [--transfer T] [--scenario S] [--device SEC|HPRE|ZIP] ' +
  '[--requests N] [--inflight N] [--request-size BYTES] [--seed N] [--json]   (IDS, W, T: comma-separated or all; T lists may use ; )';

const LETTER: Record<string, string> = { migrated: 'M', refused: 'R', broken: 'B', error: 'E' };

function intOpt(v: string | undefined, name: string, def: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > max) throw new UsageError(`--${name} must be an integer 0..${max}, got '${v}'`);
  return n;
}

const run: Command = {
  name: 'run',
  usage,
  summary: 'run migration cases on the simulated device and print the outcome grid (or JSON records)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      src: { type: 'string' }, dst: { type: 'string' }, workload: { type: 'string' }, transfer: { type: 'string' },
      scenario: { type: 'string' }, device: { type: 'string' }, requests: { type: 'string' }, inflight: { type: 'string' },
      'request-size': { type: 'string' }, seed: { type: 'string' }, 'retry-dst': { type: 'string' }, json: { type: 'boolean' },
    }, usage);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${usage})`);
    if (!values.src || !values.dst) throw new UsageError(`--src and --dst are required (usage: ${usage})`);
    const { expandRevisionIds } = await import('../../drivers/registry.ts');
    const { expandPlans } = await import('../../transfer/plan.ts');
    const { runAndJudge } = await import('../../runners/sim.ts');
    const { WORKLOADS, SCENARIOS } = await import('../../runners/types.ts');
    const { DEFAULT_DEVICE, DEVICE_IDS } = await import('../../device/mmio.ts');
    const { toJson } = await import('../../util/hex.ts');
    type WorkloadName = (typeof WORKLOADS)[number];
    type ScenarioName = (typeof SCENARIOS)[number];

    const srcs = expandRevisionIds(values.src);
    const dsts = expandRevisionIds(values.dst);
    const wtext = values.workload ?? 'kernel-crypto';
    const workloads = (wtext === 'all' ? [...WORKLOADS] : wtext.split(',').map((s) => s.trim())) as WorkloadName[];
    for (const w of workloads) if (!WORKLOADS.includes(w)) throw new UsageError(`unknown workload '${w}' (expected ${WORKLOADS.join(', ')} or all)`);
    const plans = expandPlans(values.transfer ?? 'qemu');
    const scenario = (values.scenario ?? 'single-hop') as ScenarioName;
    if (!SCENARIOS.includes(scenario)) throw new UsageError(`unknown scenario '${scenario}' (expected ${SCENARIOS.join(', ')})`);
    const type = (values.device ?? 'SEC').toUpperCase();
    if (!(type in DEVICE_IDS)) throw new UsageError(`unknown device type '${values.device}' (expected SEC, HPRE or ZIP)`);
    const seed = intOpt(values.seed, 'seed', 1, 0xffffffff);
    const requests = intOpt(values.requests, 'requests', 16, 100_000);
    const inflight = intOpt(values.inflight, 'inflight', Math.min(4, requests), requests);
    const requestSize = intOpt(values['request-size'], 'request-size', 4096, 1 << 20);
    if (requestSize === 0 || requestSize % 16) throw new UsageError('--request-size must be a positive multiple of 16');
    const retryDst = values['retry-dst'] ? expandRevisionIds(values['retry-dst'])[0] : scenario === 'retry-after-refusal' ? 'hisi-acc/v7.0' : undefined;

    const records: Record<string, unknown>[] = [];
    let errors = 0;
    for (const workload of workloads) {
      for (const transfer of plans) {
        const grid: string[][] = [];
        for (const src of srcs) {
          const row: string[] = [];
          for (const dst of dsts) {
            const device = { ...DEFAULT_DEVICE, type: type as keyof typeof DEVICE_IDS };
            const spec = { src, dst, workload, scenario, transfer, device, requests, inflight, requestSize, seed, retryDst };
            const { verdict } = runAndJudge(spec);
            if (verdict.outcome === 'error') errors++;
            row.push(LETTER[verdict.outcome]);
            records.push({ src, dst, workload, transfer, scenario, device: type, outcome: verdict.outcome, reason: verdict.reason,
              errno: verdict.errno, stage: verdict.stage, seed });
          }
          grid.push(row);
        }
        if (!values.json) printGrid(workload, transfer, srcs, dsts, grid);
      }
    }
    if (values.json) process.stdout.write(toJson(records) + '\n');
    else process.stdout.write('M migrated, R refused, B broken, E error (rows: source, columns: destination)\n');
    return errors ? 1 : 0;
  },
};

function printGrid(workload: string, transfer: string, srcs: string[], dsts: string[], grid: string[][]): void {
  const short = (id: string) => id.replace(/^hisi-acc\//, '');
  const w = Math.max(...srcs.map((s) => short(s).length), 8);
  const cw = dsts.map((d) => Math.max(short(d).length, 1));
  const lines = [`${workload} / ${transfer}`, `${'src \\ dst'.padEnd(w)}  ${dsts.map((d, i) => short(d).padEnd(cw[i])).join('  ')}`];
  srcs.forEach((s, r) => lines.push(`${short(s).padEnd(w)}  ${grid[r].map((c, i) => c.padEnd(cw[i])).join('  ')}`));
  process.stdout.write(lines.join('\n') + '\n\n');
}

export default run;
