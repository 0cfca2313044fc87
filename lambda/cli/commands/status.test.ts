import type { StatusReport } from '../status-report';
import { statusText } from './status';

const base: StatusReport = {
  service: { url: 'http://127.0.0.1:8787', from: 'the default', reachable: false, error: 'ECONNREFUSED' },
  deployed: {
    target: 'emulator',
    stateDir: '.keyroll/state/local/4566',
    stacks: [
      { stack: 'keyroll-platform', exists: true, resources: 4, byType: { aws_dynamodb_table: 3, aws_lambda_function: 1 } },
      { stack: 'keyroll-keys', exists: false, resources: 0, byType: {} },
    ],
  },
  emulator: { endpoint: 'http://127.0.0.1:4566', from: 'AWS_ENDPOINT_URL', reachable: false },
  keys: { needsKey: 'set KEYROLL_API_KEY' },
};

describe('statusText', () => {
  it('says what is down, how to start it, and what the state describes', () => {
    expect(statusText(base)).toEqual([
      'Service    http://127.0.0.1:8787 (the default): not answering (ECONNREFUSED). Start it with `npm start` or `npx keyroll serve`, or name another with --url or KEYROLL_URL.',
      'Local AWS  http://127.0.0.1:4566 (AWS_ENDPOINT_URL): not answering. Start it with `npx keyroll local-aws` (or `npm start`).',
      'Stacks     emulator, state in .keyroll/state/local/4566:',
      '           keyroll-platform  4 resources: 3 tables, 1 function',
      '           keyroll-keys      not deployed',
      '           (this state describes an emulator that is gone: the next one on that port clears it, and `npm run destroy:local` now just clears it)',
      'Keys       not counted: set KEYROLL_API_KEY',
    ]);
  });

  it('counts keys by status, and names S3 state without reading it', () => {
    const text = statusText({
      ...base,
      service: { url: 'http://127.0.0.1:8787', from: 'KEYROLL_URL', reachable: true, environment: 'staging' },
      deployed: { target: 'AWS', stateBucket: 'tf-state', stacks: [] },
      emulator: undefined,
      keys: { tenant: 'acme', total: 3, byStatus: { revoked: 1, active: 2 } },
    });
    expect(text).toEqual([
      'Service    http://127.0.0.1:8787 (KEYROLL_URL): up, environment staging',
      'Local AWS  none in use (set AWS_ENDPOINT_URL to a loopback endpoint, or run `npm start`)',
      'Stacks     AWS, state in s3://tf-state/keyroll/ (not read here; `npm run diff` compares it with the code)',
      'Keys       tenant acme: 3 keys (2 active, 1 revoked) that this management key may see',
    ]);
  });
});
