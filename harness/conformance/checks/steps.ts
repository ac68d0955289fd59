// Building blocks the checks share: reaching a state, writing a stream back as a VMM does, and the
// ways data is made invalid. A set-up that does not reach what a scenario needs is a Precondition
// (the scenario is not judged), never a verdict.
import type { MigState } from '../../vfio/types.ts';
import { Precondition, type CheckContext } from '../engine.ts';
import type { WriteData } from '../commands.ts';
import type { Session } from '../session.ts';
import { sessionKind } from '../uapiText.ts';

/** SET `state` from where the device is; the data fd label when the SET opened a session. */
export function reach(s: Session, state: MigState): number | null {
  const st = s.set(state);
  if (st.res !== 'ok' || st.state !== state) throw new Precondition(`SET ${state} did not reach it (${st.res}, device in ${st.state})`);
  return st.opened ?? null;
}

/** The live session's fd of the state reached, whichever SET opened it. */
export function reachSession(s: Session, state: MigState): number {
  const fd = reach(s, state);
  if (fd === null) throw new Precondition(`SET ${state} returned no data_fd`);
  return fd;
}

/** Write `hex` in the given pieces; stops at the first refused piece. Returns the errno or null. */
export function writePieces(s: Session, fd: number, hex: string, pieces: readonly number[], data: WriteData, of?: number): string | null {
  let o = 0;
  for (const n of pieces) {
    const st = s.write(fd, hex.slice(2 * o, 2 * (o + n)), data, of);
    if (st.res !== 'ok') return st.res;
    if (Number(st.out) !== n) return `short write ${st.out}/${n}`;
    o += n;
  }
  return null;
}

/** RESUMING with `hex` written in `pieces`; the resume fd label, or the errno of a refused write. */
export function resumeWith(s: Session, hex: string, pieces: readonly number[], data: WriteData, of?: number): { fd: number; refused: string | null } {
  const fd = reachSession(s, 'RESUMING');
  return { fd, refused: writePieces(s, fd, hex, pieces, data, of) };
}

/** Load the device's own stream: RESUMING, one write, STOP. Precondition when the device refuses it. */
export function loadOwn(s: Session, own: string): void {
  const { refused } = resumeWith(s, own, [own.length / 2], 'stream', own.length / 2);
  if (refused) throw new Precondition(`the device refused its own stream at write() (${refused})`);
  const st = s.set('STOP');
  if (st.res !== 'ok') throw new Precondition(`RESUMING→STOP failed on the device's own stream (${st.res})`);
}

/** A VMM abandons a refused resume: VFIO_DEVICE_RESET (the text's way to abort RESUMING). */
export function abortResume(s: Session): void {
  s.reset();
}

/** The ways a check spoils a stream, each named in the YAML. */
export const SPOILERS = {
  /** the first 8 bytes inverted (where formats keep a magic or a version) */
  'invert-head': (hex: string) => invert(hex, 0, Math.min(8, hex.length / 2)),
  /** every byte inverted */
  'invert-all': (hex: string) => invert(hex, 0, hex.length / 2),
  /** the last 8 bytes inverted (a body's end, where a format keeps no identity) */
  'invert-tail': (hex: string) => invert(hex, Math.max(0, hex.length / 2 - 8), hex.length / 2),
} as const;
export type Spoiler = keyof typeof SPOILERS;
export const SPOILER_NAMES = Object.keys(SPOILERS) as Spoiler[];

function invert(hex: string, from: number, to: number): string {
  const b = Buffer.from(hex, 'hex');
  for (let i = from; i < to; i++) b[i] ^= 0xff;
  return b.toString('hex');
}

/** Prefix lengths of a `len`-byte stream to try: 0, 1, len−1 and evenly spaced ones, at most `max`. */
export function prefixLengths(len: number, max: number): number[] {
  if (len <= 1) return [0];
  if (len <= max) return Array.from({ length: len }, (_, i) => i);
  const out = new Set<number>([0, 1, len - 1]);
  const step = (len - 1) / Math.max(1, max - 3);
  for (let x = 0; out.size < max && x < len; x += step) out.add(Math.floor(x));
  return [...out].sort((a, b) => a - b);
}

/** The session kind a state keeps, for reads and writes on its fd. */
export const kindOf = (state: MigState) => sessionKind(state);

/** Touch a session's fd the way its direction allows: read (save) or write a few bytes (resume). */
export function touch(s: Session, fd: number, kind: 'save' | 'resume'): void {
  if (kind === 'save') s.read(fd, 64);
  else s.write(fd, '00'.repeat(8), 'random');
}

/** A stream of another identity for each peer of the subject (skipping peers that cannot save). */
export function peerStreams(ctx: CheckContext): { name: string; hex: string }[] {
  const out: { name: string; hex: string }[] = [];
  for (const p of ctx.subject.peers()) {
    const h = p.fresh();
    try {
      const r = h.dev.setState('STOP_COPY');
      if (!r.ok || !r.value.dataFd) continue;
      let hex = '';
      for (let i = 0; i < 1 << 16; i++) {
        const c = r.value.dataFd.read(1 << 20);
        if (!c.ok || c.value.length === 0) break;
        hex += Buffer.from(c.value).toString('hex');
      }
      r.value.dataFd.close();
      if (hex) out.push({ name: p.name, hex });
    } finally {
      h.close();
    }
  }
  return out;
}
