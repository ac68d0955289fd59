// The engines of the runners other than sim, behind caseRun.ts RunnerEngine: QemuRunner judged by
// the oracle, VfioHostRunner judged by hwVerdict (no guest: accepted and RUNNING is `migrated`).
// Everything heavy is imported here, on first use, never by the sim suite.
import type { Runner } from '../runners/types.ts';
import type { RunnerEngine } from './caseRun.ts';
import type { MatrixRunner } from './types.ts';

/** One QemuRunner per worker: it caches the guest image and the builds between cases. */
export async function qemuEngine(opts: { dir?: string } = {}): Promise<RunnerEngine> {
  const { QemuRunner } = await import('../runners/qemu/runner.ts');
  const { judge } = await import('../oracle/judge.ts');
  // whole-VM cases carry no device stream (a VF's state would sit inside QEMU's stream)
  return { runner: new QemuRunner(opts.dir ? { dir: opts.dir } : {}), judge, decode: () => null };
}

/**
 * Real VFs: a case's src and dst are PCI addresses; capture on src, load on dst (VfioHostRunner takes
 * them as its device list). The host context (libc, or the stand-in that MIGCOMPAT_VFIO_STANDIN names)
 * is opened once per worker.
 */
export async function hwEngine(): Promise<RunnerEngine> {
  const { hostContext } = await import('../runners/vfio-host/context.ts');
  const { VfioHostRunner } = await import('../runners/vfio-host/runner.ts');
  const { hwVerdict } = await import('../runners/vfio-host/ops.ts');
  const { describeStream } = await import('./engine.ts');
  let ctx: Awaited<ReturnType<typeof hostContext>> | null = null;
  const forCase = async (src: string, dst: string) => new VfioHostRunner((ctx ??= await hostContext()), `${src},${dst}`);
  const runner: Runner = {
    capabilities: { name: 'vfio-host', deterministic: false, workloads: ['no-driver'] },
    prepare: async (spec) => (await forCase(spec.src, spec.dst)).prepare(spec),
    run: async (spec) => (await forCase(spec.src, spec.dst)).run(spec),
  };
  return { runner, judge: hwVerdict, decode: describeStream };
}

export async function engineFor(runner: Exclude<MatrixRunner, 'sim'>): Promise<RunnerEngine> {
  return runner === 'qemu' ? qemuEngine() : hwEngine();
}
