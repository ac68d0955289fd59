// The command vocabulary of a conformance sequence: one uAPI call each, as a VMM makes it. A
// sequence is plain JSON (bundles keep it, replay reruns it); data fds are named by labels in the
// order the sequence's SETs returned them (fd0, fd1, …), so a sequence replays on a fresh device.
import { MIG_STATE_NAMES, type MigState } from '../vfio/types.ts';
import { UsageError } from '../util/usage-error.ts';

/**
 * What the sequence's author knows about bytes written to a resume fd:
 * - `stream`: a piece of a whole stream this device saved (`of` its total length), in order;
 * - `prefix`: the first bytes of such a stream, the rest never written (incomplete data);
 * - `invalid`: a stream of this device with bytes changed;
 * - `foreign`: a stream saved by a device of another identity (inconsistent data);
 * - `random`: bytes from nowhere (the fuzzer's).
 */
export type WriteData = 'stream' | 'prefix' | 'invalid' | 'foreign' | 'random';
export const WRITE_DATA: readonly WriteData[] = ['stream', 'prefix', 'invalid', 'foreign', 'random'];

/** A bytes expectation a check attaches to a save session: its whole stream must equal `hex`. */
export interface StreamExpectation {
  hex: string;
  /** the clause a difference violates */
  clause: string;
  /** why the bytes must be these (shown with the violation) */
  why: string;
}

export type Cmd =
  | { op: 'flags' }
  | { op: 'get' }
  | { op: 'set'; target: MigState; expect?: StreamExpectation }
  | { op: 'read'; fd: number; max: number }
  | { op: 'write'; fd: number; hex: string; data: WriteData; of?: number }
  | { op: 'info'; fd: number }
  | { op: 'size' }
  | { op: 'reset' }
  | { op: 'reopen' };

export const OPS = ['flags', 'get', 'set', 'read', 'write', 'info', 'size', 'reset', 'reopen'] as const;

/** How a command reads in a sequence (bytes elided to their length and kind). */
export function formatCmd(c: Cmd): string {
  switch (c.op) {
    case 'flags': return 'GET MIGRATION';
    case 'get': return 'GET state';
    case 'set': return `SET ${c.target}`;
    case 'read': return `read(fd${c.fd}, ${c.max})`;
    case 'write': return `write(fd${c.fd}, ${c.hex.length / 2} B ${c.data}${c.of !== undefined && c.data !== 'random' ? ` of ${c.of} B` : ''})`;
    case 'info': return `PRECOPY_INFO(fd${c.fd})`;
    case 'size': return 'GET MIG_DATA_SIZE';
    case 'reset': return 'VFIO_DEVICE_RESET';
    case 'reopen': return 'close+open device';
  }
}

/** A sequence in its JSON form, validated (bundles come from disk). */
export function parseCmds(doc: unknown, where: string): Cmd[] {
  if (!Array.isArray(doc)) throw new UsageError(`${where}: expected a list of commands`);
  return doc.map((c, i) => {
    const at = `${where}[${i}]`;
    if (!c || typeof c !== 'object' || !(OPS as readonly string[]).includes((c as { op?: string }).op ?? '')) {
      throw new UsageError(`${at}: expected a command with op one of ${OPS.join(', ')}`);
    }
    const x = c as Record<string, unknown>;
    const int = (k: string) => {
      if (!Number.isInteger(x[k]) || (x[k] as number) < 0) throw new UsageError(`${at}.${k}: expected a non-negative integer`);
    };
    if (x.op === 'set' && !MIG_STATE_NAMES.includes(x.target as MigState)) throw new UsageError(`${at}.target: expected a state name`);
    if (x.op === 'read' || x.op === 'write' || x.op === 'info') int('fd');
    if (x.op === 'read') int('max');
    if (x.op === 'write') {
      if (typeof x.hex !== 'string' || !/^([0-9a-f]{2})*$/i.test(x.hex)) throw new UsageError(`${at}.hex: expected hex bytes`);
      if (!WRITE_DATA.includes(x.data as WriteData)) throw new UsageError(`${at}.data: expected one of ${WRITE_DATA.join(', ')}`);
      if (x.of !== undefined) int('of');
    }
    return x as unknown as Cmd;
  });
}
