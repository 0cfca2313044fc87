/**
 * A tenant's declared permissions as a keys-table item Terraform owns
 * (`pk = TENANT#<tenant>`, `sk = PERMISSIONS`), which the key service reads to refuse, at create
 * and update, a permission that is neither keyroll's own nor declared.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import { DynamodbTableItem } from '@cdktf/provider-aws/lib/dynamodb-table-item';
import { Construct } from 'constructs';
import { declaredPermissionsItemKey } from '../../lambda/tables/table-layout';
import { TABLE_KEY_SCHEMA } from '../../lambda/tables/table-names';
import { validateDeclaredPermissions } from './declared-permissions';

export interface DeclaredPermissionsItemProps {
  readonly keysTableName: string;
  readonly tenant: string;
  /** The tenant's own permissions, e.g. `['customers:read']`; not `*`, wildcards or keyroll's own. */
  readonly permissions: readonly string[];
}

export class DeclaredPermissionsItem extends Construct {
  readonly item: DynamodbTableItem;

  constructor(scope: Construct, id: string, props: DeclaredPermissionsItemProps) {
    super(scope, id);
    validateDeclaredPermissions(props.tenant, props.permissions);
    const item = { ...declaredPermissionsItemKey(props.tenant), kind: 'permissions', permissions: [...props.permissions] };
    this.item = new DynamodbTableItem(this, 'item', {
      tableName: props.keysTableName,
      hashKey: TABLE_KEY_SCHEMA.partitionKey,
      rangeKey: TABLE_KEY_SCHEMA.sortKey,
      item: JSON.stringify(marshall(item)),
    });
  }
}
