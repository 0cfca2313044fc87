/**
 * `keyroll bootstrap --tenant T`: the one way in without a key. Creates the tenant's owner key, which
 * holds every permission (`*`) so it can grant any of them, directly in the store, and prints it
 * once on stdout (everything else goes to stderr, so it can be piped).
 */
import { parseInput } from '../../validation';
import { environmentSchema, nameSchema, tenantSchema } from '../../keys/key-input';
import { ALL_PERMISSIONS } from '../../keys/permissions';
import { KeyManager } from '../../manage/key-manager';
import { createDocumentClient } from '../../store/dynamodb-client';
import { DynamoDbKeyStore } from '../../store/dynamodb-key-store';
import { tableNamesFromEnv } from '../../tables/table-names';
import { serviceEnvironmentFromEnv } from '../../deploy-env/service-environment';
import { ensureTablesIfLocal } from '../local-setup';

export interface BootstrapOptions {
  readonly tenant: string;
  readonly environment?: string;
  readonly name: string;
}

export async function bootstrapKey(options: BootstrapOptions): Promise<{ id: string; key: string }> {
  const tenant = parseInput(tenantSchema, options.tenant, '--tenant');
  const environment = options.environment ? parseInput(environmentSchema, options.environment, '--environment') : serviceEnvironmentFromEnv();
  const name = parseInput(nameSchema, options.name, '--name');
  await ensureTablesIfLocal((line) => process.stderr.write(`${line}\n`));
  const manager = new KeyManager({ store: new DynamoDbKeyStore(createDocumentClient(), tableNamesFromEnv().keys) });
  const { record, key } = await manager.create(tenant, {
    name,
    environment,
    permissions: [ALL_PERMISSIONS],
  });
  return { id: record.id, key };
}

export async function bootstrapCommand(options: BootstrapOptions): Promise<void> {
  const { id, key } = await bootstrapKey(options);
  process.stderr.write(
    `Created owner key ${id} for tenant ${options.tenant}: it holds every permission (*). It is shown once; store it in a vault, and create narrower key managers for daily use.\n`,
  );
  process.stdout.write(`${key}\n`);
}
