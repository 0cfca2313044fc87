/** Reads a request's JSON body within a size limit, with errors that say what to fix. */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errors } from '../errors';

/** Management and verify bodies are small JSON documents. */
export const JSON_BODY_LIMIT_BYTES = 16 * 1024;

/** Rejects bodies over `maxBytes` with PAYLOAD_TOO_LARGE before they are buffered; `fix` says what to do instead. */
export function limitBody(maxBytes: number, fix?: string): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw errors.payloadTooLarge(maxBytes, fix);
    },
  });
}

/** An absent body reads as `{}` when `emptyAs` is given (e.g. regenerate's optional options). */
export async function readJson(c: Context, emptyAs?: unknown): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (emptyAs !== undefined) return emptyAs;
    throw errors.validation('body', 'is empty', 'Send a JSON document with Content-Type: application/json.');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's own message quotes the body, which may hold a key: report only the position.
    const position = /position (\d+)/.exec(String((error as Error).message))?.[1];
    throw errors.validation(
      'body',
      `is not valid JSON${position ? ` (error at character ${position})` : ''}`,
      'Send a JSON document with Content-Type: application/json.',
    );
  }
}
