// A CLI command: a name, a one-line summary for `migcompat help`, and a run function that returns
// the exit code (0 success, 1 a check failed or a cell was unexpected). Bad input throws UsageError
// (exit 2, one line).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../util/usage-error.ts';

export interface Command {
  name: string;
  usage: string;
  summary: string;
  run(argv: string[]): Promise<number> | number;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with errors turned into UsageError. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (usage: ${usage})`);
  }
}
