/**
 * The benchmark's control: a bare node:http server with none of keyroll's code, answering
 * `GET /healthz` and `GET /v1/whoami` with the very bytes keyroll's server answered them with
 * (status, headers, body; Node adds Date and the keep-alive headers to both alike), written the way
 * keyroll's hot path writes them (one flat header array, one Buffer body). The whoami answer's
 * remaining quota counts down, as a real one does. What whoami ÷ healthz is here is the part of the
 * ratio that Node's HTTP and the bigger exchange (an extra request header, three more response
 * headers, a longer body) cost on this machine, before keyroll checks anything.
 *
 * Plain JavaScript, so no TypeScript loader runs in it. Reads FLOOR_ANSWERS (JSON:
 * {healthz|whoami: {status, headers: [name, value, ...], body}}) and PORT; prints
 * "serving at http://…" on stderr, as `keyroll serve` does.
 */
'use strict';
const http = require('node:http');

const answers = JSON.parse(process.env.FLOOR_ANSWERS);
const REMAINING = 'x-ratelimit-remaining';
const fixed = Object.fromEntries(
  Object.entries(answers).map(([name, { status, headers, body }]) => {
    const bytes = Buffer.from(body);
    const remainingAt = headers.findIndex((header, i) => i % 2 === 0 && header.toLowerCase() === REMAINING);
    return [`/${name === 'whoami' ? 'v1/whoami' : name}`, { status, headers: [...headers], bytes, remainingAt, remaining: remainingAt >= 0 ? Number(headers[remainingAt + 1]) : 0 }];
  }),
);

const server = http.createServer((incoming, outgoing) => {
  const answer = incoming.method === 'GET' ? fixed[incoming.url] : undefined;
  if (!answer) {
    outgoing.writeHead(404);
    outgoing.end();
    return;
  }
  let headers = answer.headers;
  if (answer.remainingAt >= 0) {
    headers = headers.slice();
    headers[answer.remainingAt + 1] = String((answer.remaining = Math.max(0, answer.remaining - 1)));
  }
  outgoing.writeHead(answer.status, headers);
  outgoing.end(answer.bytes);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stderr.write(`node floor server serving at http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)).closeAllConnections());
