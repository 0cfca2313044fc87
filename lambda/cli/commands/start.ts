/**
 * `keyroll start` (the README's run command): the emulator, the service and a first admin key for
 * tenant `acme`, all in one foreground process, then what to try next.
 */
import { startLocalAws } from '../../local-aws';
import { startServer } from '../../serve/node-server';
import { ensureTablesIfLocal, useLocalAwsDefaults } from '../local-setup';
import { untilInterrupted } from '../until-interrupted';
import { bootstrapKey } from './bootstrap';
import { portFromEnv } from './serve';

const TENANT = 'acme';

export async function startCommand(): Promise<void> {
  const say = (line = '') => process.stdout.write(`${line}\n`);
  say('Starting local AWS (moto) …');
  const localAws = await startLocalAws({ port: 0 });
  try {
    useLocalAwsDefaults(localAws.endpoint);
    await ensureTablesIfLocal(say);
    const server = await startServer(portFromEnv());
    const { id, key } = await bootstrapKey({ tenant: TENANT, name: 'local admin' });
    say(`Local AWS:   ${localAws.endpoint}`);
    say(`keyroll:     ${server.url}`);
    say(`Admin key ${id} for tenant ${TENANT} (keys:manage), shown once:`);
    say(`  export KEY=${key}`);
    say();
    say('Try:');
    say(`  curl -s ${server.url}/v1/whoami -H "x-api-key: $KEY"`);
    say(`  curl -s ${server.url}/v1/tenants/${TENANT}/api-keys -H "x-api-key: $KEY" -H 'content-type: application/json' \\`);
    say(`    -d '{"name":"sensor fleet","environment":"production","permissions":["telemetry:write"]}'`);
    say(`  curl -s ${server.url}/v1/tenants/${TENANT}/api-keys -H "x-api-key: $KEY"`);
    say();
    say('Press Ctrl-C to stop.');
    await untilInterrupted();
    await server.stop();
  } finally {
    await localAws.stop();
  }
}
