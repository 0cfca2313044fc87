/**
 * Whose a consumer resource is: keyroll tags what it creates for a key with `keyroll:key =
 * <tenant>/<name>`, and writes a credential only into a resource tagged for that key.
 */

/** The tag a consumer resource is created with, naming the key it carries. */
export const OWNER_TAG = 'keyroll:key';

/** The tag value for a key. */
export const ownerTagValue = (tenant: string, name: string) => `${tenant}/${name}`;

/** The key a consumer belongs to, as its `keyroll:key` tag names it. */
export interface ConsumerOwner {
  /** `<tenant>/<name>` of the key: resources are created, and taken over, with this tag value. */
  readonly key: string;
  /**
   * Earlier `<tenant>/<name>` of the same declaration (before a rename or a move to another tenant):
   * resources tagged so are this key's too, and are re-tagged when the key is written into them.
   * @default []
   */
  readonly formerly?: readonly string[];
}

/** The owner for a declared key, and the name it had before, if it moved. */
export function consumerOwner(declared: { tenant: string; name: string }, previous?: { tenant: string; name: string }): ConsumerOwner {
  const key = ownerTagValue(declared.tenant, declared.name);
  const formerly = previous ? ownerTagValue(previous.tenant, previous.name) : key;
  return formerly === key ? { key } : { key, formerly: [formerly] };
}

/** Whether a resource's `keyroll:key` tag (undefined: none) names this owner, now or formerly. */
export function isOwner(owner: ConsumerOwner, tag: string | undefined): boolean {
  return tag !== undefined && (tag === owner.key || (owner.formerly ?? []).includes(tag));
}
