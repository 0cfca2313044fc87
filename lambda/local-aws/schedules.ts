/** The emulator's EventBridge Scheduler schedules, fired from code and seen firing (see moto_scheduler.py). */
import { callLocalRoute } from './local-routes';

/** One firing of one schedule. */
export interface ScheduleRun {
  /** Increases by one per run: pass the last one seen as `since` to get only newer ones. */
  readonly seq: number;
  /** ISO 8601. */
  readonly at: string;
  readonly scheduleArn: string;
  readonly scheduleName: string;
  readonly groupName: string;
  readonly scheduleExpression: string;
  readonly targetArn: string;
  /** `tick`: the schedule came due. `run`: {@link runSchedule}. */
  readonly trigger: 'tick' | 'run';
  /** `invoked`: the Lambda target was invoked asynchronously with the target's Input. `not-supported`: not a Lambda function target. */
  readonly result: 'invoked' | 'failed' | 'not-supported';
  readonly error?: { readonly code: string; readonly message: string };
}

export interface RunScheduleOptions {
  /** @default 'default' */
  readonly groupName?: string;
  /** Needed only when the schedule's name is used in several regions or accounts of the emulator. */
  readonly region?: string;
  readonly accountId?: string;
}

/**
 * Fires the schedule now, whatever its expression and state: its Lambda target is invoked
 * asynchronously with the target's Input. Rejects with a LocalRouteError (code SCHEDULE_NOT_FOUND
 * or SCHEDULE_AMBIGUOUS) when it cannot tell which schedule.
 *
 * @example
 * const run = await runSchedule(aws.endpoint, 'keyroll-rotation-sweep');
 */
export async function runSchedule(endpoint: string, name: string, options: RunScheduleOptions = {}): Promise<ScheduleRun> {
  const answer = await callLocalRoute<{ run: ScheduleRun }>(endpoint, 'scheduler/run', { method: 'POST', body: { name, ...options } });
  return answer.run;
}

/** The schedules that fired (on their own or through {@link runSchedule}), oldest first; the emulator keeps the last 1000. */
export async function readScheduleRuns(endpoint: string, query: { readonly name?: string; readonly since?: number; readonly limit?: number } = {}): Promise<ScheduleRun[]> {
  const answer = await callLocalRoute<{ runs: ScheduleRun[] }>(endpoint, 'scheduler/runs', { query: { ...query } });
  return answer.runs;
}
