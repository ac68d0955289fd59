// Which folder of harness/ may import which (docs/layering.md), checked by dependency-cruiser in
// `npm test` (`npm run layering`). Floors from the bottom: a folder may import its own files, every
// folder on a lower floor, and the same-floor folders SIDEWAYS lists for it (one way only, so two
// folders never import each other). runners/ with its subfolders (qemu, lab, vfio-host,
// kernel-guest, …) is one folder. specs/ and bench/ may import anything; the product never imports them.
// A new folder under harness/ gets a floor here before it gets code.
const FLOORS = [
  ['util'],
  ['oracle', 'device', 'formats', 'kbuild'],
  ['vfio', 'guest'],
  ['drivers', 'transfer'],
  ['runners', 'ktree'],
  ['matrix', 'report', 'fuzz', 'conformance'],
  ['cli'],
];

const SIDEWAYS = {
  // ktree runs the sim runner's cases and checks on real code; the runners reach ktree only
  // through the executor ktree installs (runners/isolation.ts)
  ktree: ['runners'],
  // the grid reads matrix cases, ranks and revision facts
  report: ['matrix'],
  // fuzz findings are written as repro bundles; the uapi property's oracle is the conformance monitor
  fuzz: ['report', 'conformance'],
  // violations are written as repro bundles (with the matrix's profile snapshots) and the run's
  // matrix page gets its link
  conformance: ['report', 'matrix'],
};

const folders = FLOORS.flat();
const floorOf = (f) => FLOORS.findIndex((floor) => floor.includes(f));
const any = (list) => `^harness/(${list.join('|')})/`;

const layerRules = folders.flatMap((f) => {
  const n = floorOf(f);
  const below = folders.filter((g) => floorOf(g) < n);
  const allowed = [f, ...(SIDEWAYS[f] ?? []), ...below];
  const upward = folders.filter((g) => floorOf(g) > n);
  const sideways = FLOORS[n].filter((g) => !allowed.includes(g));
  const comment = `harness/${f} is on floor ${n} (${FLOORS.map((fl) => fl.join('/')).join(' -> ')}); it may import ${allowed.join(', ')}. ` +
    'Move the shared piece down, or let the upper layer install a hook (docs/layering.md)';
  const rules = [];
  if (upward.length) rules.push({ name: `${f}-imports-upward`, comment, severity: 'error', from: { path: `^harness/${f}/` }, to: { path: any(upward) } });
  if (sideways.length) rules.push({ name: `${f}-imports-sideways`, comment, severity: 'error', from: { path: `^harness/${f}/` }, to: { path: any(sideways) } });
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'folder-without-floor',
      comment: 'every folder of harness/ has a floor in .dependency-cruiser.cjs FLOORS (docs/layering.md)',
      severity: 'error',
      from: { path: '^harness/', pathNot: any(folders) },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'modules import each other in a circle (type-only imports count): break it by moving the shared piece down',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'product-imports-tests',
      comment: 'harness/ never imports specs/ or bench/: a helper only tests use lives under specs/',
      severity: 'error',
      from: { path: '^harness/' },
      to: { path: '^(specs|bench)/' },
    },
    {
      name: 'product-imports-test-runner',
      comment: 'only the reporters (harness/report) use Playwright Test; a test body or helper lives under specs/',
      severity: 'error',
      from: { path: '^harness/', pathNot: '^harness/report/' },
      to: { path: '^node_modules/@playwright/test/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing (a typo, or a file that moved)',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // TypeScript 7 (the Go compiler) has no JS API, so dependency-cruiser parses .ts with swc; every
    // import counts, `import type` included
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^harness/formats/generated/' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
      conditionNames: ['import', 'require', 'node', 'default'],
      exportsFields: ['exports'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
