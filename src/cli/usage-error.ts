// A mistake on the command line that commander cannot see by itself (a bad --query, arguments
// that exclude each other, ...). Exits 2, as az's argument errors do.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
