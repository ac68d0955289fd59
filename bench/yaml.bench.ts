// YAML loading through the schemas (harness/util/yamlSchema.ts): the one-time cost (ajv import and
// the compile of every schema, paid once per process: each CLI run, each Playwright worker), then
// exact parsing and validation per file, and the loaders around them.
import { readFileSync } from 'node:fs';
import { measure, peakRssMiB, report } from './util.ts';

const t0 = process.hrtime.bigint();
const { loadYaml, parseYamlExact, validateDoc } = await import('../harness/util/yamlSchema.ts');
const matrixText = readFileSync('specs/matrices/default.yaml', 'utf8');
loadYaml('matrix', matrixText, 'default.yaml');
const t1 = process.hrtime.bigint();
loadYaml('revision', readFileSync('specs/revisions/hisi-acc/v5.18.yaml', 'utf8'), 'v5.18.yaml');
const t2 = process.hrtime.bigint();
report('first validation (ajv import, all schemas added, matrix schema compiled)', Number(t1 - t0) / 1e6, 'ms');
report('first validation of another kind (revision schema compiled)', Number(t2 - t1) / 1e6, 'ms');

const { parseMatrix } = await import('../harness/matrix/load.ts');
const { registryFacts } = await import('../harness/matrix/revisions.ts');
const { parseRevisionYaml } = await import('../harness/drivers/yaml.ts');
const facts = registryFacts();
const profile = readFileSync('specs/revisions/hisi-acc/debian-6.1.192.yaml', 'utf8');
const doc = parseYamlExact(matrixText, 'default.yaml');
let sink = 0;
measure('default.yaml: exact parse only', () => { sink += parseYamlExact(matrixText, 'm') ? 1 : 0; }, { unit: 'files/s', seconds: 1 });
measure('default.yaml: schema validation only', () => { validateDoc('matrix', doc, 'm'); sink++; }, { unit: 'files/s', seconds: 1 });
measure('default.yaml: parseMatrix (parse, schema, ids, rules)', () => { sink += parseMatrix(matrixText, 'm', facts).expect.length; }, { unit: 'files/s', seconds: 1 });
measure('revision profile: parseRevisionYaml', () => { sink += parseRevisionYaml(profile, 'p').id.length; }, { unit: 'files/s', seconds: 1 });
if (sink === 0) process.stdout.write('(unreachable)\n');
report('peak memory (RSS)', peakRssMiB(), 'MiB');
