// Append-only timeline of a case: state arcs, data-fd chunks, register writes, mailbox commands,
// doorbells, interrupts and guest requests (DESIGN.md "Evidence").
import type { Side, TimelineEvent } from '../oracle/types.ts';
import type { SimClock } from './clock.ts';

export type Detail = TimelineEvent['detail'];

export class Timeline {
  readonly events: TimelineEvent[] = [];
  /** register reads are numerous and rarely interesting: off unless asked for */
  recordRegReads = false;
  constructor(private readonly clock: SimClock | { now(): number }) {}

  push(side: Side, kind: TimelineEvent['kind'], detail: Detail, errno?: string): void {
    if (kind === 'reg-read' && !this.recordRegReads) return;
    const e: TimelineEvent = { seq: this.events.length, t: this.clock.now(), side, kind, detail };
    if (errno !== undefined) e.errno = errno;
    this.events.push(e);
  }
}
