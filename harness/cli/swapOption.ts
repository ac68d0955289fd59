// `--module BUILD_DIR [--module-hosts A,B] [--swap-only M,N]` of `lab` and `qemu run`: the run happens
// with that kernel module build in place on the hosts (harness/runners/lab/moduleSwap.ts), and the
// report of every swap and restore step is written next to the run's results.
import { join } from 'node:path';
import type { LabHost } from '../runners/lab/inventory.ts';
import type { LabTransport } from '../runners/lab/transport.ts';
import type { SwapReport } from '../runners/lab/moduleSwap.ts';
import { writeFileAtomic } from '../util/atomic.ts';

export interface SwapFlags {
  module?: string;
  hosts?: string;
  only?: string;
}

/** Run `run` (with the swap around it when flags.module is set). False when a swap or a restore failed. */
export async function withSwapOption(flags: SwapFlags, inventoryHosts: LabHost[], t: LabTransport, outDir: string, run: () => Promise<void>): Promise<boolean> {
  if (!flags.module) {
    await run();
    return true;
  }
  const { readModuleBuild } = await import('../kbuild/kmod.ts');
  const { swapHosts, withModuleSwap, StepError } = await import('../runners/lab/moduleSwap.ts');
  const build = readModuleBuild(flags.module);
  const hosts = swapHosts(inventoryHosts, flags.hosts);
  const only = flags.only ? flags.only.split(',').map((m) => m.trim().replace(/-/g, '_')).filter(Boolean) : undefined;
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const file = join(outDir, 'module-swap.json');
  try {
    const { report } = await withModuleSwap(t, hosts, build, run, { only, log });
    writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
    log(`module swap: ${report.modules.join(', ')} on ${hosts.map((h) => h.name).join(', ')}; restored: ${report.restored ? 'yes' : `NO (${report.problems.join('; ')})`}; steps in ${file}`);
    return report.restored;
  } catch (e) {
    const report = (e as { swapReport?: SwapReport }).swapReport;
    if (!report) throw e;
    writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
    if (!(e instanceof StepError)) throw e; // the run itself failed: its error, after the restore
    log(`module swap failed, the run was skipped: ${e.message}; restored: ${report.restored ? 'yes' : `NO (${report.problems.slice(1).join('; ')})`}; steps in ${file}`);
    return false;
  }
}
