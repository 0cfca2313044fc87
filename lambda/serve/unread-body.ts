/**
 * Keeps HTTP/1.1 keep-alive sound when the app answers before reading the whole request body: a
 * 401/403 from authentication, a 413 from the body limit, a 404. Node only, Lambda never sees a
 * connection: its front end (function URL, API Gateway) reads the whole body before invoking us.
 *
 * Why it is needed: once a body reader has started (the body limit does so), an abandoned reader
 * keeps the request paused, so the server stops reading the socket mid-body. A keep-alive client
 * that has already written the rest of the body then sends its next request behind it. That
 * request is never read, and @hono/node-server's own cleanup cuts the socket under it 500 ms later
 * (undici: UND_ERR_SOCKET, node:http: ECONNRESET).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Http2Bindings, HttpBindings } from '@hono/node-server';

/**
 * How long and how much a connection answered with `Connection: close` keeps discarding the
 * refused body, so that a client still sending it finishes and reads the answer instead of
 * getting EPIPE or a reset. Beyond either bound the socket is destroyed. 8 MiB covers any body a
 * sane client sends to a 256 KiB limit; 2 s is ample for a client that is actually sending.
 */
export const LINGER_LIMITS = { bytes: 8 * 1024 * 1024, ms: 2000 } as const;

type Fetch = (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

/**
 * The app's fetch for @hono/node-server, with unread bodies settled. Serve it with
 * `autoCleanupIncoming: false`: the adapter's own cleanup cuts a connection after 500 ms, before a
 * client still sending has finished.
 */
export function settlingUnreadBodies(fetch: Fetch): Fetch {
  return (request, env) => {
    // HTTP/1.1 only: keep-alive bodies are its problem, and startServer serves nothing else.
    const { incoming, outgoing } = env as HttpBindings;
    // The app never starts reading a GET or HEAD body, and Node discards an untouched body itself,
    // so the hot path (whoami, health) goes straight to the app with no extra work.
    if (incoming.method === 'GET' || incoming.method === 'HEAD') return fetch(request, env);
    return settleUnreadBody(fetch(request, env), incoming, outgoing);
  };
}

/**
 * If the body is still arriving when the answer is ready, the answer says `Connection: close` and
 * the rest of the body is discarded within LINGER_LIMITS. A body that has all arrived needs
 * nothing: the parser is already past it, and Node drops what nobody read.
 */
async function settleUnreadBody(response: Response | Promise<Response>, incoming: IncomingMessage, outgoing: ServerResponse): Promise<Response> {
  try {
    return await response;
  } finally {
    // Node hands the body over after the headers' callback and its microtasks have run, so a body
    // sent with the headers may not be parsed yet: let the socket read that carried it finish.
    if (!incoming.complete) await new Promise<void>((resolve) => setImmediate(resolve));
    if (!incoming.complete && !outgoing.headersSent) lingerThenClose(incoming, outgoing);
  }
}

function lingerThenClose(incoming: IncomingMessage, outgoing: ServerResponse): void {
  // Without it the client would write its next request behind a body nobody reads.
  outgoing.setHeader('Connection', 'close');
  // Node ends a `Connection: close` answer with socket.destroySoon(). Closing a socket that still
  // receives body bytes makes the kernel answer them with a reset, and the client gets EPIPE or
  // ECONNRESET, possibly before it read the answer: linger instead, as nginx and Apache do, and
  // close once the body is in (or at a bound). Were a future Node to close some other way, the
  // answer still says `Connection: close`; only the lingering would be lost.
  const socket = incoming.socket as Socket & { destroySoon(): void };
  if (socket.destroyed) return;
  const closeSoon = socket.destroySoon;
  let answered = false;
  let bodyIn = false;
  let discarded = 0;
  const closeIfDone = () => {
    if (!answered || !bodyIn) return;
    clearTimeout(timer);
    closeSoon.call(socket);
  };
  const cut = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  socket.destroySoon = () => {
    answered = true;
    closeIfDone();
  };
  const timer = setTimeout(cut, LINGER_LIMITS.ms);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  // An abandoned body reader paused the request, and with it the socket; its listener would pause
  // it again at the next chunk.
  incoming.removeAllListeners('data');
  incoming.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_LIMITS.bytes) cut();
  });
  incoming.resume();
  incoming.once('end', () => {
    bodyIn = true;
    closeIfDone();
  });
}
