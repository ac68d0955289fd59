// Checks on the resume side: what RESUMING→STOP does with valid, incomplete and invalid data, data a
// write() refused, a second resume session, a stream from a device of another identity, and the
// same stream written in other segmentations.
import type { CheckContext } from '../engine.ts';
import { Precondition } from '../engine.ts';
import type { WriteData } from '../commands.ts';
import type { Session } from '../session.ts';
import { bool, chunkings, int, known, listOf, oneOf, piecesOf } from './params.ts';
import { SPOILERS, SPOILER_NAMES, abortResume, loadOwn, peerStreams, prefixLengths, reachSession, resumeWith, type Spoiler } from './steps.ts';

const LEAVE = ['STOP', 'RUNNING'] as const;
const RESUME_VARIANTS = ['own', 'empty', 'prefixes', 'invalid'] as const;

/** RESUMING, data written, then RESUMING→STOP (or →RUNNING, through STOP): valid loads, anything else fails. */
export const resumeDataCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['variants', 'maxPrefixes', 'spoilers', 'leaveTo']);
    listOf(p, 'variants', RESUME_VARIANTS, RESUME_VARIANTS);
    int(p, 'maxPrefixes', 256, 1);
    listOf(p, 'spoilers', SPOILER_NAMES, ['invert-head', 'invert-all']);
    listOf(p, 'leaveTo', LEAVE, ['STOP']);
  },
  run(ctx: CheckContext) {
    const p = ctx.params;
    const own = ctx.ownStream();
    const n = own.length / 2;
    const variants = listOf(p, 'variants', RESUME_VARIANTS, RESUME_VARIANTS);
    const leaves = listOf(p, 'leaveTo', LEAVE, ['STOP']);
    for (const leave of leaves) {
      const attempt = (label: string, hex: string, data: WriteData) => ctx.scenario(`${label}, then ${leave}`, (s) => {
        const { refused } = resumeWith(s, hex, hex ? [hex.length / 2] : [], data, n);
        if (refused) return abortResume(s); // a VMM stops at a refused write (that case is refused-write-never-loaded's)
        s.set(leave);
      });
      if (variants.includes('own')) attempt(`own ${n}-byte stream in one write`, own, 'stream');
      if (variants.includes('empty')) attempt('no data written', '', 'prefix');
      // every prefix once, leaving by the first way (RESUMING→RUNNING walks through the same RESUMING→STOP)
      if (variants.includes('prefixes') && leave === leaves[0]) {
        for (const len of prefixLengths(n, int(p, 'maxPrefixes', 256, 1))) if (len > 0) attempt(`first ${len} of ${n} bytes`, own.slice(0, 2 * len), 'prefix');
      }
      if (variants.includes('invalid')) {
        for (const sp of listOf(p, 'spoilers', SPOILER_NAMES, ['invert-head', 'invert-all']) as Spoiler[]) attempt(`own stream with ${sp}`, SPOILERS[sp](own), 'invalid');
      }
    }
  },
};

const SPLITS = ['whole', 'half'] as const;
const AFTER = ['go-on', 'stop'] as const;

/** A write() refused bad data: whether the VMM goes on writing or goes to STOP, nothing loads. */
export const refusedWriteCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['spoilers', 'foreign', 'splits', 'after']);
    listOf(p, 'spoilers', SPOILER_NAMES, ['invert-head']);
    bool(p, 'foreign', true);
    listOf(p, 'splits', SPLITS, SPLITS);
    listOf(p, 'after', AFTER, AFTER);
  },
  run(ctx: CheckContext) {
    const p = ctx.params;
    const own = ctx.ownStream();
    const data: { label: string; hex: string; kind: WriteData }[] = (listOf(p, 'spoilers', SPOILER_NAMES, ['invert-head']) as Spoiler[])
      .map((sp) => ({ label: `own stream with ${sp}`, hex: SPOILERS[sp](own), kind: 'invalid' as const }));
    if (bool(p, 'foreign', true)) {
      for (const x of peerStreams(ctx)) data.push({ label: `stream of ${x.name}`, hex: x.hex, kind: 'foreign' });
    }
    let refusals = 0;
    for (const d of data) {
      const len = d.hex.length / 2;
      for (const split of listOf(p, 'splits', SPLITS, SPLITS)) {
        const pieces = split === 'whole' ? [len] : piecesOf(len, 'half');
        for (const after of listOf(p, 'after', AFTER, AFTER)) {
          if (after === 'go-on' && pieces.length < 2) continue;
          ctx.scenario(`${d.label} in ${pieces.join('+')} bytes, refused, then ${after === 'stop' ? 'STOP' : 'the rest written and STOP'}`, (s) => {
            const fd = reachSession(s, 'RESUMING');
            let refused = false;
            let o = 0;
            for (const k of pieces) {
              if (refused && after === 'stop') break;
              const w = s.write(fd, d.hex.slice(2 * o, 2 * (o + k)), d.kind);
              o += k;
              if (w.res !== 'ok') refused = true;
            }
            if (!refused) throw new Precondition('write() accepted the data');
            refusals++;
            s.set('STOP');
          });
        }
      }
    }
    if (!refusals) ctx.na('this device refuses no data at write() (its checks run at RESUMING→STOP: see resume-stop-validates)');
  },
};

const BETWEEN = ['same-open', 'reset', 'reopen'] as const;

/** A first session loads the device's own stream; a second one (after `between`) gets bad data. */
export const secondSessionCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['between', 'spoiler']);
    listOf(p, 'between', BETWEEN, BETWEEN);
    oneOf(p, 'spoiler', SPOILER_NAMES, 'invert-head');
  },
  run(ctx: CheckContext) {
    const own = ctx.ownStream();
    const sp = oneOf(ctx.params, 'spoiler', SPOILER_NAMES, 'invert-head');
    const bad = SPOILERS[sp](own);
    const n = own.length / 2;
    const secondTry = (s: Session) => {
      const { refused } = resumeWith(s, bad, [n], 'invalid');
      if (refused) return abortResume(s);
      s.set('STOP');
    };
    // the clause compares with a first session: it must refuse this data
    const first = ctx.scenario(`a first session with own stream with ${sp}`, secondTry);
    const loaded = first.session.steps.some((st) => st.cmd.op === 'set' && st.cmd.target === 'STOP' && st.res === 'ok');
    if (loaded) ctx.na(`a first session already loads the ${sp} stream (see resume-stop-validates), so a second one cannot be compared with it`);
    for (const between of listOf(ctx.params, 'between', BETWEEN, BETWEEN)) {
      ctx.scenario(`own stream loaded, ${between === 'same-open' ? 'same open' : between}, then own stream with ${sp}`, (s) => {
        loadOwn(s, own);
        if (between === 'reset') s.reset();
        if (between === 'reopen') s.reopen();
        secondTry(s);
      });
    }
  },
};

/** A stream saved by a device of another identity: refused at write() or at RESUMING→STOP. */
export const incompatibleCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['leaveTo']);
    listOf(p, 'leaveTo', LEAVE, ['STOP']);
  },
  run(ctx: CheckContext) {
    const peers = peerStreams(ctx);
    if (!peers.length) ctx.na('no device of another identity to take a stream from (kernel devices: name them with --peer)');
    for (const leave of listOf(ctx.params, 'leaveTo', LEAVE, ['STOP'])) {
      for (const x of peers) {
        ctx.scenario(`stream of ${x.name}, then ${leave}`, (s) => {
          const { refused } = resumeWith(s, x.hex, [x.hex.length / 2], 'foreign');
          if (refused) return abortResume(s);
          s.set(leave);
        });
      }
    }
  },
};

/**
 * The device's own stream written in other segmentations loads as in one write, and the device
 * then saves what it saves after a one-write load (when two one-write loads agree on that).
 */
export const segmentationCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['chunkings']);
    chunkings(p, 'chunkings', ['1', 'half', 'every:7']);
  },
  run(ctx: CheckContext) {
    const own = ctx.ownStream();
    const n = own.length / 2;
    const resaves: (string | null)[] = [];
    for (const k of [1, 2]) {
      let out = null as string | null;
      const r = ctx.scenario(`reference ${k}: one write, STOP, save again`, (s) => {
        loadOwn(s, own);
        const fd = reachSession(s, 'STOP_COPY');
        out = s.readToEnd(fd);
      });
      if (r.kind === 'skipped') ctx.na(`the device does not load its own stream in one write (${r.why}); see resume-stop-validates`);
      resaves.push(out);
    }
    const ref = resaves[0] !== null && resaves[0] === resaves[1] ? resaves[0] : null;
    if (!ref) ctx.note('two one-write loads do not save the same stream again: only the loads are compared');
    for (const how of chunkings(ctx.params, 'chunkings', ['1', 'half', 'every:7'])) {
      const pieces = piecesOf(n, how);
      if (pieces.length < 2) continue;
      ctx.scenario(`own stream in ${how === 'half' || how.startsWith('every') ? how : `${how} bytes + the rest`} (${pieces.length} writes)`, (s) => {
        const fd = reachSession(s, 'RESUMING');
        let o = 0;
        for (const k of pieces) {
          s.write(fd, own.slice(2 * o, 2 * (o + k)), 'stream', n);
          o += k;
        }
        s.set('STOP');
        if (!ref) return;
        const st = s.set('STOP_COPY', { hex: ref, clause: ctx.clause.id, why: 'what the device saves after the same stream was loaded in one write' });
        if (st.opened !== undefined) s.readToEnd(st.opened);
      });
    }
  },
};
