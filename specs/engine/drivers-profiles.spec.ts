// Revision profiles: YAML validation, the registry API, and each revision's traits against the
// table of docs/reference.md#revisions-at-a-glance (one row per revision).
import { test, expect } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRevisions, loadRevision, registerRevision, unregisterRevision } from '../../harness/drivers/registry.ts';
import { parseRevisionYaml } from '../../harness/drivers/yaml.ts';
import { ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2 } from '../../harness/formats/accVfData.ts';
import { UsageError } from '../../harness/util/usage-error.ts';
import { ok } from '../../harness/util/errno.ts';
import { checkStream } from '../../harness/runners/simCheck.ts';
import { streamFrom } from './drivers-helpers.ts';

const IDS = ['hisi-acc/debian-6.1.192', 'hisi-acc/debian-6.12.118', 'hisi-acc/proposal-2024', 'hisi-acc/v5.18', 'hisi-acc/v6.2', 'hisi-acc/v6.8',
  'hisi-acc/v6.16', 'hisi-acc/v6.19', 'hisi-acc/v7.0'];

test('every required revision id is listed, as a model with complete traits', () => {
  const ids = listRevisions().map((r) => r.id);
  for (const id of IDS) expect(ids).toContain(id);
  for (const id of IDS) expect(loadRevision(id).kind).toBe('model');
  expect(loadRevision('v6.16').id).toBe('hisi-acc/v6.16'); // short ids resolve
});

// docs/reference.md#revisions-at-a-glance: magic written, accepted, XQC, PRE_COPY, doorbell on save, NULL guard, check timing, fd offset
const TABLE: Record<string, [bigint, string, string, boolean, boolean, boolean, string, string]> = {
  'hisi-acc/v5.18': [ACC_DEV_MAGIC_V1, 'V1', 'buggy', false, false, false, 'resuming-stop', 'buffer-start'],
  'hisi-acc/v6.2': [ACC_DEV_MAGIC_V1, 'V1', 'buggy', true, false, false, 'write', 'buffer-start'],
  'hisi-acc/v6.8': [ACC_DEV_MAGIC_V1, 'V1', 'buggy', true, false, false, 'write', 'f-pos'],
  'hisi-acc/v6.16': [ACC_DEV_MAGIC_V2, 'V2,V1', 'fixed', true, true, true, 'write', 'f-pos'],
  'hisi-acc/v6.19': [ACC_DEV_MAGIC_V2, 'V2,V1', 'fixed', true, true, true, 'write', 'f-pos'],
  'hisi-acc/v7.0': [ACC_DEV_MAGIC_V2, 'V2,V1', 'fixed', true, true, true, 'write', 'f-pos'],
  'hisi-acc/debian-6.1.192': [ACC_DEV_MAGIC_V2, 'V2,V1', 'fixed', false, true, true, 'resuming-stop', 'buffer-start'],
  'hisi-acc/debian-6.12.118': [ACC_DEV_MAGIC_V2, 'V2,V1', 'fixed', true, true, true, 'write', 'f-pos'],
};
const name = (m: bigint) => (m === ACC_DEV_MAGIC_V1 ? 'V1' : m === ACC_DEV_MAGIC_V2 ? 'V2' : '0x' + m.toString(16));

for (const [id, [magic, accepts, xqc, pre, db, guard, at, off]] of Object.entries(TABLE)) {
  test(`${id} traits match its row of the revisions table`, () => {
    const t = loadRevision(id).traits!;
    expect(t.write.magic).toBe(magic);
    expect(t.accept.map((r) => name(r.magic)).join(',')).toBe(accepts);
    expect([t.xqcCompose, t.preCopy, t.xeqcDoorbellsOnSave, t.nullDmaGuard, t.matchCheck, t.fdOffset]).toEqual([xqc, pre, db, guard, at, off]);
  });
}

// docs/reference.md#fix-history
test('fix-series traits land in the revisions the fix history names', () => {
  const t = (id: string) => loadRevision(id).traits!;
  expect(t('v6.8').cacheWriteback).toBe('save');
  expect(t('v6.16').cacheWriteback).toBe('stop');
  expect(t('debian-6.1.192').cacheWriteback).toBe('save'); // #3 not backported
  expect(t('v6.16').closeReleasesFds).toBe(true);
  expect(t('debian-6.1.192').closeReleasesFds).toBe(false); // #4 not backported
  expect(t('v6.19').matchDoneCleared).toBe('never');
  expect(t('v7.0').matchDoneCleared).toBe('open');
  expect(t('v6.19').resetDoneGate).toBe('flags-exactly-stop-copy');
  expect(t('v7.0').resetDoneGate).toBe('migration-ops');
  expect(t('debian-6.1.192').resetDoneGate).toBe('migration-ops');
  expect(t('v6.16').pfCtrlMode).toBe(false);
  expect(t('v6.19').pfCtrlMode).toBe(true);
  expect(t('v6.16').write.major).toBe(1);
});

test('Debian 6.12.118 (read from its code): upstream 6.12 with the 2025 stream fixes, the reset_done gate, legacy errnos, the fixed core', () => {
  const t = loadRevision('debian-6.12.118').traits!;
  expect([t.cacheWriteback, t.closeReleasesFds, t.initialVfQmState, t.vfStateWrite, t.startIfcEnable]).toEqual(['stop', true, 'not-ready', 'load', true]);
  expect([t.resetDoneGate, t.matchDoneCleared, t.errnos, t.pfCtrlMode, t.vftReadAtOpen]).toEqual(['migration-ops', 'never', 'legacy', false, false]);
  expect([t.dataSizeFeature, t.vfioCore]).toEqual([true, 'fixed-loop']);
  // the cores by kernel: up to 6.1 six states, v6.2..v7.1 the skip loop, the fix for v7.2 and in Debian 6.12.96+
  const core = (id: string) => loadRevision(id).traits!.vfioCore;
  expect(['v5.18', 'debian-6.1.192'].map(core)).toEqual(['no-precopy', 'no-precopy']);
  expect(['v6.2', 'v6.8', 'proposal-2024', 'v6.16', 'v6.19', 'v7.0'].map(core)).toEqual(Array(6).fill('skip-loop'));
});

test.describe('YAML validation names the file and the key', () => {
  const base = (traits: string) => `id: test/x\ntitle: t\nkernel: k\nextends: hisi-acc/v6.16\ntraits:\n${traits}`;
  const err = (text: string) => {
    try {
      parseRevisionYaml(text, 'my.yaml');
      return 'no error';
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as Error).message;
    }
  };
  test('unknown trait', () => expect(err(base('  fdOfset: f-pos\n'))).toMatch(/^my\.yaml: traits\.fdOfset: unknown key \(expected one of write, accept, /));
  test('wrong enum value', () => expect(err(base('  fdOffset: sometimes\n'))).toMatch(/^my\.yaml: traits\.fdOffset: expected one of buffer-start, f-pos/));
  test('wrong type', () => expect(err(base('  preCopy: "yes"\n'))).toMatch(/^my\.yaml: traits\.preCopy: expected true or false/));
  test('unknown top-level key', () => expect(err('id: a\ntitle: t\nkernel: k\ntrait: {}\n')).toMatch(/^my\.yaml: trait: unknown key \(expected one of id, title, kernel, extends, traits\)$/));
  test('missing trait without extends', () => expect(err('id: a\ntitle: t\nkernel: k\ntraits:\n  preCopy: true\n')).toMatch(/^my\.yaml: traits\.write: missing/));
  test('missing title', () => expect(err('id: a\nkernel: k\nextends: hisi-acc/v6.16\n')).toMatch(/^my\.yaml: title: missing/));
  test('bad accept rule key', () => expect(err(base('  accept:\n    - { magic: V2, majr: [1] }\n'))).toMatch(/^my\.yaml: traits\.accept\[0\]\.majr: unknown key/));
  test('64-bit magic as an unquoted number stays exact', () => {
    const p = parseRevisionYaml(base('  write: { magic: 0xAACCFEEDDECADEDF }\n'), 'my.yaml');
    expect(p.traits.write!.magic).toBe(0xaaccfeeddecadedfn);
  });
  test('malformed YAML', () => expect(err('id: [\n')).toMatch(/^my\.yaml: invalid YAML/));
});

test('a user revision in YAML loads by path, extends a profile, and behaves by its traits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'migcompat-rev-'));
  const file = join(dir, 'future-2.0.yaml');
  writeFileSync(file, [
    'id: hisi-acc/future-2.0', 'title: hypothetical major 2', 'kernel: none', 'extends: hisi-acc/v7.0', 'traits:',
    '  write: { magic: V2, major: 2, minor: 0 }', '  accept:', '    - { magic: V2, major: [1, 2] }', '',
  ].join('\n'));
  const rev = loadRevision(file);
  expect(rev.id).toBe('hisi-acc/future-2.0');
  expect(rev.source).toBe(file);
  expect(listRevisions().map((r) => r.id)).toContain('hisi-acc/future-2.0');
  const s20 = streamFrom(file);
  expect(checkStream({ rev: 'v7.0', stream: s20 })).toMatchObject({ accepted: false, errno: 'EFAULT', stage: 'write' }); // major 2 refused
  expect(checkStream({ rev: file, stream: streamFrom('v7.0') }).accepted).toBe(true); // new accepts old
  expect(checkStream({ rev: file, stream: streamFrom('v5.18') }).errno).toBe('EFAULT'); // it dropped V1
  unregisterRevision('hisi-acc/future-2.0');
});

test('an external implementation registers and is used like a model', () => {
  let opened = 0;
  registerRevision({
    id: 'ext:stub', title: 'stub', kernel: 'none', kind: 'external', source: 'test',
    bind: () => ({
      migrationFlags: 1, open: () => void opened++, close: () => {}, getState: () => 'RUNNING',
      setState: () => ({ ok: false, errno: 'EIO' }), dataSize: () => ({ ok: false, errno: 'ENOTTY' }), reset: () => ok(undefined),
    }),
  });
  expect(() => registerRevision({ ...loadRevision('ext:stub') })).toThrow(/already registered/);
  const r = checkStream({ rev: 'ext:stub', stream: streamFrom('v6.16') });
  expect(opened).toBe(1);
  expect(r).toMatchObject({ accepted: false, errno: 'EIO', stage: 'set-resuming' });
  unregisterRevision('ext:stub');
  expect(() => loadRevision('ext:stub')).toThrow(/unknown revision 'ext:stub'/);
});
