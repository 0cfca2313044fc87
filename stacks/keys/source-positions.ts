/**
 * Where a path into a YAML document (`['keys', 3, 'environment']`) is written in its file, so a
 * problem found in the parsed data can be reported at its line and column.
 */
import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { IssuePath } from './declaration-issue';

export interface SourcePosition {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

/**
 * The position of the value at `path`, or of its field name with `atFieldName` (for a field that
 * should not be there). A path that leads nowhere (a missing field) ends at the deepest node that
 * exists: the map the field is missing from.
 */
export function positionOf(document: Document, lineCounter: LineCounter, path: IssuePath, options: { atFieldName?: boolean } = {}): SourcePosition {
  let node: unknown = document.contents;
  let position = node ? at(node as Node, lineCounter) : { line: 1, column: 1 };
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === String(segment));
      if (!pair) break;
      const value = pair.value as Node | null;
      if (isScalar(pair.key)) position = at(pair.key, lineCounter);
      // `rotation:` with nothing after it: the field name is the only place to point at.
      if ((last && options.atFieldName) || !value || !hasText(value)) {
        node = undefined;
        break;
      }
      node = value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment]) {
      node = node.items[segment];
    } else {
      break;
    }
    position = at(node as Node, lineCounter);
  }
  return position;
}

function at(node: Node, lineCounter: LineCounter): SourcePosition {
  const { line, col } = lineCounter.linePos(node.range?.[0] ?? 0);
  return { line, column: col };
}

const hasText = (node: Node) => !!node.range && node.range[1] > node.range[0];
