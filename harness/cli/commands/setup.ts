// `migcompat setup [--list FILE] [--dry-run] [--json]`: the host set-up `npm test` starts with. Installs
// (as root) the Debian packages .ci/apt-packages.txt lists, refreshing apt's lists when they are too old
// to offer them; not root and something missing is one line naming the command to run, exit 2.
// --dry-run (root) lets apt simulate the install instead; only apt's lists may change.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat setup [--list FILE] [--dry-run] [--json]';

const setup: Command = {
  name: 'setup',
  usage,
  summary: 'install the Debian packages the tests need (as root; otherwise name the command), as `npm test` does first',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { list: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, usage);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${usage})`);
    const { readHostNeeds, setupHost } = await import('../../util/hostPackages.ts');
    const needs = readHostNeeds(values.list);
    const log = (line: string) => {
      if (!values.json) process.stdout.write(line + '\n');
    };
    const r = setupHost(needs, { dryRun: values['dry-run'], log });
    const list = (m: Record<string, string>) => Object.entries(m).map(([p, v]) => `${p} ${v}`).join(', ');
    if (values.json) process.stdout.write(JSON.stringify({ packages: needs.packages, architectures: needs.architectures, ...r }, null, 2) + '\n');
    else if (!r.missing.length && !r.missingArchitectures.length) log(`setup: the ${needs.packages.length} Debian packages the tests need are installed`);
    else if (r.dryRun) log(`setup: apt would install ${Object.keys(r.installed).length} packages: ${list(r.installed) || 'none'}`);
    else log(`setup: installed ${list(r.installed) || 'no package'}`);
    return 0;
  },
};
export default setup;
