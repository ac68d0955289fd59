// Run by parsers.ts in a child process when generated/ is missing or stale: compiles every .ksy in
// memory and prints {name: {className, js, debugJs}} (each a file name -> source map, imported
// types included) as JSON on stdout (the compiler's API is
// asynchronous; a child lets the loader stay synchronous). Writes no files.
import { compileAll } from './compile.ts';
import { upperCamel } from './generatedDir.ts';

try {
  const out: Record<string, { className: string; js: Record<string, string>; debugJs: Record<string, string> }> = {};
  for (const c of await compileAll(undefined, { debug: true, dot: false })) {
    const className = upperCamel(String(c.ksy.meta?.id ?? c.name));
    out[c.name] = { className, js: c.js, debugJs: c.debugJs };
  }
  process.stdout.write(JSON.stringify(out));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}
