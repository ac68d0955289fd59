// Importing this module plugs ktree into the layers below it, which never import ktree:
// - the driver registry resolves `ktree:NAME` ids (real driver code, run isolated);
// - the runners hand cases and checks of isolated revisions to ktree's child processes.
// Entry points that take revision ids from users import it: the CLI (harness/cli/main.ts), the
// matrix loader (and so the grid reporter), fuzz, and specs that name `ktree:` ids. docs/layering.md.
import { registerRevisionResolver } from '../drivers/registry.ts';
import { installIsolatedExecutor } from '../runners/isolation.ts';
import { runJobInChildSync, runJobsInChild } from './pool.ts';
import { KTREE_PREFIX, isolatedKtreeRevision, knownKtreeId } from './registry.ts';

registerRevisionResolver(KTREE_PREFIX, { resolve: isolatedKtreeRevision, known: knownKtreeId });

installIsolatedExecutor({
  runSync: (job, libs) => runJobInChildSync(job, libs),
  run: async (job, libs) => {
    const [r] = await runJobsInChild([job], { libs });
    return { evidence: r.evidence, error: r.error };
  },
});
