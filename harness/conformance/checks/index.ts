// The named checks a clause may use (`check.name` in the contract), with their parameter validation.
import type { CheckFn } from '../engine.ts';
import type { ParamCheck } from '../contract.ts';
import { incompatibleCheck, refusedWriteCheck, resumeDataCheck, secondSessionCheck, segmentationCheck } from './resume.ts';
import { directionCheck, precopyCheck, savingGroupCheck, sequentialReadsCheck, sessionEndsCheck, stopCopyEndCheck } from './sessions.ts';
import { dataSizeCheck, errorStateCheck, flagsCheck, quietCheck, requestsCheck, resetCheck } from './states.ts';

interface CheckDef {
  validate: ParamCheck;
  run: CheckFn;
}

const DEFS: Record<string, CheckDef> = {
  flags: flagsCheck,
  requests: requestsCheck,
  reset: resetCheck,
  quiet: quietCheck,
  dataSize: dataSizeCheck,
  errorState: errorStateCheck,
  sessionEnds: sessionEndsCheck,
  savingGroup: savingGroupCheck,
  direction: directionCheck,
  stopCopyEnd: stopCopyEndCheck,
  sequentialReads: sequentialReadsCheck,
  precopy: precopyCheck,
  resumeData: resumeDataCheck,
  refusedWrite: refusedWriteCheck,
  secondSession: secondSessionCheck,
  incompatible: incompatibleCheck,
  segmentation: segmentationCheck,
};

export const CHECK_RUNNERS: ReadonlyMap<string, CheckFn> = new Map(Object.entries(DEFS).map(([k, d]) => [k, d.run.bind(d)]));
export const CHECK_PARAMS: ReadonlyMap<string, ParamCheck> = new Map(Object.entries(DEFS).map(([k, d]) => [k, d.validate.bind(d)]));
