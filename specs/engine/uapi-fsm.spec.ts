// docs/reference.md#the-cores-next-step-table: the core's next-step table and one-step algorithm,
// resolved for the two flag sets hisi advertises (0x1 up to v6.1 and on Debian 6.1; 0x5 from v6.2).
import { test, expect } from '@playwright/test';
import { nextStep, resolvePath, walkArcs, isSupported, STATE_FLAGS, WALK_BOUND } from '../../harness/vfio/fsm.ts';
import { HangError } from '../../harness/vfio/driver.ts';
import { MIG_STATE_NAMES, type MigState } from '../../harness/vfio/types.ts';
import { ok } from '../../harness/util/errno.ts';
import { GuestMemory, QmVf } from '../../harness/device/index.ts';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { loadRevision } from '../../harness/drivers/registry.ts';
import { SimClock } from '../../harness/util/clock.ts';
import { Rng } from '../../harness/util/rng.ts';
import { Timeline } from '../../harness/util/timeline.ts';
import { SimVfioDevice } from '../../harness/vfio/sim.ts';

const path = (cur: MigState, target: MigState, flags: number) => {
  const r = resolvePath(cur, target, flags);
  return r.ok ? r.value.join('>') : r.errno;
};

// [request, flags 0x1, flags 0x5] exactly as the table of docs/reference.md#resolved-paths lists them
const G3: [MigState, MigState, string, string][] = [
  ['RUNNING', 'STOP_COPY', 'RUNNING>STOP>STOP_COPY', 'RUNNING>STOP>STOP_COPY'],
  ['RUNNING', 'RESUMING', 'RUNNING>STOP>RESUMING', 'RUNNING>STOP>RESUMING'],
  ['RESUMING', 'RUNNING', 'RESUMING>STOP>RUNNING', 'RESUMING>STOP>RUNNING'],
  ['STOP_COPY', 'RUNNING', 'STOP_COPY>STOP>RUNNING', 'STOP_COPY>STOP>RUNNING'],
  ['STOP_COPY', 'RESUMING', 'STOP_COPY>STOP>RESUMING', 'STOP_COPY>STOP>RESUMING'],
  ['RESUMING', 'STOP_COPY', 'RESUMING>STOP>STOP_COPY', 'RESUMING>STOP>STOP_COPY'],
  ['RUNNING', 'PRE_COPY', 'EINVAL', 'RUNNING>PRE_COPY'],
  ['STOP', 'PRE_COPY', 'EINVAL', 'STOP>RUNNING>PRE_COPY'],
  ['RESUMING', 'PRE_COPY', 'EINVAL', 'RESUMING>STOP>RUNNING>PRE_COPY'],
];

// docs/reference.md#resolved-paths
test.describe('resolved paths', () => {
  for (const [cur, target, p1, p5] of G3) {
    test(`${cur} -> ${target}`, () => {
      expect(path(cur, target, 0x1)).toBe(p1);
      expect(path(cur, target, 0x5)).toBe(p5);
    });
  }
  test('PRE_COPY paths with flags 0x5 (P2P states skipped)', () => {
    expect(path('PRE_COPY', 'STOP_COPY', 0x5)).toBe('PRE_COPY>STOP_COPY');
    expect(path('PRE_COPY', 'STOP', 0x5)).toBe('PRE_COPY>RUNNING>STOP');
    expect(path('PRE_COPY', 'RESUMING', 0x5)).toBe('PRE_COPY>RUNNING>STOP>RESUMING');
    expect(path('STOP_COPY', 'PRE_COPY', 0x5)).toBe('EINVAL'); // table entry is ERROR
  });
  test('P2P states are reached when the device advertises P2P (flags 0x7)', () => {
    expect(path('RUNNING', 'STOP', 0x7)).toBe('RUNNING>RUNNING_P2P>STOP');
    expect(path('PRE_COPY', 'STOP_COPY', 0x7)).toBe('PRE_COPY>PRE_COPY_P2P>STOP_COPY');
  });
});

test.describe('one-step algorithm', () => {
  test('ERROR is never a valid target, whatever the flags', () => {
    for (const flags of [0x1, 0x3, 0x5, 0x7]) for (const s of MIG_STATE_NAMES) expect(nextStep(s, 'ERROR', flags)).toEqual({ ok: false, errno: 'EINVAL' });
  });
  test('states needing flags the device lacks are EINVAL as current or target', () => {
    expect(nextStep('RUNNING', 'RUNNING_P2P', 0x5)).toEqual({ ok: false, errno: 'EINVAL' });
    expect(nextStep('PRE_COPY', 'STOP', 0x1)).toEqual({ ok: false, errno: 'EINVAL' });
    expect(isSupported('PRE_COPY_P2P', 0x5)).toBe(false);
    expect(STATE_FLAGS.PRE_COPY_P2P).toBe(0x7);
  });
  test('same state resolves to an empty walk', () => {
    expect(resolvePath('STOP', 'STOP', 0x1)).toEqual(ok(['STOP']));
  });
  test('every resolved path reaches its target through supported states, within the walk bound', () => {
    const longest: Record<number, number> = {};
    for (const flags of [0x1, 0x3, 0x5, 0x7]) {
      longest[flags] = 0;
      for (const a of MIG_STATE_NAMES) for (const b of MIG_STATE_NAMES) {
        const r = resolvePath(a, b, flags);
        if (!r.ok || a === b) continue; // same state: no step, nothing checked (docs/reference.md#the-cores-next-step-table)
        expect(r.value[r.value.length - 1]).toBe(b);
        expect(r.value.length - 1).toBeLessThanOrEqual(WALK_BOUND);
        for (const s of r.value) expect(isSupported(s, flags)).toBe(true);
        longest[flags] = Math.max(longest[flags], r.value.length - 1);
      }
    }
    // the table of docs/reference.md#resolved-paths: at most 2 arcs without PRE_COPY, 3 with it
    // (RESUMING→STOP→RUNNING→PRE_COPY)
    expect(longest[0x1]).toBe(2);
    expect(longest[0x5]).toBe(3);
  });
});

test.describe('driver walk', () => {
  test('a failed arc leaves the state where the arc started', () => {
    let state: MigState = 'RUNNING';
    const seen: string[] = [];
    const r = walkArcs<number>({
      get: () => state, set: (s) => { state = s; }, flags: 0x5, where: 't',
      arc: (from, to) => (seen.push(`${from}>${to}`), to === 'STOP_COPY' ? { ok: false, errno: 'EIO' } : ok(null)),
    }, 'STOP_COPY');
    expect(r).toEqual({ ok: false, errno: 'EIO' });
    expect(seen).toEqual(['RUNNING>STOP', 'STOP>STOP_COPY']);
    expect(state).toBe('STOP');
  });
  test('the data fd comes from the final arc; an fd opened mid-path is EINVAL', () => {
    let state: MigState = 'RUNNING';
    const okFd = walkArcs<number>({ get: () => state, set: (s) => { state = s; }, flags: 0x1, where: 't',
      arc: (_f, to) => ok(to === 'STOP_COPY' ? 7 : null) }, 'STOP_COPY');
    expect(okFd).toEqual(ok(7));
    state = 'RUNNING';
    const mid = walkArcs<number>({ get: () => state, set: (s) => { state = s; }, flags: 0x1, where: 't',
      arc: (_f, to) => ok(to === 'STOP' ? 3 : null) }, 'STOP_COPY');
    expect(mid).toEqual({ ok: false, errno: 'EINVAL' });
  });
  test('an implementation whose state never moves is a hang with its arcs, not a real hang', () => {
    let state: MigState = 'RUNNING';
    let err: unknown;
    try {
      walkArcs<number>({ get: () => state, set: () => {}, flags: 0x1, where: 'stuck driver', arc: () => ok(null) }, 'STOP');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HangError);
    expect((err as HangError).arcs.length).toBe(8);
    expect((err as HangError).arcs[0]).toBe('RUNNING->STOP');
    expect(state).toBe('RUNNING');
  });
});

test.describe('the core per kernel (vfioCore)', () => {
  const hangOf = (f: () => unknown): HangError | null => {
    try {
      f();
      return null;
    } catch (e) {
      if (e instanceof HangError) return e;
      throw e;
    }
  };
  test('skip-loop (v6.2 until the fix): STOP_COPY -> PRE_COPY(_P2P) never returns on a PRE_COPY device', () => {
    expect(hangOf(() => nextStep('STOP_COPY', 'PRE_COPY', 0x5, 'skip-loop'))?.where).toMatch(/skip loop cycles at ERROR for STOP_COPY->PRE_COPY/);
    expect(hangOf(() => nextStep('STOP_COPY', 'PRE_COPY_P2P', 0x7, 'skip-loop'))).not.toBeNull();
    expect(hangOf(() => resolvePath('STOP_COPY', 'PRE_COPY', 0x5, 'skip-loop'))).not.toBeNull();
    // without PRE_COPY in the flags the target check refuses first: no loop at all
    expect(nextStep('STOP_COPY', 'PRE_COPY', 0x1, 'skip-loop')).toEqual({ ok: false, errno: 'EINVAL' });
  });
  test('fixed-loop stops at ERROR: the same requests fail with EINVAL', () => {
    expect(nextStep('STOP_COPY', 'PRE_COPY', 0x5, 'fixed-loop')).toEqual({ ok: false, errno: 'EINVAL' });
    expect(nextStep('STOP_COPY', 'PRE_COPY_P2P', 0x7, 'fixed-loop')).toEqual({ ok: false, errno: 'EINVAL' });
  });
  test('no-precopy (up to 6.1) knows six states: PRE_COPY is EINVAL whatever the flags', () => {
    expect(nextStep('RUNNING', 'PRE_COPY', 0x5, 'no-precopy')).toEqual({ ok: false, errno: 'EINVAL' });
    expect(nextStep('PRE_COPY', 'RUNNING', 0x5, 'no-precopy')).toEqual({ ok: false, errno: 'EINVAL' });
  });
  test('everywhere else the three cores walk the same arcs', () => {
    for (const flags of [0x1, 0x3, 0x5, 0x7]) for (const a of MIG_STATE_NAMES) for (const b of MIG_STATE_NAMES) {
      const fixed = resolvePath(a, b, flags, 'fixed-loop');
      const skip = hangOf(() => resolvePath(a, b, flags, 'skip-loop')) ?? resolvePath(a, b, flags, 'skip-loop');
      const blocked = a === 'STOP_COPY' && (b === 'PRE_COPY' || b === 'PRE_COPY_P2P') && isSupported(b, flags);
      if (blocked) expect(skip).toBeInstanceOf(HangError);
      else expect(skip).toEqual(fixed);
      const six = (s: MigState) => s !== 'PRE_COPY' && s !== 'PRE_COPY_P2P';
      if (six(a) && six(b)) expect(resolvePath(a, b, flags, 'no-precopy')).toEqual(fixed);
    }
  });
  test('a revision model walks with its kernel core: on v7.0 the SET hangs before any arc, recorded as HANG', () => {
    const rev = loadRevision('v7.0');
    expect(rev.traits?.vfioCore).toBe('skip-loop');
    const clock = new SimClock();
    const tl = new Timeline(clock);
    const host = new QmVf({ config: DEFAULT_DEVICE, memory: new GuestMemory(1), clock, timeline: tl, side: 'src', rng: new Rng(1) });
    const dev = new SimVfioDevice('vf', rev.bind({ host, config: DEFAULT_DEVICE, timeline: tl, side: 'src' }), tl, 'src');
    expect(dev.setState('STOP_COPY').ok).toBe(true);
    const e = hangOf(() => dev.setState('PRE_COPY'));
    expect(e?.where).toMatch(/vfio_mig_get_next_state \(skip-loop\)/);
    expect(e?.arcs).toEqual([]);
    expect(tl.events.at(-1)).toMatchObject({ kind: 'set-state', errno: 'HANG' });
  });
});
