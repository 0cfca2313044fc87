/**
 * keyroll's DynamoDB tables: keys (records, secret pointers, declared specs, provisioner records),
 * rate-limit windows and telemetry. Same names and key schema the service uses by default, so
 * `keyroll serve` against a deployed account needs no configuration.
 */
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { Construct } from 'constructs';
import { TABLE_KEY_SCHEMA, TELEMETRY_TENANT_INDEX, type TableNames, tableNamesFromEnv } from '../../lambda/tables/table-names';

export interface KeyTablesProps {
  /** @default the service's defaults: keyroll-keys, keyroll-rate-limits, keyroll-telemetry */
  readonly names?: TableNames;
  /**
   * Guard against accidental deletion (deletion protection and Terraform's prevent_destroy).
   * @default true
   */
  readonly protect?: boolean;
}

export class KeyTables extends Construct {
  readonly names: TableNames;
  readonly keys: DynamodbTable;
  readonly rateLimits: DynamodbTable;
  readonly telemetry: DynamodbTable;

  constructor(scope: Construct, id: string, props: KeyTablesProps = {}) {
    super(scope, id);
    this.names = props.names ?? tableNamesFromEnv({});
    const protect = props.protect ?? true;
    const table = (tableId: string, name: string, pointInTimeRecovery: boolean, tenantIndex = false) =>
      new DynamodbTable(this, tableId, {
        name,
        billingMode: 'PAY_PER_REQUEST',
        hashKey: TABLE_KEY_SCHEMA.partitionKey,
        rangeKey: TABLE_KEY_SCHEMA.sortKey,
        attribute: [
          { name: TABLE_KEY_SCHEMA.partitionKey, type: 'S' },
          { name: TABLE_KEY_SCHEMA.sortKey, type: 'S' },
          ...(tenantIndex ? [{ name: TELEMETRY_TENANT_INDEX.partitionKey, type: 'S' }] : []),
        ],
        ...(tenantIndex
          ? {
              globalSecondaryIndex: [
                {
                  name: TELEMETRY_TENANT_INDEX.name,
                  hashKey: TELEMETRY_TENANT_INDEX.partitionKey,
                  rangeKey: TELEMETRY_TENANT_INDEX.sortKey,
                  projectionType: 'ALL',
                },
              ],
            }
          : {}),
        // Retired secret pointers and old rate-limit windows expire on their own.
        ttl: { attributeName: TABLE_KEY_SCHEMA.ttlAttribute, enabled: true },
        pointInTimeRecovery: { enabled: pointInTimeRecovery },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: protect,
        lifecycle: { preventDestroy: protect },
      });
    this.keys = table('keys', this.names.keys, true);
    // Rate-limit windows live seconds to minutes: restoring them would be meaningless.
    this.rateLimits = table('rate-limits', this.names.rateLimits, false);
    // Indexed by tenant too, for a tenant's latest readings across devices.
    this.telemetry = table('telemetry', this.names.telemetry, true, true);
  }
}
