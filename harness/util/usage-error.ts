// Bad input (a missing file, a malformed YAML, an unknown revision): the CLI prints the message as
// one line and exits 2. Anything else thrown is a harness bug or an infrastructure failure.
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A tool, package or archive entry the machine lacks: one line naming what to install, exit 2. */
export class MissingDependencyError extends UsageError {
  override name = 'MissingDependencyError';
}
