/** EventBridge Scheduler schedules fire on the emulator: on their own (the ticker) and on request, invoking their Lambda targets with the target's Input. */
import { LocalRouteError, readScheduleRuns, runSchedule, type ScheduleRun } from '../../lambda/local-aws';
import { uniqueName } from './fixtures';
import { createFunction, type Emulator, eventually, loggedLines, startEmulator } from './rotation-fixtures';

let emulator: Emulator;
let target: { name: string; arn: string };

beforeAll(async () => {
  // A 1 s tick instead of 30 s, so schedules come due within the test.
  emulator = await startEmulator({ schedulerTickSeconds: 1 });
  target = await createFunction(emulator, 'exports.handler = async (event) => { console.log("RECEIVED " + JSON.stringify(event)); };');
});

afterAll(async () => {
  await emulator?.stop();
});

/**
 * EventBridge Scheduler's REST API, called directly: the repo has no Scheduler SDK client and
 * needs none (Terraform creates the real schedules). moto routes on the credential scope.
 */
async function scheduler(method: 'POST' | 'GET', name: string, body?: Record<string, unknown>): Promise<Response> {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  return fetch(`${emulator.endpoint}/schedules/${encodeURIComponent(name)}`, {
    method,
    headers: {
      'content-type': 'application/json',
      authorization: `AWS4-HMAC-SHA256 Credential=test/20240101/${region}/scheduler/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function createSchedule(expression: string, options: { state?: 'ENABLED' | 'DISABLED'; input?: unknown; targetArn?: string; extra?: Record<string, unknown> } = {}): Promise<string> {
  const name = uniqueName('schedule');
  const response = await scheduler('POST', name, {
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: options.state ?? 'ENABLED',
    Target: { Arn: options.targetArn ?? target.arn, RoleArn: 'arn:aws:iam::123456789012:role/scheduler', ...(options.input === undefined ? {} : { Input: JSON.stringify(options.input) }) },
    ...options.extra,
  });
  expect(response.status).toBe(200);
  return name;
}

async function received(): Promise<unknown[]> {
  return (await loggedLines(emulator, target.name, 'RECEIVED ')).map((line) => JSON.parse(line));
}

async function runsOf(name: string): Promise<ScheduleRun[]> {
  return readScheduleRuns(emulator.endpoint, { name });
}

/** `at()` takes seconds-precision local time, here UTC. */
function atExpression(when: Date): string {
  return `at(${when.toISOString().slice(0, 19)})`;
}

describe('happy path', () => {
  it("runs a schedule on request, whatever its state: its Lambda target gets the target's Input as the event", async () => {
    const input = { keyroll: 'sweep', marker: uniqueName('run') };
    const name = await createSchedule('rate(5 minutes)', { state: 'DISABLED', input });

    const run = await runSchedule(emulator.endpoint, name);

    expect(run).toMatchObject({ scheduleName: name, groupName: 'default', targetArn: target.arn, trigger: 'run', result: 'invoked' });
    await eventually(async () => ((await received()).some((event) => JSON.stringify(event) === JSON.stringify(input)) ? true : undefined), 'the target to receive the Input');
  });

  it('fires due ENABLED schedules on its own: a rate() at once and then once per interval, an at() once (deleted after, if asked), nothing disabled or not yet started', async () => {
    const rate = await createSchedule('rate(1 hour)', { input: { from: 'rate' } });
    const once = await createSchedule(atExpression(new Date(Date.now() + 2000)), { input: { from: 'at' }, extra: { ActionAfterCompletion: 'DELETE' } });
    const disabled = await createSchedule('rate(1 minute)', { state: 'DISABLED', input: { from: 'disabled' } });
    const later = await createSchedule('rate(1 minute)', { input: { from: 'later' }, extra: { StartDate: Math.floor(Date.now() / 1000) + 3600 } });

    const fired = await eventually(async () => {
      const [rateRuns, onceRuns] = await Promise.all([runsOf(rate), runsOf(once)]);
      return rateRuns.length > 0 && onceRuns.length > 0 ? { rateRuns, onceRuns } : undefined;
    }, 'the rate() and at() schedules to fire');
    expect(fired.rateRuns[0]).toMatchObject({ trigger: 'tick', result: 'invoked', scheduleExpression: 'rate(1 hour)' });
    expect(fired.onceRuns[0]).toMatchObject({ trigger: 'tick', result: 'invoked' });
    await eventually(async () => {
      const sources = (await received()).map((event) => (event as { from?: string }).from);
      return sources.includes('rate') && sources.includes('at') ? true : undefined;
    }, 'both targets to run');

    // A few more ticks: nothing fires twice, and nothing disabled or not started fires at all.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await runsOf(rate)).toHaveLength(1);
    expect(await runsOf(once)).toHaveLength(1);
    expect(await runsOf(disabled)).toHaveLength(0);
    expect(await runsOf(later)).toHaveLength(0);
    expect((await scheduler('GET', once)).status).toBe(404);
  });
});

describe('errors', () => {
  it('records a target other than a Lambda function as not supported instead of pretending it ran', async () => {
    const name = await createSchedule('rate(1 day)', { state: 'DISABLED', targetArn: 'arn:aws:sqs:us-east-1:123456789012:keyroll-queue' });

    const run = await runSchedule(emulator.endpoint, name);

    expect(run).toMatchObject({ result: 'not-supported', error: { code: 'TARGET_NOT_SUPPORTED', message: expect.stringContaining('arn:aws:sqs') } });
  });

  it('answers an unknown schedule with 404 and a body without a name with 400, saying what to pass', async () => {
    const missing = runSchedule(emulator.endpoint, 'no-such-schedule');
    await expect(missing).rejects.toBeInstanceOf(LocalRouteError);
    await expect(missing).rejects.toMatchObject({ status: 404, code: 'SCHEDULE_NOT_FOUND', message: expect.stringContaining('groupName') });

    const unnamed = await fetch(`${emulator.endpoint}/keyroll-local/scheduler/run`, { method: 'POST', body: '{}' });
    expect(unnamed.status).toBe(400);
    expect(await unnamed.json()).toEqual({ code: 'INVALID_BODY', message: expect.stringContaining('"name"') });
  });
});
