// Append-only timeline of a case: state arcs, data-fd chunks, register writes, mailbox commands,
// doorbells, interrupts and guest requests: the evidence of README.md#verdicts.
import type { SimClock } from './clock.ts';
import type { ErrnoName } from './errno.ts';

export type Side = 'src' | 'dst' | 'guest' | 'harness';

/** One line of the timeline. `kind` says which of the optional fields are set. */
export interface TimelineEvent {
  seq: number;
  /** simulated time in microseconds (sim) or wall-clock ms since case start (real runners) */
  t: number;
  side: Side;
  kind:
    | 'arc' | 'set-state' | 'read' | 'write' | 'precopy-info' | 'data-size' | 'reset' | 'close'
    | 'reg-read' | 'reg-write' | 'mailbox' | 'doorbell' | 'irq' | 'dma-fault' | 'event'
    | 'request' | 'completion' | 'check' | 'note';
  /** free-form details, JSON-safe (bigints as "0x…" strings) */
  detail: Record<string, string | number | boolean | null>;
  /** errno name when the step failed */
  errno?: ErrnoName | string;
}

export type Detail = TimelineEvent['detail'];

/** Device-level kinds can run into the tens of thousands (a driver looping over a scrambled qp_num). */
const BULK_KINDS = new Set<TimelineEvent['kind']>(['reg-read', 'reg-write', 'doorbell', 'mailbox', 'irq', 'dma-fault']);

export class Timeline {
  readonly events: TimelineEvent[] = [];
  /** register reads are numerous and rarely interesting: off unless asked for */
  recordRegReads = false;
  /**
   * Device-level events kept per timeline; later ones are counted, not stored, so evidence stays
   * small and a runaway loop stays cheap. Arcs, chunks, requests, checks and notes are always kept.
   */
  bulkBudget = 10_000;
  private bulk = 0;
  /** device-level events counted but not stored */
  suppressed = 0;
  constructor(private readonly clock: SimClock | { now(): number }) {}

  push(side: Side, kind: TimelineEvent['kind'], detail: Detail, errno?: string): void {
    if (kind === 'reg-read' && !this.recordRegReads) return;
    if (BULK_KINDS.has(kind)) {
      if (this.events.length === 0) this.bulk = this.suppressed = 0; // the owner cleared it for reuse
      if (++this.bulk > this.bulkBudget) {
        if (this.suppressed++ === 0) this.note(side, `timeline: more than ${this.bulkBudget} device events; further ones are counted, not stored`);
        return;
      }
    }
    const e: TimelineEvent = { seq: this.events.length, t: this.clock.now(), side, kind, detail };
    if (errno !== undefined) e.errno = errno;
    this.events.push(e);
  }

  private note(side: Side, text: string): void {
    this.events.push({ seq: this.events.length, t: this.clock.now(), side, kind: 'note', detail: { text } });
  }
}
