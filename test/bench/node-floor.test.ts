/**
 * The bench's control replays keyroll's answers exactly: same status, headers (Date, Connection and
 * Keep-Alive aside, which Node adds to both) and body, with the remaining quota counting down;
 * anything else is a 404. If it answered differently, its ratio would not be the floor it claims.
 */
import { type ServerProcess } from './http-load';
import { type RecordedAnswer, recordAnswer, startNodeFloor } from './node-floor';
import { type Harness, startHarness } from '../support/service-harness';

let harness: Harness;
let floor: ServerProcess | undefined;

beforeAll(async () => {
  harness = await startHarness({ service: { autoFlushUsage: false } });
});
afterAll(async () => {
  await floor?.stop();
  await harness.stop();
});

const withoutRemaining = (answer: RecordedAnswer) => ({ ...answer, headers: answer.headers.filter((_, i, all) => all[i - (i % 2)].toLowerCase() !== 'x-ratelimit-remaining') });
const remainingOf = (answer: RecordedAnswer) => Number(answer.headers[answer.headers.findIndex((h) => h.toLowerCase() === 'x-ratelimit-remaining') + 1]);

it('answers /healthz and /v1/whoami with the bytes keyroll answered them with', async () => {
  const { key } = await harness.issue('acme', { permissions: ['telemetry:write'], rateLimit: { limit: 1000, windowSeconds: 60 } });
  const headers = { 'x-api-key': key };
  await recordAnswer(`${harness.url}/v1/whoami`, headers); // the first answer of a key comes from the app: warm the hot path
  const answers = { healthz: await recordAnswer(`${harness.url}/healthz`, {}), whoami: await recordAnswer(`${harness.url}/v1/whoami`, headers) };
  expect(answers.whoami.status).toBe(200);
  expect(answers.whoami.body).not.toContain(key);

  floor = await startNodeFloor(answers, undefined);
  expect(await recordAnswer(`${floor.url}/healthz`, {})).toEqual(answers.healthz);
  const replayed = [await recordAnswer(`${floor.url}/v1/whoami`, headers), await recordAnswer(`${floor.url}/v1/whoami`, headers)];
  for (const answer of replayed) expect(withoutRemaining(answer)).toEqual(withoutRemaining(answers.whoami));
  expect(replayed.map(remainingOf)).toEqual([remainingOf(answers.whoami) - 1, remainingOf(answers.whoami) - 2]);
  expect((await recordAnswer(`${floor.url}/v1/whoami?x=1`, headers)).status).toBe(404);
});
