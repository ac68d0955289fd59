// Revision ids as `conform --rev` takes them: a model ('v6.16', 'hisi-acc/v6.16', a YAML profile),
// an external revision registered in this process, real driver code ('ktree:NAME'), or a kernel
// device ('0000:75:00.1', 'mdev:UUID'; the stand-in when MIGCOMPAT_VFIO_STANDIN is set). Models and
// registered revisions run in this process; real code and kernel devices in a child (isolate.ts).
import { expandRevisionIds, loadRevision } from '../drivers/registry.ts';
// an entry point that takes revision ids: `ktree:` ids resolve once ktree has plugged itself in
import '../ktree/install.ts';
import { UsageError } from '../util/usage-error.ts';
import { revisionSubject, type Subject } from './subject.ts';

export type SubjectSpec =
  | { id: string; where: 'here'; subject: Subject }
  | { id: string; where: 'child'; kind: 'ktree' | 'kernel'; lib?: string };

const BDF_RE = /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;
const MDEV_RE = /^mdev:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A kernel device id (PCI function or mdev), in canonical form, or null. */
export function kernelDeviceId(id: string): string | null {
  if (MDEV_RE.test(id)) return id.toLowerCase();
  if (BDF_RE.test(id)) return (id.length === 7 ? `0000:${id}` : id).toLowerCase();
  return null;
}

/** Resolve one id (bad ids are UsageError, before anything runs). */
export function resolveSubject(id: string): SubjectSpec {
  const dev = kernelDeviceId(id);
  if (dev) return { id: dev, where: 'child', kind: 'kernel' };
  const rev = loadRevision(id);
  if (rev.childLib || rev.id.startsWith('ktree:')) return { id: rev.id, where: 'child', kind: 'ktree', ...(rev.childLib ? { lib: rev.childLib } : {}) };
  return { id: rev.id, where: 'here', subject: revisionSubject(rev) };
}

/** Oldest kernel first (the version a profile's `kernel` names first); a proposal after its base. */
function byKernel(ids: string[]): string[] {
  const key = (id: string): [number, number, number] => {
    const m = /(\d+)\.(\d+)/.exec(loadRevision(id).kernel);
    return [m ? Number(m[1]) : 99, m ? Number(m[2]) : 99, /proposal/.test(id) ? 1 : 0];
  };
  return [...ids].sort((a, b) => {
    const x = key(a), y = key(b);
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || a.localeCompare(b);
  });
}

/** `--rev` text: a comma list, 'all' (every hisi-acc model), or 'released' (those but proposals). */
export function resolveSubjects(text: string): SubjectSpec[] {
  const t = text.trim();
  if (!t) throw new UsageError('--rev: empty revision list');
  const ids = t === 'all' || t === 'released'
    ? byKernel(expandRevisionIds('all').filter((id) => t === 'all' || !/proposal/.test(id)))
    : t.split(',').map((s) => s.trim()).filter(Boolean);
  if (!ids.length) throw new UsageError('--rev: empty revision list');
  const out = ids.map(resolveSubject);
  const dup = out.map((s) => s.id).find((id, i, a) => a.indexOf(id) !== i);
  if (dup) throw new UsageError(`--rev: '${dup}' is listed twice`);
  return out;
}
