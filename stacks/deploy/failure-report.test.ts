import { CdktfLines } from './cdktf-output-lines';
import { FailureReport } from './failure-report';

function failure(output: string, stacks = ['keyroll-platform', 'keyroll-keys']): FailureReport {
  const report = new FailureReport();
  const lines = new CdktfLines(stacks, (line) => report.line(line));
  lines.push(output);
  lines.end();
  return report;
}

const ESC = '\u001b';
const red = (text: string) => `${ESC}[31m${text}${ESC}[0m`;

describe('FailureReport', () => {
  it("keeps each of Terraform's error blocks whole and once, and leaves out the routine provider-lock warning", () => {
    const box = (stack: string, pad: string) =>
      [
        `${stack}  ${red('╷')}`,
        `${pad}${red('│')} ${ESC}[1mError: ${ESC}[0mUnable to find remote state`,
        `${pad}${red('│')} `,
        `${pad}${red('│')}   with data.terraform_remote_state.cross-stack-reference-input-keyroll-platform,`,
        `${pad}${red('│')} No stored state was found for the given workspace in the given backend.`,
        `${pad}${red('╵')}`,
      ].join('\n');
    const pad = ' '.repeat('keyroll-keys'.length + 2);
    const output = [
      `keyroll-keys  ╷`,
      `${pad}│ Warning: Incomplete lock file information for providers`,
      `${pad}╵`,
      box('keyroll-keys', pad),
      // cdktf prints the same block again when the stack fails.
      box('keyroll-keys', pad),
      'Invoking Terraform CLI failed with exit code 1',
      '    at ChildProcess.<anonymous> (/cdktf/bundle/bin/cmds/handlers.js:1:1)',
      '',
    ].join('\n');
    const report = failure(output);
    expect(report.causes()).toEqual([
      'keyroll-keys: Error: Unable to find remote state',
      '',
      '    with data.terraform_remote_state.cross-stack-reference-input-keyroll-platform,',
      '  No stored state was found for the given workspace in the given backend.',
    ]);
    expect(report.warnings).toBe(0);
    expect(report.synthFailed).toBe(false);
  });

  it("gives a failed synth's error message once, without its stack frames or cdktf's repeats", () => {
    const output = [
      '[2026-12-01T22:01:15.451] [ERROR] default - /work/main/stacks/keys/api-key-props.ts:100',
      '  if (problems.length > 0) throw new Error(...);',
      'Error: ApiKey "acme/telemetry-ingest" is invalid:',
      '    at validateApiKeyProps (/work/main/stacks/keys/api-key-props.ts:100:34)',
      'ERROR: cdktf encountered an error while synthesizing',
      '',
      'Synth command: npx tsx stacks/main.ts',
      'Error:         non-zero exit code 1',
      '',
      'Command output on stderr:',
      '',
      '    /work/main/stacks/keys/api-key-props.ts:100',
      '      if (problems.length > 0) throw new Error(...);',
      '                                     ^',
      '',
      '    Error: ApiKey "acme/telemetry-ingest" is invalid:',
      '      - `environment` must be one of production, staging, development',
      '        at validateApiKeyProps (/work/main/stacks/keys/api-key-props.ts:100:34)',
      '        at new ApiKey (/work/main/stacks/keys/api-key.ts:38:5)',
      '',
      '    Node.js v20.20.2',
      '',
    ].join('\n');
    const report = failure(output);
    expect(report.synthFailed).toBe(true);
    expect(report.causes()).toEqual(['Error: ApiKey "acme/telemetry-ingest" is invalid:', '  - `environment` must be one of production, staging, development']);
  });

  it('falls back to the last lines, without stack frames, when it recognises no cause', () => {
    const report = failure('something odd happened\n    at somewhere (x.js:1:1)\nand then this\n');
    expect(report.causes()).toEqual([]);
    expect(report.lastLines()).toEqual(['something odd happened', 'and then this']);
  });
});
