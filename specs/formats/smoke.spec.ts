import { test, expect } from '@playwright/test';
import { hex64 } from '../../harness/util/hex.ts';

test('64-bit values render exactly', () => {
  expect(hex64(0xcdcdcdcdfeedaaccn)).toBe('0xcdcdcdcdfeedaacc');
});
