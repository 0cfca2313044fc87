/**
 * The cursor of a newest-first feed (the audit log, alerts): the last returned item's sort key,
 * `<ISO time>#<id>`, base64url-encoded. Decoding accepts only that shape, so a cursor can only move
 * within the partition the route reads (the route builds the partition, never the client).
 */
import { errors } from '../errors';

const POSITION = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)#(.+)$/;

export function encodeFeedCursor(position: string | undefined): string | null {
  return position ? Buffer.from(position, 'utf8').toString('base64url') : null;
}

/** The position in `cursor`; a 400 naming `query.cursor` when it is not one this API returned. */
export function decodeFeedCursor(cursor: string, isId: (id: string) => boolean, newest: string): string {
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = POSITION.exec(position);
  if (!match || Number.isNaN(Date.parse(match[1])) || !isId(match[2])) {
    throw errors.validation('query.cursor', 'is not a cursor this API returned', `Pass \`nextCursor\` from the previous page unchanged, or omit it to start from the ${newest}.`);
  }
  return position;
}
