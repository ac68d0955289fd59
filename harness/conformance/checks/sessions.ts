// Checks on data transfer sessions: when they end, the saving group's one session, which way data
// flows, how a save stream ends in STOP_COPY and in PRE_COPY, PRECOPY_INFO, and reads that must
// continue where the last one ended.
import type { MigState } from '../../vfio/types.ts';
import type { CheckContext } from '../engine.ts';
import type { Session } from '../session.ts';
import { requestableStates, sessionKind, supportedStates } from '../uapiText.ts';
import { bool, int, known, listOf, sizeLists } from './params.ts';
import { loadOwn, reachSession, touch } from './steps.ts';
import { Precondition } from '../engine.ts';

const BIG = 1 << 20;

/** Leaving a session's state by every request that leaves it; the old fd must then refuse I/O. */
export const sessionEndsCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['viaPreCopy']);
    bool(p, 'viaPreCopy', true);
  },
  run(ctx: CheckContext) {
    const req = requestableStates(ctx.flags);
    const sup = supportedStates(ctx.flags);
    const starts: { label: string; state: MigState; open(s: Session): number }[] = [];
    for (const st of ctx.states) {
      if (!sessionKind(st)) continue;
      starts.push({ label: st, state: st, open: (s) => reachSession(s, st) });
    }
    if (bool(ctx.params, 'viaPreCopy', true) && sup.has('PRE_COPY') && ctx.states.includes('STOP_COPY')) {
      starts.push({ label: 'PRE_COPY→STOP_COPY', state: 'STOP_COPY', open: (s) => {
        const fd = reachSession(s, 'PRE_COPY');
        if (s.set('STOP_COPY').state !== 'STOP_COPY') throw new Precondition('PRE_COPY→STOP_COPY did not reach STOP_COPY');
        return fd;
      } });
    }
    if (!starts.length) ctx.na('none of the clause\'s states opens a session on this device');
    for (const start of starts) {
      const kind = sessionKind(start.state)!;
      for (const exit of req.filter((t) => sessionKind(t) !== kind)) {
        ctx.scenario(`${start.label} → ${exit}`, (s) => {
          const fd = start.open(s);
          if (kind === 'resume') {
            const own = ctx.ownStream();
            const w = s.write(fd, own, 'stream', own.length / 2);
            if (w.res !== 'ok') throw new Precondition(`the device refused its own stream (${w.res})`);
          } else touch(s, fd, kind);
          const st = s.set(exit);
          if (st.res !== 'ok') throw new Precondition(`SET ${exit} failed (${st.res})`);
          touch(s, fd, kind);
          touch(s, fd, kind);
        });
      }
    }
  },
};

/** PRE_COPY → STOP_COPY (and through PRE_COPY_P2P): no new fd, and the PRE_COPY fd streams on. */
export const savingGroupCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['readSizes']);
    sizeLists(p, 'readSizes', [[BIG], [1]]);
  },
  run(ctx: CheckContext) {
    const sup = supportedStates(ctx.flags);
    const walks: MigState[][] = [['PRE_COPY', 'STOP_COPY']];
    if (sup.has('PRE_COPY_P2P')) walks.push(['PRE_COPY', 'PRE_COPY_P2P', 'STOP_COPY'], ['PRE_COPY', 'PRE_COPY_P2P', 'PRE_COPY', 'STOP_COPY']);
    for (const sizes of sizeLists(ctx.params, 'readSizes', [[BIG], [1]])) {
      for (const walk of walks) {
        ctx.scenario(`${walk.join('→')} in reads of ${sizes.join(',')}`, (s) => {
          const fd = reachSession(s, walk[0]);
          for (const st of walk.slice(1)) {
            s.readToEnd(fd, sizes);
            s.set(st);
          }
          s.readToEnd(fd, sizes);
        });
      }
    }
  },
};

/** A save fd takes no writes; a resume fd gives no reads. */
export const directionCheck = {
  validate: (p: Record<string, unknown>) => known(p, []),
  run(ctx: CheckContext) {
    for (const st of ctx.states) {
      const kind = sessionKind(st);
      if (!kind) continue;
      ctx.scenario(`${kind === 'save' ? 'write()' : 'read()'} on the fd of ${st}`, (s) => {
        const fd = reachSession(s, st);
        if (kind === 'save') s.write(fd, '00'.repeat(8), 'random');
        else s.read(fd, 64);
      });
    }
  },
};

/** STOP_COPY reads to the end in several read sizes, then keep reading: 0 every time. */
export const stopCopyEndCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['readSizes', 'extraReads', 'viaPreCopy']);
    sizeLists(p, 'readSizes', [[BIG], [1], [7], [64]]);
    int(p, 'extraReads', 3, 1);
    bool(p, 'viaPreCopy', true);
  },
  run(ctx: CheckContext) {
    const extra = int(ctx.params, 'extraReads', 3, 1);
    const pre = bool(ctx.params, 'viaPreCopy', true) && supportedStates(ctx.flags).has('PRE_COPY');
    for (const sizes of sizeLists(ctx.params, 'readSizes', [[BIG], [1], [7], [64]])) {
      const tail = (s: Session, fd: number) => {
        if (s.readToEnd(fd, sizes) === null) return;
        for (let i = 0; i < extra; i++) s.read(fd, sizes[i % sizes.length]);
      };
      ctx.scenario(`STOP_COPY in reads of ${sizes.join(',')}`, (s) => tail(s, reachSession(s, 'STOP_COPY')));
      if (pre) {
        ctx.scenario(`PRE_COPY then STOP_COPY in reads of ${sizes.join(',')}`, (s) => {
          const fd = reachSession(s, 'PRE_COPY');
          s.readToEnd(fd, sizes);
          s.set('STOP_COPY');
          tail(s, fd);
        });
      }
    }
  },
};

type Path = 'stop-copy' | 'pre-copy';

/**
 * The stream read in small pieces equals the stream read at once: reference streams come from two
 * one-read sessions of fresh devices (when those differ, the device streams differently each time
 * and the clause cannot be judged on that path).
 */
export const sequentialReadsCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['readSizes', 'paths']);
    sizeLists(p, 'readSizes', [[1], [7], [40], [64]]);
    listOf(p, 'paths', ['stop-copy', 'pre-copy'] as const, ['stop-copy', 'pre-copy']);
  },
  run(ctx: CheckContext) {
    const sup = supportedStates(ctx.flags);
    const paths = listOf(ctx.params, 'paths', ['stop-copy', 'pre-copy'] as const, ['stop-copy', 'pre-copy']).filter((p) => p === 'stop-copy' || sup.has('PRE_COPY'));
    const sizesList = sizeLists(ctx.params, 'readSizes', [[1], [7], [40], [64]]);
    let judged = 0;
    for (const path of paths) {
      const walk = (s: Session, sizes: number[], expectHex?: string): string | null => {
        const expect = expectHex ? { hex: expectHex, clause: ctx.clause.id, why: `the stream of one read per state (${path})` } : undefined;
        if (path === 'stop-copy') {
          const st = s.set('STOP_COPY', expect);
          if (st.opened === undefined) throw new Precondition('SET STOP_COPY returned no data_fd');
          return s.readToEnd(st.opened, sizes);
        }
        const st = s.set('PRE_COPY', expect);
        if (st.opened === undefined) throw new Precondition('SET PRE_COPY returned no data_fd');
        const a = s.readToEnd(st.opened, sizes);
        if (s.set('STOP_COPY').state !== 'STOP_COPY') throw new Precondition('PRE_COPY→STOP_COPY did not reach STOP_COPY');
        const b = s.readToEnd(st.opened, sizes);
        return a === null || b === null ? null : a + b;
      };
      const refs: (string | null)[] = [];
      for (const k of [1, 2]) {
        let out: string | null = null;
        ctx.scenario(`${path} reference ${k}: one read per state`, (s) => {
          out = walk(s, [BIG]);
        });
        refs.push(out);
      }
      if (!refs[0]) {
        ctx.note(`${path}: no reference stream could be read`);
        continue;
      }
      if (refs[0] !== refs[1]) {
        ctx.note(`${path}: two sessions of the same stopped device gave different streams; read sizes cannot be compared on this path`);
        continue;
      }
      judged++;
      for (const sizes of sizesList) ctx.scenario(`${path} in reads of ${sizes.join(',')}`, (s) => void walk(s, sizes, refs[0]!));
    }
    if (!judged) ctx.na('no path gives the same stream twice, so read sizes cannot be compared');
  },
};

/** PRE_COPY with PRECOPY_INFO around every read, then STOP_COPY and a STOP_COPY-only session. */
export const precopyCheck = {
  validate(p: Record<string, unknown>) {
    known(p, ['readSizes']);
    sizeLists(p, 'readSizes', [[1], [BIG]]);
  },
  run(ctx: CheckContext) {
    const sup = supportedStates(ctx.flags);
    const starts: MigState[] = ['PRE_COPY', ...(sup.has('PRE_COPY_P2P') ? ['PRE_COPY_P2P' as const] : [])];
    for (const sizes of sizeLists(ctx.params, 'readSizes', [[1], [BIG]])) {
      for (const start of starts) {
        ctx.scenario(`${start} with PRECOPY_INFO around reads of ${sizes.join(',')}`, (s) => {
          const fd = reachSession(s, start);
          s.info(fd);
          for (let i = 0; i < 1 << 12; i++) {
            const r = s.read(fd, sizes[i % sizes.length]);
            s.info(fd);
            if (r.res !== 'ok' || !r.out) break;
          }
          s.read(fd, BIG);
          s.info(fd);
          s.set('STOP_COPY');
          s.info(fd);
          s.readToEnd(fd, sizes);
          s.info(fd);
          s.set('STOP');
        });
      }
    }
    ctx.scenario('STOP_COPY session without PRE_COPY', (s) => {
      const fd = reachSession(s, 'STOP_COPY');
      s.info(fd);
      s.readToEnd(fd);
      s.info(fd);
    });
    ctx.scenario('RESUMING → STOP_COPY', (s) => {
      loadOwn(s, ctx.ownStream());
      const fd = reachSession(s, 'STOP_COPY');
      s.info(fd);
    });
  },
};
