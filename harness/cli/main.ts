// The `migcompat` command (README.md#exit-codes). Exit codes: 0 success, 1 a check failed or a
// cell was unexpected, 2 bad input with a one-line reason.
import { commands } from './commands/index.ts';
import { UsageError } from '../util/usage-error.ts';

function help(): string {
  const lines = ['usage: migcompat <command> [options]', '', 'commands:'];
  const width = Math.max(...commands.map((c) => c.name.length), 4);
  for (const c of commands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  lines.push('', 'Run `migcompat <command> --help` for its options. JSON output (--json) carries 64-bit values as "0x…" strings.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help() + '\n');
    return name ? 0 : 2;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`unknown command '${name}' (try: migcompat help)`);
  // options after `--` belong to a command the command runs (kernel-guest run -- migcompat probe --help)
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (own.includes('--help') || own.includes('-h')) {
    process.stdout.write(`usage: ${cmd.usage}\n${cmd.summary}\n`);
    return 0;
  }
  // every command takes `ktree:NAME` wherever it takes a revision id: plug ktree into the layers below
  await import('../ktree/install.ts');
  return cmd.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`migcompat: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`migcompat: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 3;
  }
}
