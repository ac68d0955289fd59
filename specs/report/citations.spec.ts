// Citations that resolve (docs/reference.md#how-to-cite): the whole repository is scanned, every file
// whatever its format, and each problem is named by file:line; the scanner is shown to catch each kind
// of bad citation, in a file format nobody planned for; known-defect links and findings references are
// whole citations; matrix.html and matrix.md turn them into links that work.
//
// The test data below must contain bad citations, so this file holds the repository's only region the
// scan skips (between the scanner's off and on markers); the first test fails if any other file has one.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT, citationHref, headingSlug, markdownAnchors, parseCitation } from '../../harness/util/citations.ts';
import { SCAN_OFF, SCAN_ON, formatProblem, listRepoFiles, repoView, scanRepo, scanText, type RepoView } from '../../harness/util/citationScan.ts';
import { writeRunFiles } from '../../harness/report/gridFiles.ts';
import { handGrid } from './records.ts';

test('every citation in the repository resolves (file:line of each one that does not)', () => {
  const r = scanRepo();
  expect(r.problems.map(formatProblem).join('\n'), 'unresolved citations').toBe('');
  // the scan read the repository's files of every kind (not a list of extensions): YAML of each
  // family, TypeScript, C, Kaitai, Markdown, the CI workflow
  for (const f of ['specs/revisions/hisi-acc/v6.16.yaml', 'specs/matrices/default.yaml', 'specs/findings/fuzz.yaml',
    'harness/drivers/traits.ts', 'harness/ktree/shim/src/glue.c', 'formats/qemu_migration_stream.ksy', 'README.md',
    'docs/reference.md', '.github/workflows/matrix.yml', 'package.json']) {
    expect(r.files, f).toContain(f);
  }
  expect(r.files.length + r.binary.length).toBe(listRepoFiles().length);
  // the skipped region is this file's test data, and nowhere else
  expect(r.exempt.map((e) => e.file)).toEqual(['specs/report/citations.spec.ts']);
  for (const b of r.binary) expect(readFileSync(join(REPO_ROOT, b)).subarray(0, 8192).includes(0), b).toBe(true);
});

// citation-scan: off (test data: bad citations on purpose)
// A small repository for the scanner: two Markdown pages with headings, and nothing else.
const PAGES: Record<string, string> = {
  'docs/reference.md': '# Reference\n\n## Stream layout\n\n## The core\'s next-step table\n\n```\n## not a heading\n```\n\n## Stream layout\n',
  'docs/other.md': '# Other\n\n## Limits <a id="custom-anchor"></a>\n',
};
const fakeRepo: RepoView = {
  has: (p) => p in PAGES || p === 'docs' || p === 'harness/x.ts',
  anchors: (p) => (p in PAGES ? markdownAnchors(PAGES[p]) : null),
  topLevel: new Set(['docs', 'harness', 'specs']),
};
const problems = (file: string, text: string) => scanText(file, text, fakeRepo).map(formatProblem);

test('good citations of every form pass', () => {
  const text = [
    '# docs/reference.md#stream-layout and docs/reference.md#stream-layout-1 (a repeated heading)',
    '// docs/reference.md#the-cores-next-step-table, docs/other.md#custom-anchor, docs/other.md',
    '  fixed by commit be12ad45e15b (v6.8-rc1); see also commit 3495cec07877 (v6.16; stable 6.12.34)',
    '  lore 20240101120000.1-1-author@example.org and https://lore.kernel.org/r/20240101120000.1-1-author@example.org',
    '  https://git.kernel.org/linus/be12ad45e15b, matrix.md and sensitivity.md are output file names',
  ].join('\n');
  expect(problems('specs/x.yaml', text)).toEqual([]);
  // Markdown links resolve relative to the page; a fragment alone points into the page itself
  expect(problems('docs/other.md', '[a](reference.md#stream-layout) [b](#limits-) [c](../harness/x.ts) [d](https://example.org/x#y)')).toEqual([]);
});

test('each kind of bad citation is named with file:line, the citation and the reason', () => {
  const outside = 'reference/hisi-acc-migration.md';
  const lines = [
    /* 1 */ `link: "${outside}#C.4"`,
    /* 2 */ '# see ../shared/reference/notes.md',
    /* 3 */ '  xqcCompose: buggy   # B.2 step 3',
    /* 4 */ '// (C.4, D, G.4) and E.1 #4',
    /* 5 */ '/** reference G.3 */',
    /* 6 */ '# docs/reference.md#no-such-heading',
    /* 7 */ '# docs/missing.md#stream-layout and DESIGN.md',
    /* 8 */ '// docs/other.md "Limits"',
    /* 9 */ 'fixed by commit be12ad45 (v6.8)',
    /* 10 */ 'fixed by commit be12ad45e15b',
    /* 11 */ 'fixed by commit be12ad45e15b (6.8)',
    /* 12 */ 'lore not-a-message-id@nowhere',
    /* 13 */ 'https://git.kernel.org/linus/v6.8',
    /* 14 */ '(K61, T-orig) and toolchain notes §3',
  ];
  const got = problems('specs/new.yaml', lines.join('\n'));
  const at = (n: number) => got.filter((p) => p.startsWith(`specs/new.yaml:${n}: `));
  expect(at(1).join('\n')).toContain(`${outside}#C.4`);
  expect(at(1).join('\n')).toContain('do not ship');
  expect(at(2)).toHaveLength(1);
  expect(at(3)).toEqual(['specs/new.yaml:3: B.2 step 3: a bare section code; cite docs/reference.md#<heading-slug>']);
  expect(at(4).map((p) => p.split(': ')[1])).toEqual(['C.4', 'G.4', 'E.1 #4']);
  expect(at(5).join('\n')).toContain('reference G.3');
  expect(at(6)).toEqual(["specs/new.yaml:6: docs/reference.md#no-such-heading: no heading '#no-such-heading' in docs/reference.md"]);
  expect(at(7)).toEqual([
    'specs/new.yaml:7: docs/missing.md#stream-layout: no file docs/missing.md in this repository',
    'specs/new.yaml:7: DESIGN.md: no file DESIGN.md in this repository',
  ]);
  expect(at(8)).toEqual(['specs/new.yaml:8: docs/other.md "Limits": cite a heading by its slug: docs/other.md#limits']);
  expect(at(9).join('\n')).toContain('12 to 40 lower-case hex digits');
  expect(at(10).join('\n')).toContain('names the kernel version');
  expect(at(11).join('\n')).toContain('name the kernel version');
  expect(at(12).join('\n')).toContain('is not a message id');
  expect(at(13).join('\n')).toContain('commit id');
  expect(at(14)).toHaveLength(4);
  // a Markdown page's relative link that goes nowhere, and one to a missing heading
  expect(problems('docs/other.md', '[a](referense.md) and [b](reference.md#stream)')).toEqual([
    'docs/other.md:1: referense.md: link target referense.md does not exist (relative to docs/)',
    "docs/other.md:1: reference.md#stream: no heading '#stream' in docs/reference.md (headings there: stream-layout, stream-layout-1…)",
  ]);
});

test('the off and on markers skip a region and report it; an unclosed region runs to the end of the file', () => {
  const exempt: { file: string; from: number; to: number }[] = [];
  const text = ['C.2', `# ${SCAN_OFF}`, 'C.3', `# ${SCAN_ON}`, 'C.4', SCAN_OFF, 'C.5'].join('\n');
  expect(scanText('x.yaml', text, fakeRepo, exempt).map((p) => `${p.line} ${p.citation}`)).toEqual(['1 C.2', '5 C.4']);
  expect(exempt).toEqual([{ file: 'x.yaml', from: 2, to: 4 }, { file: 'x.yaml', from: 6, to: 7 }]);
});

test('a file of a format nobody planned for is scanned, tracked or not; binary and ignored files are not', () => {
  const root = mkdtempSync(join(tmpdir(), 'mc-cite-'));
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  };
  const put = (path: string, body: string | Buffer) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  };
  git('init', '-q');
  put('docs/reference.md', '# R\n\n## Stream layout\n');
  put('conf/profile.toml', 'ok = "docs/reference.md#stream-layout"\nbad = "C.2"\n');
  put('Makefile', '# cites docs/reference.md#stream-layot\n');
  put('blob.bin', Buffer.concat([Buffer.from('C.2 '), Buffer.from([0, 1, 2])]));
  put('.gitignore', 'out/\n');
  put('out/ignored.txt', 'C.2\n');
  git('add', 'docs', 'Makefile');
  const r = scanRepo(root);
  expect(r.binary).toEqual(['blob.bin']);
  expect(r.files).not.toContain('out/ignored.txt');
  expect(r.problems.map(formatProblem)).toEqual([
    "Makefile:1: docs/reference.md#stream-layot: no heading '#stream-layot' in docs/reference.md (headings there: stream-layout…)",
    'conf/profile.toml:2: C.2: a bare section code; cite docs/reference.md#<heading-slug>',
  ]);
  // not a checkout: one line saying so
  expect(() => scanRepo(mkdtempSync(join(tmpdir(), 'mc-nogit-')))).toThrow(/^citation scan: .* is not a git checkout/);
});

test('heading slugs follow GitHub: punctuation dropped, spaces to hyphens, repeats numbered, code fences skipped', () => {
  expect(headingSlug("The core's next-step table")).toBe('the-cores-next-step-table');
  expect(headingSlug('load_data steps')).toBe('load_data-steps');
  expect(headingSlug('What Debian 6.1.192 carries')).toBe('what-debian-61192-carries');
  expect(headingSlug('Runners (`harness/matrix/runnerKinds.ts`)')).toBe('runners-harnessmatrixrunnerkindsts');
  expect(headingSlug('A → B — C')).toBe('a--b--c');
  expect([...markdownAnchors(PAGES['docs/reference.md'])]).toEqual(['reference', 'stream-layout', 'the-cores-next-step-table', 'stream-layout-1']);
});

test('parseCitation takes the three forms and names what is wrong with anything else', () => {
  expect(parseCitation('docs/reference.md#stream-layout')).toEqual({ kind: 'repo', path: 'docs/reference.md', fragment: 'stream-layout' });
  expect(parseCitation('commit be12ad45e15b (v6.8-rc1)')).toEqual({ kind: 'commit', id: 'be12ad45e15b', version: 'v6.8-rc1' });
  expect(parseCitation('lore 20240101120000.1-1-author@example.org')).toEqual({ kind: 'lore', messageId: '20240101120000.1-1-author@example.org' });
  expect(parseCitation('the fix series')).toEqual({ error: expect.stringMatching(/^'the fix series' is not a citation \(docs\/<page>\.md#<heading-slug>, commit/) });
  expect(parseCitation('../docs/reference.md#x')).toEqual({ error: expect.stringContaining('without') });
  expect(parseCitation('commit BE12AD45E15B (v6.8)')).toEqual({ error: expect.stringContaining('lower-case') });
});

// citation-scan: on

test('known-defect links and findings references are whole citations that resolve', () => {
  const repo = repoView(REPO_ROOT, listRepoFiles());
  const cites: [string, string][] = [];
  for (const f of listRepoFiles().filter((p) => /^specs\/matrices\/.*\.ya?ml$/.test(p))) {
    const doc = YAML.parse(readFileSync(join(REPO_ROOT, f), 'utf8')) as { known?: Record<string, { link: string }> };
    for (const [id, d] of Object.entries(doc.known ?? {})) cites.push([`${f} known.${id}.link`, d.link]);
  }
  for (const f of listRepoFiles().filter((p) => /^specs\/findings\/.*\.ya?ml$/.test(p))) {
    const doc = YAML.parse(readFileSync(join(REPO_ROOT, f), 'utf8')) as { findings: { id: string; reference?: string[] }[] };
    for (const x of doc.findings) for (const r of x.reference ?? []) cites.push([`${f} ${x.id}.reference`, r]);
  }
  expect(cites.length).toBeGreaterThanOrEqual(12);
  for (const [where, text] of cites) {
    const c = parseCitation(text);
    expect('error' in c ? c.error : null, where).toBeNull();
    if ('error' in c || c.kind !== 'repo') continue;
    expect(repo.has(c.path), where).toBe(true);
    if (c.fragment) expect(repo.anchors(c.path)?.has(c.fragment), `${where}: ${text}`).toBe(true);
  }
});

test('matrix.html and matrix.md link known-defect citations: the repository page from the run folder, or upstream', () => {
  const links = ['docs/reference.md#fix-xqe-dma-address-error', 'commit 8c6ac1730a97 (v7.0)', 'lore 20240101120000.1-1-author@example.org'];
  const records = handGrid().filter((r) => r.known).flatMap((r) =>
    links.map((link, i) => ({ ...r, id: `${r.id}-${i}`, title: `${r.title} ${i}`, known: { ...r.known!, id: `k${i}`, link } })));
  const dir = join(mkdtempSync(join(tmpdir(), 'mc-cite-run-')), 'run-1');
  writeRunFiles(dir, records, { snapshots: () => ({}), history: false });
  const html = readFileSync(join(dir, 'matrix.html'), 'utf8');
  const hrefs = [...html.matchAll(/<a class="cite" href="([^"]+)">([^<]+)<\/a>/g)].map((m) => [m[2], m[1].replace(/&amp;/g, '&')]);
  const byText = new Map(hrefs.map(([t, h]) => [t.replace(/&#39;/g, "'"), h]));
  // the repository page, relative to the run folder, with a heading that exists
  const repoHref = byText.get(links[0])!;
  const [path, frag] = repoHref.split('#');
  expect(resolve(dir, decodeURI(path))).toBe(join(REPO_ROOT, 'docs/reference.md'));
  expect(existsSync(resolve(dir, decodeURI(path)))).toBe(true);
  expect(markdownAnchors(readFileSync(join(REPO_ROOT, 'docs/reference.md'), 'utf8')).has(frag)).toBe(true);
  expect(byText.get(links[1])).toBe('https://git.kernel.org/linus/8c6ac1730a97');
  expect(byText.get(links[2])).toBe('https://lore.kernel.org/r/20240101120000.1-1-author@example.org');
  // matrix.md: the same targets as Markdown links
  const md = readFileSync(join(dir, 'matrix.md'), 'utf8');
  expect(md).toContain(`See [${links[0]}](${repoHref}).`);
  expect(md).toContain(`See [${links[1]}](https://git.kernel.org/linus/8c6ac1730a97).`);
  expect(citationHref({ kind: 'repo', path: 'docs/reference.md', fragment: null }, REPO_ROOT)).toBe('docs/reference.md');
});
