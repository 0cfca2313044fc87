/**
 * cdktf's output as lines, without colour codes, each with the stack it belongs to. cdktf prefixes
 * the first line of each chunk with the stack's name and indents the chunk's other lines to the
 * same width (`keyroll-keys  …`, then 14 spaces), so a line's stack is read from that.
 */

export interface CdktfLine {
  /** The stack whose Terraform printed it; undefined for cdktf's own lines. */
  readonly stack?: string;
  /** The line without the stack prefix, the indentation and colour codes. */
  readonly text: string;
}

// CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks).
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export class CdktfLines {
  private pending = '';
  private current?: string;
  private readonly stacks: readonly string[];

  /** @param stacks the stacks being run, whose names prefix their lines */
  constructor(
    stacks: readonly string[],
    private readonly onLine: (line: CdktfLine) => void,
  ) {
    // Longest first, so `keyroll-keys-x` is never read as `keyroll-keys`.
    this.stacks = [...stacks].sort((a, b) => b.length - a.length);
  }

  push(chunk: string): void {
    const lines = (this.pending + chunk).split(/\r?\n/);
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
  }

  /** Emits a last line without a newline. */
  end(): void {
    if (this.pending) this.emit(this.pending);
    this.pending = '';
  }

  private emit(raw: string): void {
    // The spinner redraws itself with carriage returns; only the last drawing counts.
    const line = stripAnsi(raw.slice(raw.lastIndexOf('\r') + 1));
    const prefixed = this.stacks.find((stack) => line.startsWith(`${stack}  `));
    if (prefixed) {
      this.current = prefixed;
      this.onLine({ stack: prefixed, text: line.slice(prefixed.length + 2) });
      return;
    }
    // A continuation line: indented to the width of the stack that printed the chunk.
    const indented = [this.current, ...this.stacks].find((stack) => stack && line.startsWith(' '.repeat(stack.length + 2)));
    if (indented) {
      this.current = indented;
      this.onLine({ stack: indented, text: line.slice(indented.length + 2) });
      return;
    }
    this.onLine({ text: line });
  }
}
