// Failures of the QEMU runner's environment. A missing QEMU, package or archive entry is bad input for
// the CLI (exit 2, one line); inside a case it becomes an `error` outcome, never a device verdict.
export { MissingDependencyError } from '../../util/usage-error.ts';

/** The infrastructure failed (QEMU crashed at start, a timeout, a guest oops): outcome `error`. */
export class InfraError extends Error {
  override name = 'InfraError';
}
