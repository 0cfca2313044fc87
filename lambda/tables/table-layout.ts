/**
 * The keys table's layout: every kind of item it holds, and the one place their key prefixes are
 * spelt. The service's IAM condition (`dynamodb:LeadingKeys`) is built from SERVICE_PARTITIONS, so
 * a new kind of item is either in the service's reach on purpose or out of it.
 */

export const PARTITIONS = {
  /** Key records (`KEY#<id>`), usage markers (`USAGE#<id>`), the tenant's declared permissions. */
  tenant: 'TENANT#',
  /** Secret pointers: which key a secret hash opens. */
  secret: 'SECRET#',
  /** Declared specs, owned by Terraform. */
  spec: 'SPEC#',
  /** The provisioner's records of what it handed out. */
  provisioned: 'PROVISIONED#',
  /** Rotation state and the lease that keeps rotation steps, sweeps and deploys of a key apart. */
  rotation: 'ROTATION#',
  /**
   * A key's usage series (`USAGE_SERIES#<tenant>#<keyId>`): one item per minute (`m#<ISO minute>`)
   * and per hour (`h#<ISO hour>`). A partition per key, so series writes spread across keys instead
   * of piling onto the tenant's partition, and one Query reads a range in time order.
   */
  usageSeries: 'USAGE_SERIES#',
  /**
   * The audit log: each entry twice, under the tenant (`AUDIT#<tenant>`) and under its key
   * (`AUDIT#<tenant>#<keyId>`), sort key `<ISO time>#<entry id>`, so both views are one Query,
   * newest first. Removed by TTL (AUDIT_RETENTION_DAYS, 400 days).
   */
  audit: 'AUDIT#',
  /**
   * The console's server-side sessions (`CONSOLE#session#<sha256 of the cookie>`) and one-time
   * sign-in links (`CONSOLE#link#<sha256 of the token>`): only hashes, so a table read opens no
   * session. Removed by TTL; the console also checks expiry itself (TTL deletes within days).
   */
  console: 'CONSOLE#',
  /**
   * Alerts on unusual activity: each alert twice, under the tenant (`ALERT#<tenant>`) and under its
   * key (`ALERT#<tenant>#<keyId>`), sort key `<ISO time>#<alert id>`, so both views are one Query,
   * newest first, as for the audit log.
   */
  alerts: 'ALERT#',
  /**
   * The source IPs a key was used from (`SOURCES#<tenant>#<keyId>`, sort key the IP), so the
   * new-source alert is one conditional put per source, not a scan of the usage history.
   */
  sources: 'SOURCES#',
} as const;

/** Sort-key prefixes inside a tenant's partition. */
export const TENANT_ITEMS = { key: 'KEY#', usage: 'USAGE#', permissions: 'PERMISSIONS' } as const;

/**
 * The partitions the internet-facing key service may touch. Specs and provisioner records steer
 * the provisioner, so the service must never be able to write them.
 */
export const SERVICE_PARTITIONS: readonly string[] = [PARTITIONS.tenant, PARTITIONS.secret, PARTITIONS.usageSeries, PARTITIONS.audit, PARTITIONS.console, PARTITIONS.alerts, PARTITIONS.sources];

const SECRET_SK = 'SECRET';

export const tenantPartition = (tenant: string) => `${PARTITIONS.tenant}${tenant}`;
export const keyItemKey = (tenant: string, id: string) => ({ pk: tenantPartition(tenant), sk: `${TENANT_ITEMS.key}${id}` });
export const usageMarkerKey = (tenant: string, deltaId: string) => ({ pk: tenantPartition(tenant), sk: `${TENANT_ITEMS.usage}${deltaId}` });
export const usageSeriesPartition = (tenant: string, keyId: string) => `${PARTITIONS.usageSeries}${tenant}#${keyId}`;
/** `m` for minute buckets, `h` for hour buckets; `at` is the bucket's start, ISO-8601. */
export const usageSeriesItemKey = (tenant: string, keyId: string, granularity: 'm' | 'h', at: string) => ({
  pk: usageSeriesPartition(tenant, keyId),
  sk: `${granularity}#${at}`,
});
export const auditPartition = (tenant: string) => `${PARTITIONS.audit}${tenant}`;
/** `#` cannot appear in a tenant id, so a key's partition never collides with another tenant's. */
export const keyAuditPartition = (tenant: string, keyId: string) => `${PARTITIONS.audit}${tenant}#${keyId}`;
export const auditItemKey = (partition: string, at: string, entryId: string) => ({ pk: partition, sk: `${at}#${entryId}` });
export const alertPartition = (tenant: string) => `${PARTITIONS.alerts}${tenant}`;
/** `#` cannot appear in a tenant id, so a key's partition never collides with another tenant's. */
export const keyAlertPartition = (tenant: string, keyId: string) => `${PARTITIONS.alerts}${tenant}#${keyId}`;
export const alertItemKey = (partition: string, at: string, alertId: string) => ({ pk: partition, sk: `${at}#${alertId}` });
export const keySourcesPartition = (tenant: string, keyId: string) => `${PARTITIONS.sources}${tenant}#${keyId}`;
export const keySourceItemKey = (tenant: string, keyId: string, ip: string) => ({ pk: keySourcesPartition(tenant, keyId), sk: ip });
export const consoleSessionItemKey = (sessionHash: string) => ({ pk: `${PARTITIONS.console}session#${sessionHash}`, sk: 'SESSION' });
export const consoleLinkItemKey = (tokenHash: string) => ({ pk: `${PARTITIONS.console}link#${tokenHash}`, sk: 'LINK' });
export const declaredPermissionsItemKey = (tenant: string) => ({ pk: tenantPartition(tenant), sk: TENANT_ITEMS.permissions });
export const secretItemKey = (credentialHash: string) => ({ pk: `${PARTITIONS.secret}${credentialHash}`, sk: SECRET_SK });
export const specItemKey = (tenant: string, name: string) => ({ pk: `${PARTITIONS.spec}${tenant}`, sk: name });
export const rotationItemKey = (tenant: string, name: string) => ({ pk: `${PARTITIONS.rotation}${tenant}`, sk: name });
/**
 * The index of rotations that need the sweep (under way, draining or failed): one item per key,
 * `<tenant>/<name>`, so a sweep reads only those, never every key. `_` cannot start a tenant id.
 */
export const ACTIVE_ROTATIONS_PARTITION = `${PARTITIONS.rotation}_active`;
export const activeRotationItemKey = (tenant: string, name: string) => ({ pk: ACTIVE_ROTATIONS_PARTITION, sk: `${tenant}/${name}` });
export const provisionedKeyItemKey = (tenant: string, name: string) => ({ pk: `${PARTITIONS.provisioned}${tenant}`, sk: name });
