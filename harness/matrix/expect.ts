// Expectations are data: the first rule of the matrix whose conditions all hold decides the expected
// outcome (and a known defect); with no matching rule a case is expected to migrate.
import type { CaseSpec } from '../runners/types.ts';
import type { Direction, Expectation, Matrix, RuleWhen } from './types.ts';

export function ruleMatches(when: RuleWhen, spec: CaseSpec, dir: Direction, accepted: boolean): boolean {
  if (when.src && !when.src.includes(spec.src)) return false;
  if (when.dst && !when.dst.includes(spec.dst)) return false;
  if (when.workload && !when.workload.includes(spec.workload)) return false;
  if (when.transfer && !when.transfer.includes(spec.transfer)) return false;
  if (when.device && !when.device.includes(spec.device.type)) return false;
  if (when.scenario && !when.scenario.includes(spec.scenario)) return false;
  if (when.direction && !when.direction.includes(dir)) return false;
  if (when.magic && (when.magic === 'accepted') !== accepted) return false;
  if (when.arch && !when.arch.includes(spec.arch ?? 'x86_64')) return false;
  return true;
}

export function expectationFor(m: Matrix, spec: CaseSpec, dir: Direction, accepted: boolean): Expectation {
  for (const r of m.expect) {
    if (!ruleMatches(r.when, spec, dir, accepted)) continue;
    return { outcome: r.outcome, rule: r.where, known: r.known ? m.known[r.known] : null };
  }
  return { outcome: 'migrated', rule: 'default', known: null };
}
