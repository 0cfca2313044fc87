/** A function's RevisionId on the emulator (moto_lambda_revisions.py), as Lambda has it: returned, renewed by each update, and checked by UpdateFunctionConfiguration. */
import { GetFunctionCommand, GetFunctionConfigurationCommand, LambdaClient, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { createNodeFunction, emulatorClientConfig, zip } from './fixtures';

const lambda = new LambdaClient(emulatorClientConfig());
afterAll(() => lambda.destroy());

const HANDLER = { 'index.js': 'exports.handler = async () => "ok";' };
const configOf = (name: string) => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));

it('is returned by GetFunction and GetFunctionConfiguration, and renewed by every configuration or code update', async () => {
  const name = await createNodeFunction(lambda, HANDLER, { Environment: { Variables: { A: '1' } } });
  const created = await configOf(name);
  expect(created.RevisionId).toEqual(expect.any(String));
  expect((await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration?.RevisionId).toBe(created.RevisionId);

  const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Description: 'changed' }));
  expect(updated.RevisionId).not.toBe(created.RevisionId);
  expect((await configOf(name)).RevisionId).toBe(updated.RevisionId);

  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip({ 'index.js': 'exports.handler = async () => "new";' }) }));
  expect((await configOf(name)).RevisionId).not.toBe(updated.RevisionId);
});

it('makes UpdateFunctionConfiguration with a stale RevisionId fail with PreconditionFailedException (412) and change nothing', async () => {
  const name = await createNodeFunction(lambda, HANDLER, { Environment: { Variables: { A: '1' } } });
  const read = await configOf(name);
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Environment: { Variables: { A: '1', B: 'meanwhile' } } }));

  const error = await lambda
    .send(new UpdateFunctionConfigurationCommand({ FunctionName: name, RevisionId: read.RevisionId, Environment: { Variables: { A: '2' } } }))
    .catch((e: unknown) => e as { name: string; $metadata: { httpStatusCode?: number } });

  expect(error).toMatchObject({ name: 'PreconditionFailedException', $metadata: { httpStatusCode: 412 } });
  expect((await configOf(name)).Environment?.Variables).toEqual({ A: '1', B: 'meanwhile' });

  const current = await configOf(name);
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, RevisionId: current.RevisionId, Environment: { Variables: { A: '2' } } }));
  expect((await configOf(name)).Environment?.Variables).toEqual({ A: '2' });
});
