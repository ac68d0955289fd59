// Guest side of a case (interface of issue #3): the VM and its workloads.
export { Vm } from './vm.ts';
export type { VmOptions } from './vm.ts';
export { WORKLOADS, createWorkload } from './workloads.ts';
export type { Workload, WorkloadName, WorkloadOptions } from './workloads.ts';
export { GuestQm } from './qm.ts';
export type { CompletionMode } from './qm.ts';
export type { GuestRequest } from './requests.ts';
