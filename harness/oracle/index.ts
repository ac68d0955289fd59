export { judge } from './judge.ts';
export type { CheckResult, DestinationResult, Evidence, Outcome, TimelineEvent, Verdict } from './types.ts';
export { OUTCOMES } from './types.ts';
