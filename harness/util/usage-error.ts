// Bad input (a missing file, a malformed YAML, an unknown revision): the CLI prints the message as
// one line and exits 2. Anything else thrown is a harness bug or an infrastructure failure.
export class UsageError extends Error {
  override name = 'UsageError';
}
