// Matrix files: validation errors name file, key and expectation; expansion, rules, tags and seeds.
import { test, expect } from '@playwright/test';
import { caseSeed, expandMatrix, type RevisionFacts } from '../../harness/matrix/expand.ts';
import { parseMatrix } from '../../harness/matrix/load.ts';
import { suiteCases } from '../../harness/matrix/suite.ts';
import { UsageError } from '../../harness/util/usage-error.ts';

// Hand-built facts: three revisions, 'new' writes a magic 'old' does not accept.
const facts: RevisionFacts = {
  ids: () => ['x/old', 'x/mid', 'x/new'],
  accepts: (src, dst) => !(src === 'x/new' && dst === 'x/old'),
};

const base = `
name: t
seed: 7
order: [x/old, x/mid, x/new]
workloads: [user-polling, kernel-crypto]
transfers: [single, qemu]
devices: { configs: [SEC, HPRE, ZIP], combine: rotate }
known:
  bug1: { description: old to old kernel crypto loses events, link: lore 20240101120000.1-1-author@example.org }
expect:
  - when: { magic: rejected }
    outcome: refused
  - when: { src: [x/old], dst: [x/old], workload: kernel-crypto }
    known: bug1
  - when: { src: x/mid, dst: x/new, workload: user-polling, transfer: qemu, device: ZIP }
    outcome: broken
`;

function errorOf(text: string): string {
  try {
    parseMatrix(text, 'm.yaml', facts);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('no error raised');
}

test('a malformed matrix gets one error naming the file, the key and what was expected', () => {
  expect(errorOf('transfers: [single, qemuu]')).toBe(
    'm.yaml: transfers[1]: expected a transfer plan (single, qemu, chunks:N,N… with sizes 1..1048576, random), got "qemuu"');
  expect(errorOf('src: [x/old, v9.9]')).toMatch(/^m\.yaml: src\[1\]: expected a revision id \(x\/old, x\/mid, x\/new\), got "v9\.9"$/);
  expect(errorOf('workloads: [user-polling, typing]')).toMatch(/^m\.yaml: workloads\[1\]: expected a workload \(user-polling, .*\), got "typing"$/);
  expect(errorOf('devices: { configs: [SEC, GPU] }')).toBe('m.yaml: devices.configs[1]: expected a device type (SEC, HPRE, ZIP) or a device configuration, got "GPU"');
  expect(errorOf('expect: [{ when: { src: x/old }, known: nope }]')).toMatch(/^m\.yaml: expect\[0\]\.known: expected an id declared under known: .*got "nope"$/);
  expect(errorOf('expect: [{ when: { colour: red }, outcome: refused }]')).toMatch(/^m\.yaml: expect\[0\]\.when\.colour: unknown key \(expected one of src, dst/);
  expect(errorOf('expect: [{ outcome: fine }]')).toBe('m.yaml: expect[0].outcome: expected one of migrated, refused, broken, error, got "fine"');
  expect(errorOf('seeed: 3')).toMatch(/^m\.yaml: seeed: unknown key \(expected one of name, seed/);
  expect(errorOf('requests: 2\ninflight: 5')).toBe('m.yaml: inflight: expected at most requests (2), got 5');
  expect(errorOf('seed: [1')).toMatch(/^m\.yaml: invalid YAML at line 1: /);
  expect(errorOf('- a\n- b')).toMatch(/^m\.yaml: \(top level\): expected a mapping/);
  // a known defect's link is a citation (docs/reference.md#how-to-cite), nothing else
  expect(errorOf('known: { k: { description: d, link: the fix series } }')).toMatch(/^m\.yaml: known\.k\.link: expected a citation \(docs\/<page>\.md#<heading-slug>, commit .*\), got "the fix series"$/);
  // (the commit without its kernel version is assembled so that the citation scan does not read it)
  expect(errorOf('known: { k: { description: d, link: commit ' + '8c6ac1730a97 } }')).toMatch(/^m\.yaml: known\.k\.link: expected a citation/);
});

test('expansion: every pair × workload × transfer, devices in turn, rules decide expectations', () => {
  const m = parseMatrix(base, 't.yaml', facts);
  const cases = expandMatrix(m, facts);
  expect(cases).toHaveLength(3 * 3 * 2 * 2);
  // rotate: each pair runs on every device type across its four cells
  const pairDevices = new Map<string, Set<string>>();
  for (const c of cases) {
    const k = `${c.spec.src} ${c.spec.dst}`;
    pairDevices.set(k, (pairDevices.get(k) ?? new Set()).add(c.spec.device.type));
  }
  for (const s of pairDevices.values()) expect(s.size).toBe(3);
  const find = (src: string, dst: string, w: string, t: string) =>
    cases.find((c) => c.spec.src === src && c.spec.dst === dst && c.spec.workload === w && c.spec.transfer === t)!;
  expect(find('x/new', 'x/old', 'user-polling', 'single').expect).toMatchObject({ outcome: 'refused', rule: 'expect[0]', known: null });
  expect(find('x/new', 'x/old', 'user-polling', 'single').tags).toEqual(['@new-old', '@sim']);
  const k = find('x/old', 'x/old', 'kernel-crypto', 'qemu');
  expect(k.expect).toMatchObject({ outcome: 'migrated', rule: 'expect[1]', known: { id: 'bug1', link: 'lore 20240101120000.1-1-author@example.org' } });
  expect(k.tags).toEqual(['@same-version', '@sim', '@known']);
  expect(find('x/old', 'x/new', 'user-polling', 'single').expect).toMatchObject({ outcome: 'migrated', rule: 'default' });
  expect(find('x/old', 'x/new', 'user-polling', 'single').direction).toBe('old-new');
  const cell = find('x/mid', 'x/new', 'user-polling', 'qemu');
  expect(cell.expect.rule).toBe(cell.spec.device.type === 'ZIP' ? 'expect[2]' : 'default');
  // titles are unique and greppable, seeds derive from the title
  expect(new Set(cases.map((c) => c.title)).size).toBe(cases.length);
  expect(k.title).toBe(`old -> old kernel-crypto qemu ${k.spec.device.type}`.replace(/old/g, 'x/old'));
  expect(k.spec.seed).toBe(caseSeed(7, k.title));
  expect(caseSeed(8, k.title)).not.toBe(k.spec.seed);
  // combine: all triples the cases
  const all = expandMatrix(parseMatrix(base.replace('combine: rotate', 'combine: all'), 't.yaml', facts), facts);
  expect(all).toHaveLength(cases.length * 3);
});

test('the default matrix covers every revision in both directions, every workload, single and qemu, SEC/HPRE/ZIP', async () => {
  const { matrices, cases } = await suiteCases(['specs/matrices/default.yaml']);
  const m = matrices[0];
  expect(cases.length).toBeGreaterThanOrEqual(500);
  const revs = new Set(m.order);
  expect(revs.size).toBeGreaterThanOrEqual(8);
  for (const r of revs) {
    expect(cases.some((c) => c.spec.src === r && c.direction === 'old-new') || r === m.order[m.order.length - 1]).toBe(true);
    expect(cases.some((c) => c.spec.dst === r && c.direction === 'new-old') || r === m.order[m.order.length - 1]).toBe(true);
    expect(cases.some((c) => c.spec.src === r && c.spec.dst === r)).toBe(true);
  }
  expect(new Set(cases.map((c) => c.spec.workload)).size).toBe(5);
  expect(new Set(cases.map((c) => c.spec.transfer))).toEqual(new Set(['single', 'qemu']));
  expect(new Set(cases.map((c) => c.spec.device.type))).toEqual(new Set(['SEC', 'HPRE', 'ZIP']));
  expect(new Set(cases.map((c) => c.title)).size).toBe(cases.length);
  // every known defect declared is used, and every one carries a description and a link
  const used = new Set(cases.map((c) => c.expect.known?.id).filter(Boolean));
  for (const d of Object.values(m.known)) {
    expect(used.has(d.id), d.id).toBe(true);
    expect(d.link, d.id).toMatch(/^docs\/reference\.md#[a-z0-9_-]+$/);
  }
});

test('runner: qemu matrices take the QEMU runner id grammar, its workload and transfers; exclude drops cases', async () => {
  const { qemuFacts } = await import('../../harness/matrix/qemuIds.ts');
  const q = (extra: string) => `runner: qemu\nsrc: [qemu/7.2.22, qemu/7.2.18]\ndst: [qemu/7.2.18, qemu/7.2.22+mem=512]\n${extra}`;
  const m = parseMatrix(q('exclude: [{ src: qemu/7.2.18, dst: qemu/7.2.22+mem=512 }]\nexpect: [{ when: { dst: qemu/7.2.22+mem=512 }, outcome: refused }]'), 'q.yaml', qemuFacts);
  expect(m).toMatchObject({ runner: 'qemu', workloads: ['kernel-crypto'], transfers: ['unix'], order: ['qemu/7.2.18', 'qemu/7.2.22'] });
  const cases = expandMatrix(m, qemuFacts);
  expect(cases.map((c) => [c.title, c.direction, c.expect.outcome])).toEqual([
    ['qemu/7.2.18 -> qemu/7.2.18 kernel-crypto unix SEC', 'same-version', 'migrated'],
    ['qemu/7.2.22 -> qemu/7.2.18 kernel-crypto unix SEC', 'new-old', 'migrated'],
    ['qemu/7.2.22 -> qemu/7.2.22+mem=512 kernel-crypto unix SEC', 'same-version', 'refused'],
  ]);
  expect(cases[1].tags).toEqual(['@new-old', '@qemu']);
  const err = (text: string) => {
    try {
      parseMatrix(text, 'q.yaml', qemuFacts);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('no error raised');
  };
  expect(err(q('').replace('qemu/7.2.18]', 'hisi-acc/v6.16]'))).toBe('q.yaml: src[1]: expected a qemu runner id (qemu/<x.y.z|installed|previous>[@host][+modifier…]), got "hisi-acc/v6.16"');
  expect(err(q('').replace('+mem=512', '+colour=red'))).toMatch(/^q\.yaml: dst\[1\]: expected a qemu runner id/);
  expect(err(q('workloads: [user-polling]'))).toBe('q.yaml: workloads[0]: expected a workload the qemu runner runs (kernel-crypto), got "user-polling"');
  expect(err(q('transfers: [single]'))).toBe('q.yaml: transfers[0]: expected a transfer the qemu runner runs (unix, tcp), got "single"');
  expect(err(q('expect: [{ when: { magic: rejected }, outcome: refused }]'))).toMatch(/^q\.yaml: expect\[0\]\.when\.magic: expected no magic condition \(only the sim runner/);
  expect(err(q('').replace('src: [qemu/7.2.22, qemu/7.2.18]', 'src: all'))).toMatch(/^q\.yaml: src: expected a list of qemu runner ids \(.*the qemu runner has no 'all', got "all"$/);
  expect(err(q('').replace('src: [qemu/7.2.22, qemu/7.2.18]', 'src: []'))).toBe('q.yaml: src: expected a non-empty list, got []');
  expect(err('runner: kvm')).toBe('q.yaml: runner: expected one of sim, qemu, vfio-host, got "kvm"');
});

test('specs/matrices/qemu.yaml: a few whole-VM cases, both directions, same-version and the refusals; one aarch64 case', async () => {
  const { cases } = await suiteCases(['specs/matrices/qemu.yaml'], 'qemu');
  expect(cases.length).toBeGreaterThanOrEqual(4);
  expect(cases.length).toBeLessThanOrEqual(7);
  const arm = cases.filter((c) => c.spec.arch === 'aarch64');
  expect(arm.map((c) => c.title)).toEqual(['qemu/7.2.18 -> qemu/7.2.22 kernel-crypto unix SEC aarch64']);
  expect(arm[0]!.expect.outcome).toBe('migrated');
  expect(new Set(cases.map((c) => c.direction))).toEqual(new Set(['old-new', 'new-old', 'same-version']));
  const refused = cases.filter((c) => c.expect.outcome === 'refused').map((c) => c.spec.dst);
  expect(refused.sort()).toEqual(['qemu/7.2.22+machine=pc-q35-6.2', 'qemu/7.2.22+mem=512', 'qemu/7.2.22+no-workload-port']);
  expect(cases.every((c) => c.tags.includes('@qemu') && c.runner === 'qemu')).toBe(true);
  // x86_64 cases carry no arch: their specs and titles are what they were before aarch64 existed
  expect(cases.filter((c) => c.spec.arch === undefined)).toHaveLength(cases.length - 1);
  // a suite of one runner refuses another runner's matrix by name
  await expect(suiteCases(['specs/matrices/qemu.yaml'], 'sim')).rejects.toThrow(/qemu\.yaml: runner: expected sim/);
});

test('arch: qemu matrices name guest architectures; rules and excludes match on them; other runners refuse the key', async () => {
  const { qemuFacts } = await import('../../harness/matrix/qemuIds.ts');
  const q = (extra: string) => `runner: qemu\nsrc: [qemu/7.2.22]\ndst: [qemu/7.2.22, qemu/7.2.22+machine-version=6.2]\n${extra}`;
  const m = parseMatrix(q('arch: [x86_64, aarch64]\nexclude: [{ arch: x86_64, dst: qemu/7.2.22+machine-version=6.2 }]\nexpect: [{ when: { arch: aarch64, dst: qemu/7.2.22+machine-version=6.2 }, outcome: refused }]'), 'q.yaml', qemuFacts);
  expect(m.arches).toEqual(['x86_64', 'aarch64']);
  const cases = expandMatrix(m, qemuFacts);
  expect(cases.map((c) => [c.title, c.spec.arch ?? '-', c.expect.outcome])).toEqual([
    ['qemu/7.2.22 -> qemu/7.2.22 kernel-crypto unix SEC', '-', 'migrated'],
    ['qemu/7.2.22 -> qemu/7.2.22 kernel-crypto unix SEC aarch64', 'aarch64', 'migrated'],
    ['qemu/7.2.22 -> qemu/7.2.22+machine-version=6.2 kernel-crypto unix SEC aarch64', 'aarch64', 'refused'],
  ]);
  // each architecture's case has its own seed (the title differs)
  expect(cases[0]!.spec.seed).not.toBe(cases[1]!.spec.seed);
  expect(parseMatrix(q(''), 'q.yaml', qemuFacts).arches).toEqual(['x86_64']);
  const err = (text: string, f: RevisionFacts = qemuFacts) => {
    try {
      parseMatrix(text, 'q.yaml', f);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };
  expect(err(q('arch: [riscv64]'))).toBe("q.yaml: arch[0]: expected a guest architecture (x86_64, aarch64), got \"riscv64\"");
  expect(err(q('exclude: [{ arch: ppc }]'))).toBe("q.yaml: exclude[0].arch: expected a guest architecture (x86_64, aarch64) or all, got \"ppc\"");
  expect(err('src: [x/old]\narch: [aarch64]', facts)).toMatch(/^q\.yaml: arch: expected no arch key \(only the qemu runner/);
});

test('sim matrices accept ktree ids of registered builds (and debian-6.1, built on first use) without loading them', async () => {
  const { registryFacts } = await import('../../harness/matrix/revisions.ts');
  const f = registryFacts();
  const m = parseMatrix('src: [ktree:debian-6.1]\ndst: [v6.16]\nworkloads: [user-polling]\nexpect: [{ when: { magic: rejected }, outcome: refused }]', 'k.yaml', f);
  expect(m.src).toEqual(['ktree:debian-6.1']);
  expect(m.dst).toEqual(['hisi-acc/v6.16']);
  expect(expandMatrix(m, f)[0].expect).toMatchObject({ outcome: 'migrated', rule: 'default' });
  expect(() => parseMatrix('src: [ktree:nope-never-built]', 'k.yaml', f)).toThrow(/k\.yaml: src\[0\]: expected a revision id \(.*or ktree:NAME of a registered build\), got "ktree:nope-never-built"/);
});
