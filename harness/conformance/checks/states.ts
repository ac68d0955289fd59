// Checks on the state machine itself: the flags, every request from every state, reset from every
// state, the state staying put without a request, MIG_DATA_SIZE in every state, and ERROR.
import { MIG_STATE_NAMES, type MigState } from '../../vfio/types.ts';
import { Precondition, type CheckContext } from '../engine.ts';
import type { Session } from '../session.ts';
import { requestableStates, sessionKind, supportedStates } from '../uapiText.ts';
import { bool, known, listOf, states, type StateSel } from './params.ts';
import { SPOILERS, SPOILER_NAMES, reach, resumeWith, touch, type Spoiler } from './steps.ts';

function targetsOf(ctx: CheckContext, sel: StateSel): MigState[] {
  const sup = supportedStates(ctx.flags);
  if (sel === 'all') return [...MIG_STATE_NAMES];
  if (sel === 'requestable') return requestableStates(ctx.flags);
  if (sel === 'unadvertised') return MIG_STATE_NAMES.filter((s) => !sup.has(s));
  return sel;
}

/** GET MIGRATION: the preamble of every scenario is the whole check. */
export const flagsCheck = {
  validate: (p: Record<string, unknown>) => known(p, []),
  run(ctx: CheckContext) {
    ctx.scenario('GET MIGRATION', () => {});
  },
};

/** Every request (targets) from every state the clause concerns, each on a fresh device. */
export const requestsCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['targets', 'twice']);
    states(p, 'targets', 'all');
    bool(p, 'twice', false);
  },
  run(ctx: CheckContext) {
    const targets = targetsOf(ctx, states(ctx.params, 'targets', 'all'));
    if (!targets.length) ctx.na('no state is left out by these flags');
    const twice = bool(ctx.params, 'twice', false);
    for (const from of ctx.states) {
      for (const to of targets) {
        ctx.scenario(`${from} → ${to}`, (s) => {
          if (from !== 'RUNNING') reach(s, from);
          s.set(to);
          if (twice) s.set(to);
          s.get();
        });
      }
    }
  },
};

/** VFIO_DEVICE_RESET from every state, with the session's fd touched before and used after. */
export const resetCheck = {
  validate: (p: Record<string, unknown>) => known(p, []),
  run(ctx: CheckContext) {
    for (const from of ctx.states) {
      ctx.scenario(`reset in ${from}`, (s) => {
        const fd = from === 'RUNNING' ? null : reach(s, from);
        const kind = sessionKind(from);
        if (fd !== null && kind) touch(s, fd, kind);
        s.reset();
        s.get();
        if (fd !== null && kind) touch(s, fd, kind);
        s.set('STOP');
        s.get();
      });
    }
  },
};

/** The state stays as the last request left it across every other call. */
export const quietCheck = {
  validate: (p: Record<string, unknown>) => known(p, []),
  run(ctx: CheckContext) {
    for (const st of ctx.states) {
      ctx.scenario(`calls in ${st}`, (s) => {
        const fd = st === 'RUNNING' ? null : reach(s, st);
        s.get();
        s.size();
        s.get();
        const kind = sessionKind(st);
        if (fd !== null && kind) {
          touch(s, fd, kind);
          s.get();
          s.info(fd);
          s.get();
        }
      });
    }
  },
};

/** GET MIG_DATA_SIZE in every state (where the device has the feature). */
export const dataSizeCheck = {
  validate: (p: Record<string, unknown>) => known(p, []),
  run(ctx: CheckContext) {
    const probe = ctx.scenario('GET MIG_DATA_SIZE in RUNNING', (s) => {
      s.size();
    });
    if (probe.session.steps.at(-1)?.res === 'ENOTTY') ctx.na('the device has no VFIO_DEVICE_FEATURE_MIG_DATA_SIZE (ENOTTY; the feature came with v6.2)');
    for (const st of ctx.states) {
      ctx.scenario(`GET MIG_DATA_SIZE in ${st}`, (s) => {
        s.size();
        if (st !== 'RUNNING') reach(s, st);
        s.size();
      });
    }
  },
};

/**
 * Try to drive the device into ERROR with requests and with bad data at RESUMING→STOP; where it
 * gets there, every request must fail and VFIO_DEVICE_RESET must bring it back to RUNNING.
 */
export const errorStateCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['spoilers']);
    listOf(p, 'spoilers', SPOILER_NAMES, ['invert-head', 'invert-all']);
  },
  run(ctx: CheckContext) {
    const spoilers = listOf(ctx.params, 'spoilers', SPOILER_NAMES, ['invert-head', 'invert-all']) as Spoiler[];
    const own = ctx.ownStream();
    const provocations: { label: string; go: (s: Session) => void }[] = [];
    for (const sp of spoilers) {
      provocations.push({ label: `${sp} stream then RESUMING→STOP`, go: (s) => {
        // a VMM would abort after a refused write; going on is what may push a driver into ERROR
        resumeWith(s, SPOILERS[sp](own), [own.length / 2], 'invalid');
        s.set('STOP');
      } });
    }
    provocations.push({ label: 'empty RESUMING→RUNNING', go: (s) => {
      reach(s, 'RESUMING');
      s.set('RUNNING');
    } });
    for (const from of ctx.states) for (const to of requestableStates(ctx.flags)) {
      provocations.push({ label: `${from} → ${to}`, go: (s) => {
        if (from !== 'RUNNING') reach(s, from);
        s.set(to);
      } });
    }
    let reached = 0;
    for (const p of provocations) {
      ctx.scenario(`ERROR after ${p.label}`, (s) => {
        p.go(s);
        if (s.monitor.now !== 'ERROR') throw new Precondition('the device did not enter ERROR');
        reached++;
        for (const to of requestableStates(ctx.flags)) s.set(to);
        s.reset();
        s.get();
      });
    }
    if (!reached) ctx.na(`no scenario left the device in ERROR (${provocations.length} tried: failed requests and bad data at RESUMING→STOP)`);
  },
};
