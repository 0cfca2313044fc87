/** An error the CLI reports as one line, `keyroll: <CODE>: <message>`, with no stack trace. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
