// Declarations by revision and by kernel driver: which cells they cover, and how a cell's status
// follows from its verdict and the declaration.
import { test, expect } from '@playwright/test';
import { cellStatus, knownFor, loadKnown, type KnownViolation } from '../../harness/conformance/known.ts';
import { loadContract } from '../../harness/conformance/contract.ts';
import { CHECK_PARAMS } from '../../harness/conformance/checks/index.ts';

const decl = (k: Partial<KnownViolation>): KnownViolation => ({
  id: 'x', clauses: ['refused-write-never-loaded'], revisions: [], drivers: [], verdict: 'violated', description: 'd', reference: 'commit 190125adcad4 (v6.2)', ...k,
});

test('a declaration covers the revisions it names, and any real device bound to a driver it names', () => {
  const byRev = decl({ id: 'rev', revisions: ['hisi-acc/v6.2'] });
  const byDriver = decl({ id: 'drv', drivers: ['mtty'] });
  const known = [byRev, byDriver];
  expect(knownFor(known, 'refused-write-never-loaded', 'hisi-acc/v6.2')?.id).toBe('rev');
  expect(knownFor(known, 'refused-write-never-loaded', 'mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001', 'mtty')?.id).toBe('drv');
  // the same device with another driver bound, or no driver known: not covered
  expect(knownFor(known, 'refused-write-never-loaded', 'mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001', 'hisi_acc_vfio_pci')).toBeUndefined();
  expect(knownFor(known, 'refused-write-never-loaded', 'mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001')).toBeUndefined();
  // another clause on the declared driver: not covered
  expect(knownFor(known, 'set-returns', 'mdev:83b8f4f2-509f-382f-3c1e-e6bfe0fa1001', 'mtty')).toBeUndefined();
  expect(cellStatus('violated', byDriver)).toBe('known');
  expect(cellStatus('holds', byDriver)).toBe('fixed');
  expect(cellStatus('violated', undefined)).toBe('unexpected');
});

test('the shipped declarations: mtty\'s is by driver, every other by revision', () => {
  const known = loadKnown(undefined, new Set(loadContract(undefined, CHECK_PARAMS).clauses.map((c) => c.id)));
  const mtty = known.find((k) => k.drivers.includes('mtty'));
  expect(mtty).toMatchObject({ id: 'mtty-refused-header-loaded', clauses: ['refused-write-never-loaded'], revisions: [], verdict: 'violated' });
  for (const k of known.filter((x) => x !== mtty)) expect(k.revisions.length, k.id).toBeGreaterThan(0);
});
