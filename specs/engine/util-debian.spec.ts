// Debian version ordering and series matching: what picks "the newest 6.1 point release apt serves".
import { expect, test } from '@playwright/test';
import { compareDebianVersions, inSeries, upstreamOf } from '../../harness/util/debian.ts';

test('Debian versions order like dpkg --compare-versions', () => {
  const sorted = ['6.1.192-3', '6.1.176-1', '6.1.192-2', '1:7.2+dfsg-7+deb12u15', '6.12.118-1~deb12u1', '6.12.118-1', '6.1.9-1', '6.1.192~rc1-1']
    .sort(compareDebianVersions);
  expect(sorted).toEqual(['6.1.9-1', '6.1.176-1', '6.1.192~rc1-1', '6.1.192-2', '6.1.192-3', '6.12.118-1~deb12u1', '6.12.118-1', '1:7.2+dfsg-7+deb12u15']);
  expect(compareDebianVersions('1:7.2+dfsg-7+deb12u18+b3', '1:7.2+dfsg-7+deb12u18')).toBeGreaterThan(0);
  expect(compareDebianVersions('2.0', '2.0')).toBe(0);
  expect(compareDebianVersions('1.0a', '1.0+')).toBeLessThan(0); // letters sort before other symbols
});

test('a series holds its point releases and nothing else', () => {
  expect(inSeries('6.1.192-3', '6.1')).toBe(true);
  expect(inSeries('6.12.118-1~deb12u1', '6.1')).toBe(false);
  expect(inSeries('6.12.118-1~deb12u1', '6.12')).toBe(true);
  expect(inSeries('1:7.2+dfsg-7', '7.2')).toBe(true);
  expect(upstreamOf('1:7.2+dfsg-7+deb12u18+b3')).toBe('7.2+dfsg');
});
