/**
 * Finds JSON nested too deep, without recursion: the values it guards against (a 256 KiB body holds
 * 130k levels) would overflow any recursive walk, JSON.stringify's included (about 4k levels).
 */

/** One step of a path, linked to its parent, so that a step costs the same at any depth. */
interface Step {
  readonly key: string | number;
  readonly parent?: Step;
}

/**
 * The path to the first object or array in `value` nested deeper than `maxDepth`, counting `value`
 * itself as depth 1 and scalars as no depth; undefined when there is none. JSON.parse output only:
 * it has no cycles.
 */
export function pathDeeperThan(value: unknown, maxDepth: number): Array<string | number> | undefined {
  if (!isContainer(value)) return undefined;
  const pending: Array<{ value: object; depth: number; at?: Step }> = [{ value, depth: 1 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (next.depth > maxDepth) return segments(next.at);
    const { value: container, depth, at } = next;
    // Pushed in reverse, so the first too-deep value in document order is the one reported.
    const entries: Array<[string | number, unknown]> = Array.isArray(container)
      ? container.map((item, index) => [index, item])
      : Object.entries(container);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i];
      if (isContainer(child)) pending.push({ value: child, depth: depth + 1, at: { key, parent: at } });
    }
  }
  return undefined;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function segments(step: Step | undefined): Array<string | number> {
  const path: Array<string | number> = [];
  for (let at = step; at; at = at.parent) path.push(at.key);
  return path.reverse();
}
