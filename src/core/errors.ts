/**
 * Errors that reach the user. A `UserError` carries one line per problem (each naming the file,
 * the field path and what is allowed); the CLI prints the lines and exits with `exitCode` (2 for
 * bad input), never with a stack trace.
 */
export class UserError extends Error {
  constructor(
    readonly lines: string[],
    readonly exitCode = 2,
  ) {
    super(lines.join('\n'));
  }
}
