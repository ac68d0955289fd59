// Guest side of a case (interface of issue #3): the VM and its workloads.
export { Vm } from './vm.ts';
export type { VmOptions } from './vm.ts';
export { createWorkload } from './workloads.ts';
export type { Workload, WorkloadOptions } from './workloads.ts';
export { GuestQm } from './qm.ts';
export type { CompletionMode } from './qm.ts';
export type { GuestRequest } from './requests.ts';
