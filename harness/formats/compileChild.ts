// Run by parsers.ts in a child process when generated/ is missing or stale: compiles the named
// .ksy files (all without arguments) in memory and prints {name: {className, js, debugJs}} (each a file name -> source map, imported
// types included) as JSON on stdout (the compiler's API is
// asynchronous; a child lets the loader stay synchronous). Writes no files.
import { compileAll } from './compile.ts';
import { listKsySources } from './ksy.ts';
import { upperCamel } from './generatedDir.ts';

try {
  const out: Record<string, { className: string; js: Record<string, string>; debugJs: Record<string, string> }> = {};
  const only = process.argv.slice(2);
  const sources = listKsySources().filter((s) => only.length === 0 || only.includes(s.name));
  for (const c of await compileAll(sources, { debug: true, dot: false })) {
    const className = upperCamel(String(c.ksy.meta?.id ?? c.name));
    out[c.name] = { className, js: c.js, debugJs: c.debugJs };
  }
  process.stdout.write(JSON.stringify(out));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}
