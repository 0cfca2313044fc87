/** An error the deploy runner reports as one line, `keyroll: <CODE>: <message>`, with no stack trace. */
export class DeployError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}
