// Every CLI command is one module in this folder whose default export is a Command. Modules are
// discovered at start-up, so keep their top level light: import heavy things inside run().
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from '../command.ts';

const here = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'index.ts').sort();

export const commands: Command[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(`${here}/${f}`).href)) as { default?: Command };
  if (mod.default) commands.push(mod.default);
}
commands.sort((a, b) => a.name.localeCompare(b.name));
