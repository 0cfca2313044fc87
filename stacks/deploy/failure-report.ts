/**
 * Why a quiet deploy failed, from cdktf's output lines: Terraform's error blocks in full, or the
 * app's error when the synth failed, each once and without stack traces. cdktf repeats the app's
 * error (its own log line, then "Command output on stderr") and adds its own summary lines; a
 * reader needs the cause once.
 */
import type { CdktfLine } from './cdktf-output-lines';

/** Warnings Terraform prints on every run with keyroll's provider mirror; nothing to act on. */
const ROUTINE_WARNINGS = [/^Warning: Incomplete lock file information for providers/];

const SYNTH_FAILED = /^ERROR: cdktf encountered an error while synthesizing/;
const STDERR_SECTION = /^Command output on stderr:/;
const ERROR_LINE = /^(?:[A-Za-z]*Error|error)(?: \[[^\]]*\])?:\s/;
const STACK_FRAME = /^at\s/;
/** Lines of cdktf's own (spinner, progress counts) that never explain anything. */
const NOISE = /^(?:[⠁-⣿]\s|\d+ Stacks? (?:deploying|done|waiting)|Node\.js v\d|Invoking Terraform CLI failed with exit code)/;
const FALLBACK_LINES = 40;

export class FailureReport {
  private readonly errors: string[][] = [];
  private readonly seen = new Set<string>();
  private box?: { stack?: string; lines: string[] };
  private synth?: { inStderr: boolean; lines: string[] };
  private readonly tail: string[] = [];
  warnings = 0;

  line({ stack, text }: CdktfLine): void {
    const trimmed = text.trim();
    this.remember(stack, trimmed);
    if (trimmed.startsWith('╷')) {
      this.box = { stack, lines: [] };
      return;
    }
    if (this.box && trimmed.startsWith('│')) {
      this.box.lines.push(trimmed.replace(/^│ ?/, ''));
      return;
    }
    if (this.box && trimmed.startsWith('╵')) {
      this.closeBox(this.box);
      this.box = undefined;
      return;
    }
    if (SYNTH_FAILED.test(trimmed)) {
      this.synth = { inStderr: false, lines: [] };
      return;
    }
    if (this.synth && !stack) {
      if (STDERR_SECTION.test(trimmed)) this.synth.inStderr = true;
      // The section is indented by four; keep the app's own indentation below that.
      else if (this.synth.inStderr) this.synth.lines.push(text.replace(/^ {4}/, ''));
    }
  }

  /** True when the app itself failed (cdktf never reached Terraform). */
  get synthFailed(): boolean {
    return this.synth !== undefined;
  }

  /** The lines that say why, each block once; empty when nothing was recognised. */
  causes(): string[] {
    const blocks = [...this.errors];
    const synthError = this.synth && appError(this.synth.lines);
    if (synthError) blocks.push(synthError);
    return blocks.flat();
  }

  /** The output's last lines, when no cause was recognised: better than nothing, minus stack frames. */
  lastLines(): string[] {
    return [...this.tail];
  }

  private remember(stack: string | undefined, trimmed: string): void {
    if (!trimmed || STACK_FRAME.test(trimmed) || NOISE.test(trimmed)) return;
    this.tail.push(stack ? `${stack}: ${trimmed}` : trimmed);
    if (this.tail.length > FALLBACK_LINES) this.tail.shift();
  }

  private closeBox({ stack, lines }: { stack?: string; lines: string[] }): void {
    while (lines.length > 0 && !lines[lines.length - 1].trim()) lines.pop();
    const [first = '', ...rest] = lines;
    if (first.startsWith('Warning:')) {
      if (!ROUTINE_WARNINGS.some((routine) => routine.test(first))) this.warnings++;
      return;
    }
    if (!first.startsWith('Error:')) return;
    const block = [`${stack ? `${stack}: ` : ''}${first}`, ...rest.map((line) => (line ? `  ${line}` : ''))];
    const key = block.join('\n');
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.errors.push(block);
  }
}

/** From the app's stderr: the error's message lines, from `…Error: ` to the first stack frame. */
function appError(lines: readonly string[]): string[] | undefined {
  const start = lines.findIndex((line) => ERROR_LINE.test(line.trim()));
  if (start < 0) {
    const kept = lines.map((line) => line.trimEnd()).filter((line) => line && !STACK_FRAME.test(line.trim()) && !NOISE.test(line.trim()));
    return kept.length > 0 ? kept : undefined;
  }
  const message: string[] = [];
  for (const line of lines.slice(start)) {
    if (STACK_FRAME.test(line.trim())) break;
    message.push(line.trimEnd());
  }
  while (message.length > 0 && !message[message.length - 1]) message.pop();
  return message;
}
