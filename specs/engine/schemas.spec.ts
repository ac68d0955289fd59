// The JSON Schemas of every YAML file kind (specs/schemas/): every YAML file in the repository and
// every YAML example in the docs names its schema on the first line and passes it (and its loader);
// broken files get one line naming the file, the key and what was expected; the schemas agree with
// the code's own lists; 64-bit values stay exact.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_DEVICE, DEVICE_IDS } from '../../harness/device/mmio.ts';
import { loadRevision, unregisterRevision } from '../../harness/drivers/registry.ts';
import { TRAIT_NAMES } from '../../harness/drivers/traits.ts';
import { parseRevisionYaml, readRevisionYaml } from '../../harness/drivers/yaml.ts';
import { fieldNames, parseFieldSetYaml, encodeFieldSet } from '../../harness/formats/fieldSet.ts';
import { loadRegistry, PROPERTIES } from '../../harness/fuzz/findings.ts';
import { loadFindings } from '../../harness/ktree/compare.ts';
import { loadMatrixFile, parseMatrix } from '../../harness/matrix/load.ts';
import { registryFacts } from '../../harness/matrix/revisions.ts';
import { qemuFacts } from '../../harness/matrix/qemuIds.ts';
import { hwFacts } from '../../harness/matrix/hwIds.ts';
import { RUNNER_KINDS } from '../../harness/matrix/runnerKinds.ts';
import { DIRECTIONS, MATRIX_RUNNERS, type MatrixRunner } from '../../harness/matrix/types.ts';
import { OUTCOMES } from '../../harness/oracle/types.ts';
import { ADDR_RE, parseInventory } from '../../harness/runners/lab/inventory.ts';
import { parseDeviceConfig } from '../../harness/runners/simDeviceConfig.ts';
import { DEVICE_ID_RE } from '../../harness/runners/vfio-host/sysfs.ts';
import { isPlanText } from '../../harness/transfer/plan.ts';
import { UsageError } from '../../harness/util/usage-error.ts';
import { ANNOTATIONS, SCHEMA_KINDS, SCHEMAS_DIR, loadYaml, parseYamlExact, schemaFile, type AjvLike, type SchemaKind } from '../../harness/util/yamlSchema.ts';
import { VFIO_CORES } from '../../harness/vfio/fsm.ts';
import { MIG_FLAG, MIG_STATE_NAMES } from '../../harness/vfio/types.ts';
import { loadContract } from '../../harness/conformance/contract.ts';
import { loadKnown } from '../../harness/conformance/known.ts';
import { CHECK_PARAMS } from '../../harness/conformance/checks/index.ts';
import type { KernelGuest } from '../../harness/runners/kernel-guest/guest.ts';
import { guestInventory, type GuestSsh } from '../../harness/runners/kernel-guest/ssh.ts';

const ROOT = resolve(SCHEMAS_DIR, '../..');
const SCHEMA_LINE = /^# yaml-language-server: \$schema=(\S+)\n/;
/** schemas the repository uses from elsewhere: the one JSON Schema store entry GitHub workflows have */
const EXTERNAL = new Set(['https://json.schemastore.org/github-workflow.json']);
const schemaJson = (kind: SchemaKind) => JSON.parse(readFileSync(schemaFile(kind), 'utf8'));
const kindOf = (schemaPath: string): SchemaKind | null => {
  const m = /^([a-z-]+)\.schema\.json$/.exec(relative(SCHEMAS_DIR, schemaPath));
  return m && (SCHEMA_KINDS as readonly string[]).includes(m[1]) ? (m[1] as SchemaKind) : null;
};

function repoYamlFiles(): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.yaml', '*.yml'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n').filter(Boolean).filter((f) => existsSync(join(ROOT, f)));
}

/** Every YAML file under specs/ is loaded the way the product loads its kind. */
const LOADERS: Record<SchemaKind, (path: string) => unknown> = {
  matrix: (p) => loadMatrixFile(p, (r: MatrixRunner) => (r === 'qemu' ? qemuFacts : r === 'vfio-host' ? hwFacts() : registryFacts())),
  revision: (p) => readRevisionYaml(p),
  'fuzz-findings': (p) => loadRegistry(p),
  'ktree-findings': (p) => loadFindings(p),
  'lab-inventory': (p) => parseInventory(readFileSync(p, 'utf8'), p),
  'device-config': (p) => parseDeviceConfig(readFileSync(p, 'utf8'), p),
  'stream-fields': (p) => encodeFieldSet(parseFieldSetYaml(readFileSync(p, 'utf8'), p)),
  'conformance-contract': (p) => loadContract(p, CHECK_PARAMS),
  'conformance-known': (p) => loadKnown(p, new Set(loadContract(undefined, CHECK_PARAMS).clauses.map((c) => c.id))),
};

test('every YAML file in the repository starts with a $schema line naming an existing schema, and passes it', () => {
  const files = repoYamlFiles();
  expect(files.length).toBeGreaterThanOrEqual(13);
  const seen = new Set<SchemaKind>();
  for (const f of files) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    const m = SCHEMA_LINE.exec(text);
    expect(m, `${f}: first line must be "# yaml-language-server: $schema=<path>"`).not.toBeNull();
    const ref = m![1];
    if (EXTERNAL.has(ref)) {
      expect(f, `${ref} is for GitHub workflows only`).toMatch(/^\.github\/workflows\//);
      continue;
    }
    const target = resolve(dirname(join(ROOT, f)), ref);
    expect(existsSync(target), `${f}: $schema ${ref} does not exist`).toBe(true);
    const kind = kindOf(target);
    expect(kind, `${f}: $schema ${ref} is not one of specs/schemas/<kind>.schema.json`).not.toBeNull();
    seen.add(kind!);
    expect(() => loadYaml(kind!, text, f), f).not.toThrow();
    expect(() => LOADERS[kind!](join(ROOT, f)), f).not.toThrow();
  }
  for (const k of ['matrix', 'revision', 'fuzz-findings', 'ktree-findings', 'conformance-contract', 'conformance-known'] as const) expect(seen, k).toContain(k);
});

test('every YAML example in the README and docs names its schema and passes it (a template to copy)', () => {
  const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const seen = new Set<SchemaKind>();
  for (const d of docs) {
    const md = readFileSync(join(ROOT, d), 'utf8');
    // an example inside a list item is indented like its fence
    for (const block of md.matchAll(/^( *)```yaml\n([\s\S]*?)^ *```/gm)) {
      const indent = block[1]!.length;
      const text = block[2]!.split('\n').map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
      const m = SCHEMA_LINE.exec(text);
      expect(m, `${d}: a yaml example must start with its $schema line:\n${text}`).not.toBeNull();
      // examples are written for a file at the top of a checkout
      const kind = kindOf(resolve(ROOT, m![1]));
      expect(kind, `${d}: ${m![1]}`).not.toBeNull();
      seen.add(kind!);
      expect(() => loadYaml(kind!, text, d), `${d}:\n${text}`).not.toThrow();
      if (kind === 'lab-inventory') parseInventory(text, d);
      if (kind === 'device-config') parseDeviceConfig(text, d);
      if (kind === 'stream-fields') encodeFieldSet(parseFieldSetYaml(text, d));
      if (kind === 'matrix') parseMatrix(text, d, (r) => (r === 'qemu' ? qemuFacts : r === 'vfio-host' ? hwFacts() : registryFacts()));
      if (kind === 'revision') parseRevisionYaml(text, d);
    }
  }
  // the kinds a user writes by hand each have an example to copy
  for (const k of ['lab-inventory', 'device-config', 'stream-fields', 'revision', 'matrix'] as const) expect(seen, k).toContain(k);
});

test('YAML the product writes names its schema: the kernel guest lab inventory, from wherever it is written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migcompat-schema-'));
  try {
    const guest = { hello: { kernelRelease: '6.12.118' } } as unknown as KernelGuest;
    const ssh = { port: 2222, clientKey: join(dir, 'client_ed25519'), hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` } as GuestSsh;
    for (const file of [join(dir, 'lab-inventory.yaml'), join(dir, 'deeper', 'x', 'lab.yaml')]) {
      mkdirSync(dirname(file), { recursive: true });
      const inv = guestInventory(guest, ssh, [{ name: 'guest-a', device: 'mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001' }], file);
      expect(inv.hosts[0].vfs).toEqual(['mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001']);
      const text = readFileSync(file, 'utf8');
      const m = SCHEMA_LINE.exec(text);
      expect(m, text).not.toBeNull();
      expect(resolve(dirname(file), m![1])).toBe(schemaFile('lab-inventory'));
      expect(() => loadYaml('lab-inventory', text, file)).not.toThrow();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- broken files: one line with the file, the key and what was expected ------------------------

const BROKEN: [SchemaKind, string, string][] = [
  ['revision', 'id: test/x\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n  fdOffset: x\n', 'f.yaml: traits.fdOffset: expected one of buffer-start, f-pos, got "x"'],
  ['revision', 'id: test/x\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n  fdOfset: f-pos\n',
    'f.yaml: traits.fdOfset: unknown key (expected one of write, accept, xqcCompose, preCopy, dataSizeFeature, matchCheck, errnos, fdOffset, vfStateWrite, nullDmaGuard, initialVfQmState, cacheWriteback, xeqcDoorbellsOnSave, startIfcEnable, matchDoneCleared, resetDoneGate, closeReleasesFds, pfCtrlMode, vftReadAtOpen, vfioCore)'],
  ['revision', 'id: test/x\ntitle: t\nkernel: k\ntraits:\n  preCopy: true\n', 'f.yaml: traits.write: missing (or use `extends:` to inherit it)'],
  ['revision', 'id: test/x\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n  write: { magic: "0xZZ" }\n', 'f.yaml: traits.write.magic: expected V1, V2 or a 64-bit hex value, got "0xZZ"'],
  ['revision', 'id: test/x\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n  accept:\n    - { magic: V2, majr: [1] }\n', 'f.yaml: traits.accept[0].majr: unknown key (expected one of magic, major, versionByte, recomputeDma)'],
  ['revision', 'id: test/x\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n  preCopy: "yes"\n', 'f.yaml: traits.preCopy: expected true or false, got "yes"'],
  ['revision', 'id: test/x\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n  write: { magic: V2, major: 70000 }\n', 'f.yaml: traits.write.major: expected an integer 0..65535, got 70000'],
  ['revision', 'id: test/x\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n  write: { magic: 0x1AACCFEEDDECADEDE }\n', 'f.yaml: traits.write.magic: expected V1, V2 or a 64-bit hex value, got "0x1aaccfeeddecadede"'],
  ['matrix', 'transfers: [single, qemuu]\n', 'f.yaml: transfers[1]: expected a transfer plan (single, qemu, chunks:N,N… with sizes 1..1048576, random), got "qemuu"'],
  ['matrix', 'devices: { configs: [SEC, { type: GPU }] }\n', 'f.yaml: devices.configs[1].type: expected one of SEC, HPRE, ZIP, got "GPU"'],
  ['matrix', 'devices: { configs: [SEC, 5] }\n', 'f.yaml: devices.configs[1]: expected a device type (SEC, HPRE, ZIP) or a device configuration, got 5'],
  ['matrix', 'expect: [{ when: { src: v5.18 } }]\n', 'f.yaml: expect[0].outcome: missing (or known: ID)'],
  ['matrix', 'runner: vfio-host\ntransfers: [qemu]\n',
    'f.yaml: transfers[0]: expected a transfer plan the vfio-host runner runs (single, chunks:N,N… with sizes 1..1048576, random), got "qemu"'],
  ['matrix', 'known:\n  a: { description: "two\\nlines", link: x }\n', 'f.yaml: known.a.description: expected one line, got "two\\nlines"'],
  ['lab-inventory', 'hosts:\n  - { name: a, ssh: { host: h, port: 70000 }, kernel: k, vfs: [0000:75:00.1] }\n', 'f.yaml: hosts[0].ssh.port: expected an integer 1..65535, got 70000'],
  ['lab-inventory', 'hosts:\n  - { name: a, ssh: { host: h }, kernel: k, vfs: ["75:00.1; reboot"] }\n', 'f.yaml: hosts[0].vfs[0]: expected a PCI address like 0000:75:00.1 or an mdev:UUID, got "75:00.1; reboot"'],
  ['lab-inventory', 'hosts:\n  - { name: a, kernel: k, vfs: [0000:75:00.1] }\n', 'f.yaml: hosts[0].ssh: missing'],
  ['lab-inventory', 'hosts:\n  - { name: a, ssh: { host: h }, kernel: k, vfs: [0000:75:00.1], env: { "A;B": x } }\n', 'f.yaml: hosts[0].env.A;B: expected an environment variable name ([A-Z_][A-Z0-9_]*), got "A;B"'],
  ['lab-inventory', 'hosts:\n  - { name: a, ssh: { host: h, hostKey: yes }, kernel: k, vfs: [0000:75:00.1] }\n',
    'f.yaml: hosts[0].ssh.hostKey: expected a fingerprint like SHA256:<43 base64 characters> (ssh-keygen -lf) or accept-new, got "yes"'],
  ['lab-inventory', 'hosts:\n  - { name: a, ssh: { host: h, knownHosts: "" }, kernel: k, vfs: [0000:75:00.1] }\n', 'f.yaml: hosts[0].ssh.knownHosts: expected a non-empty one-line string, got ""'],
  ['lab-inventory', 'hosts: []\n', 'f.yaml: hosts: expected a non-empty list of hosts, got []'],
  ['device-config', 'type: GPU\n', 'f.yaml: type: expected one of SEC, HPRE, ZIP, got "GPU"'],
  ['device-config', 'qpNum: 0\n', 'f.yaml: qpNum: expected an integer 1..1024, got 0'],
  ['device-config', 'qpnum: 4\n', 'f.yaml: qpnum: unknown key (expected one of type, qpNum, qpBase, queIsoCfg, hwMode, vfId)'],
  ['fuzz-findings', 'findings:\n  - { id: x, property: streams, kind: k, revisions: [a], summary: s, minimal: {} }\n', 'f.yaml: findings[0].property: expected one of stream, transfer, config, uapi, transparency, got "streams"'],
  ['fuzz-findings', 'findings:\n  - { id: x, property: stream, kind: k, revisions: [a], summary: s }\n', 'f.yaml: findings[0].minimal: missing'],
  ['ktree-findings', 'findings:\n  - { id: x, model: m, real: r, job: j, field: "", explanation: e }\n', 'f.yaml: findings[0].field: expected a non-empty string, got ""'],
  ['conformance-contract', 'name: x\nclauses:\n  - { id: a, title: t, binds: host, statement: s, source: { header: h, since: v5.18, commit: c }, check: { name: flags } }\n',
    'f.yaml: clauses[0].binds: expected one of driver, vmm, got "host"'],
  ['conformance-contract', 'name: x\nclauses:\n  - { id: a, title: t, binds: vmm, statement: s, source: { header: h, since: v5.18, commit: c }, applies: { states: [RUN] }, check: { name: flags } }\n',
    'f.yaml: clauses[0].applies.states[0]: expected one of ERROR, STOP, RUNNING, STOP_COPY, RESUMING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P, got "RUN"'],
  ['conformance-contract', 'name: x\nclauses:\n  - { id: a, title: t, binds: vmm, statement: s, source: { header: h, since: "5.18", commit: c }, check: { name: flags } }\n',
    'f.yaml: clauses[0].source.since: expected a kernel version like v6.2, got "5.18"'],
  ['conformance-known', 'known:\n  - { id: x, clauses: [set-returns], revisions: [hisi-acc/v7.0], verdict: broken, description: d, reference: r }\n',
    'f.yaml: known[0].verdict: expected one of violated, hang, got "broken"'],
  ['conformance-known', 'known:\n  - { id: x, clauses: [set-returns], verdict: hang, description: d, reference: r }\n', 'f.yaml: known[0].revisions: missing (or drivers)'],
  ['conformance-known', 'known:\n  - { id: x, clauses: [set-returns], drivers: [mtty/1], verdict: hang, description: d, reference: r }\n',
    'f.yaml: known[0].drivers[0]: expected a kernel driver name, got "mtty/1"'],
  ['stream-fields', 'qm_eqc_dw: [1, 2]\n', 'f.yaml: qm_eqc_dw: expected a list of 7 values, got [1,2]'],
  ['stream-fields', 'qp_num: 0x100000000\n', 'f.yaml: qp_num: expected a 32-bit value: an integer 0..4294967295 or a "0x…" string, got 4294967296'],
  ['stream-fields', 'length: 100\n', 'f.yaml: length: expected one of 40, 176, got 100'],
  ['stream-fields', 'acc_magic: "0xabc"\nqp_nmu: 4\n', 'f.yaml: qp_nmu: unknown key (expected one of length, acc_magic, qp_num, dev_id, que_iso_cfg, qp_base, vf_qm_state, major_ver, minor_ver, qm_rsv_state, aeq_int_mask, eq_int_mask, ifc_int_source, ifc_int_mask, ifc_int_set, page_size, qm_eqc_dw, qm_aeqc_dw, qm_rsv_regs, padding, eqe_dma, aeqe_dma, sqc_dma, cqc_dma)'],
];

test('each schema rejects broken files with one line: file, key, what was expected', () => {
  for (const [kind, text, msg] of BROKEN) {
    let got = 'no error';
    try {
      loadYaml(kind, text, 'f.yaml');
    } catch (e) {
      expect(e, text).toBeInstanceOf(UsageError);
      got = (e as Error).message;
    }
    expect(got, `${kind}:\n${text}`).toBe(msg);
    expect(got.includes('\n'), got).toBe(false);
  }
  // the loaders say the same (and only the loaders know ids, references and duplicates)
  expect(() => parseDeviceConfig('type: GPU\n', 'd.yaml')).toThrow('d.yaml: type: expected one of SEC, HPRE, ZIP, got "GPU"');
  expect(() => parseInventory('hosts:\n  - { name: a, local: true, kernel: k, vfs: [0000:75:00.1] }\n  - { name: a, local: true, kernel: k, vfs: [0000:75:00.2] }\n', 'i.yaml'))
    .toThrow("i.yaml: hosts[1].name: duplicate host 'a'");
  expect(() => parseMatrix('src: [v5.18, v9.9]\n', 'm.yaml', registryFacts())).toThrow(/^m\.yaml: src\[1\]: expected a revision id \(.*\), got "v9\.9"$/);
  expect(() => parseRevisionYaml('id: t/x\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n  accept: [{ magic: V2, versionByte: { min: 3, max: 1 } }]\n', 'r.yaml'))
    .toThrow('r.yaml: traits.accept[0].versionByte: expected min <= max, got 3 > 1');
  expect(() => parseYamlExact('a: 1\na: 2\n', 'y.yaml')).toThrow(/^y\.yaml: invalid YAML at line 2: Map keys must be unique/);
});

test('every schema is a valid draft-07 schema that strict ajv compiles (the CLI skips this check at start)', () => {
  type Checking = AjvLike & { validateSchema(s: object): boolean; errors: unknown };
  const Ajv = createRequire(import.meta.url)('ajv') as new (o: object) => Checking;
  const ajv = new Ajv({ strict: true, strictRequired: false, strictTypes: false, validateSchema: true });
  for (const keyword of ANNOTATIONS) ajv.addKeyword({ keyword });
  for (const k of SCHEMA_KINDS) {
    const s = schemaJson(k);
    expect(s.$schema, k).toBe('http://json-schema.org/draft-07/schema#');
    expect(ajv.validateSchema(s), `${k}: ${JSON.stringify(ajv.errors)}`).toBe(true);
    ajv.addSchema(s, `${k}.schema.json`);
  }
  for (const k of SCHEMA_KINDS) expect(typeof ajv.getSchema(`${k}.schema.json`), k).toBe('function');
});

test('anyOf in a schema always says what it expects (the one line an editor and the CLI show)', () => {
  const walk = (node: unknown, at: string, kind: string): void => {
    if (Array.isArray(node)) return node.forEach((x, i) => walk(x, `${at}/${i}`, kind));
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    for (const k of ['anyOf', 'oneOf']) if (k in o) expect(typeof o.errorMessage, `${kind}${at}: ${k} without errorMessage`).toBe('string');
    for (const [k, v] of Object.entries(o)) walk(v, `${at}/${k}`, kind);
  };
  for (const k of SCHEMA_KINDS) walk(schemaJson(k), '#', k);
  expect(readdirSync(SCHEMAS_DIR).sort()).toEqual(SCHEMA_KINDS.map((k) => `${k}.schema.json`).sort());
});

// ---- the schemas agree with the code's own lists ---------------------------------------------

test('revision schema: exactly the traits the models read, the VFIO cores, and the required list', () => {
  const s = schemaJson('revision');
  expect(Object.keys(s.definitions.traits.properties).sort()).toEqual([...TRAIT_NAMES].sort());
  expect(s.then.properties.traits.required.sort()).toEqual([...TRAIT_NAMES].sort());
  expect(s.definitions.traits.properties.vfioCore.enum).toEqual([...VFIO_CORES]);
});

test('matrix and device schemas: runners, their workloads, scenarios and transfers, outcomes, directions, device types and defaults', () => {
  const s = schemaJson('matrix');
  expect(s.properties.runner.enum).toEqual([...MATRIX_RUNNERS]);
  expect(s.definitions.rule.properties.outcome.enum).toEqual([...OUTCOMES]);
  expect(s.definitions.when.properties.direction.enum).toEqual([...DIRECTIONS]);
  for (const r of MATRIX_RUNNERS) {
    const branch = s.allOf.find((x: { if: { properties: { runner: { const: string } } } }) => x.if.properties.runner.const === r).then.properties;
    expect(branch.workloads.items.enum, r).toEqual([...RUNNER_KINDS[r].workloads]);
    expect(branch.scenarios.items.enum, r).toEqual([...RUNNER_KINDS[r].scenarios]);
    if (RUNNER_KINDS[r].transfers) expect(branch.transfers.items.enum, r).toEqual([...RUNNER_KINDS[r].transfers!]);
  }
  const d = schemaJson('device-config');
  expect(d.properties.type.enum.sort()).toEqual(Object.keys(DEVICE_IDS).sort());
  for (const [k, v] of Object.entries(DEFAULT_DEVICE)) expect(d.properties[k].default, k).toBe(v);
  expect(Object.keys(d.properties).sort()).toEqual(Object.keys(DEFAULT_DEVICE).sort());
});

test('matrix schema: the transfer-plan pattern is exactly the transfer module grammar (canonical text)', () => {
  const s = schemaJson('matrix');
  const byRunner = (r: MatrixRunner) => s.allOf.find((x: { if: { properties: { runner: { const: string } } } }) => x.if.properties.runner.const === r).then.properties;
  const sim = new RegExp(byRunner('sim').transfers.items.pattern, 'u');
  const hw = new RegExp(byRunner('vfio-host').transfers.items.pattern, 'u');
  const size = fc.oneof(fc.integer({ min: 0, max: 1 << 21 }).map(String), fc.constantFrom('1048576', '1048577', '0', '01', '999999', '1000000', ' 4', '4 ', ''));
  const plan = fc.oneof(
    fc.constantFrom('single', 'qemu', 'random', 'chunks:', 'chunks', 'Single', 'qemu ', 'chunks:40,136', 'chunks:40,,136'),
    fc.array(size, { minLength: 1, maxLength: 4 }).map((xs) => `chunks:${xs.join(',')}`),
    fc.string({ maxLength: 12 }),
  );
  // node:assert inside the property: Playwright's expect is far too slow for thousands of checks
  fc.assert(fc.property(plan, (p) => {
    assert.equal(sim.test(p), isPlanText(p), p);
    assert.equal(hw.test(p), isPlanText(p) && p !== 'qemu', p);
  }), { seed: 14, numRuns: 3000 });
  for (const p of ['chunks:1048576', 'chunks:40,136', 'single']) expect(sim.test(p), p).toBe(true);
  for (const p of ['chunks:1048577', 'chunks:040', 'chunks:40, 136', 'qemuu']) expect(sim.test(p), p).toBe(false);
});

test('conformance schemas: the states, flags and check names the engine knows', () => {
  const c = schemaJson('conformance-contract').definitions.clause.properties;
  expect(c.applies.properties.states.anyOf[1].items.enum).toEqual([...MIG_STATE_NAMES]);
  expect(c.applies.properties.flags.items.enum).toEqual(Object.keys(MIG_FLAG));
  expect([...c.check.properties.name.enum].sort()).toEqual([...CHECK_PARAMS.keys()].sort());
  // what the schema cannot say stays with the loaders
  const dir = mkdtempSync(join(tmpdir(), 'migcompat-conf-'));
  try {
    const k = join(dir, 'known.yaml');
    writeFileSync(k, 'known:\n  - { id: x, clauses: [no-such], revisions: [hisi-acc/v7.0], verdict: hang, description: d, reference: "commit 8be14dd48dfe (v7.0)" }\n');
    expect(() => loadKnown(k, new Set(['set-returns']))).toThrow(`${k}: known[0].clauses: unknown clause no-such`);
    const f = join(dir, 'contract.yaml');
    writeFileSync(f, 'name: x\nclauses:\n  - { id: a, title: t, binds: vmm, statement: s, source: { header: h, since: v5.18, commit: "115dcec65f61" }, check: { name: flags } }\n');
    expect(() => loadContract(f, CHECK_PARAMS)).toThrow(`${f}: clauses[0].source.commit: expected 'commit <12-40 hex> (vX.Y)', got "115dcec65f61"`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inventory, findings and field-set schemas: the same patterns, properties and fields as the code', () => {
  const i = schemaJson('lab-inventory').definitions.host.properties;
  expect(i.vfs.items.pattern).toBe(DEVICE_ID_RE.source);
  expect(i.migrationAddress.pattern).toBe(ADDR_RE.source);
  expect(schemaJson('fuzz-findings').properties.findings.items.properties.property.enum).toEqual([...PROPERTIES]);
  const f = schemaJson('stream-fields').properties;
  const fields = new Map([...fieldNames('v1'), ...fieldNames('v2')]);
  expect(Object.keys(f).sort()).toEqual(['length', ...fields.keys()].sort());
  const bits = (ref: string) => Number(/u(\d+)$/.exec(ref)![1]);
  for (const [name, { count, leaf }] of fields) {
    const p = f[name];
    if (count > 1 || leaf.index !== undefined) {
      expect(p.maxItems, name).toBe(Math.max(fieldNames('v1').get(name)?.count ?? 0, fieldNames('v2').get(name)?.count ?? 0));
      expect(bits(p.items.$ref), name).toBe(leaf.size * 8);
    } else {
      expect(bits(p.$ref), name).toBe(leaf.size * 8);
    }
  }
});

// ---- 64-bit values ------------------------------------------------------------------------------

test('64-bit values stay exact: a magic one above V2, unquoted, is not V2; eqe_dma unquoted is exact', () => {
  const p = parseRevisionYaml('id: test/v2-plus-one\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n  write: { magic: 0xAACCFEEDDECADEDF }\n  accept: [{ magic: 12307492179295264479 }]\n', 'm.yaml');
  expect(p.traits.write!.magic).toBe(0xaaccfeeddecadedfn);
  expect(p.traits.accept![0].magic).toBe(0xaaccfeeddecadedfn); // the same value written in decimal
  const f = parseFieldSetYaml('eqe_dma: 0xfe00000000110007\nsqc_dma: 18446744073709551615\nqp_num: 4\n', 'f.yaml');
  const bytes = encodeFieldSet(f);
  expect(Buffer.from(bytes).readBigUInt64LE(144)).toBe(0xfe00000000110007n);
  expect(Buffer.from(bytes).readBigUInt64LE(160)).toBe(0xffffffffffffffffn);
  expect(parseYamlExact('a: 9007199254740993\nb: 9007199254740991\nc: -9007199254740993\n', 'x')).toEqual({ a: '0x20000000000001', b: 9007199254740991, c: '-9007199254740993' });
  // a profile loaded from a path with such a magic keeps it through the registry
  const r = loadRevision(join(ROOT, 'specs/revisions/hisi-acc/proposal-2024.yaml'));
  expect(r.traits!.write.magic).toBe(0xaccde0feedcafe01n);
  void unregisterRevision;
});
