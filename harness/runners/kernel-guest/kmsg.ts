// The guest kernel's log as the agent reads it (/dev/kmsg, one record per read, non-blocking), and
// the arcs mtty reports there: loaded with dyndbg=+p, mtty logs every step the VFIO core asks it to
// walk ("mtty_step_state: <from> -> <to>", states as uAPI numbers) on the mdev device it belongs to.
// That is the real kernel's path for a SET, which the state-walk check compares with harness/vfio/fsm.ts.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { MIG_STATE_NAMES, MIG_STATE, type MigState } from '../../vfio/types.ts';

const byNumber = new Map<number, MigState>(MIG_STATE_NAMES.map((n) => [MIG_STATE[n], n]));

export class Kmsg {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(16384);
  constructor(path = '/dev/kmsg') {
    this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  }

  /** Every record logged since the last call (the first call returns the whole ring buffer). */
  drain(): string[] {
    const out: string[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') return out;
        if (code === 'EPIPE') continue; // records overwritten before we read them: go on with the next
        throw e;
      }
      if (n === 0) return out;
      const rec = this.buf.toString('utf8', 0, n);
      // "prio,seq,usec,flags;message\n KEY=value\n…": keep the message and the device it names
      const semi = rec.indexOf(';');
      out.push(rec.slice(semi + 1).replace(/\n$/, ''));
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The arcs mtty logged for device `uuid`, in order, as "FROM->TO". */
export function mttyArcs(records: string[], uuid: string): string[] {
  const arcs: string[] = [];
  for (const r of records) {
    if (!r.includes(uuid)) continue;
    const m = /mtty_step_state: (\d+) -> (\d+)/.exec(r);
    if (!m) continue;
    const name = (n: string) => byNumber.get(Number(n)) ?? `state ${n}`;
    arcs.push(`${name(m[1]!)}->${name(m[2]!)}`);
  }
  return arcs;
}
