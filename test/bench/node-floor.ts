/**
 * The benchmark's control (node-floor-server.cjs): keyroll's own two answers, replayed byte for
 * byte by a bare node:http server on the same CPU, so the bench can say how much of whoami ÷
 * healthz is Node's HTTP and the bigger exchange, and how much is keyroll's work.
 */
import * as http from 'node:http';
import * as path from 'node:path';
import { type ServerProcess, startServerProcess } from './http-load';

export interface RecordedAnswer {
  readonly status: number;
  /** name, value, name, value… as sent, without the ones Node adds itself (Date, Connection, Keep-Alive). */
  readonly headers: readonly string[];
  readonly body: string;
}

/** Added by Node to every answer: the floor server's Node adds them too. */
const NODE_ADDED = new Set(['date', 'connection', 'keep-alive']);

/** One GET, kept as sent: the raw header list (order and case) and the body. */
export function recordAnswer(url: string, headers: Record<string, string>): Promise<RecordedAnswer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          const raw = response.rawHeaders;
          const kept = raw.flatMap((name, i) => (i % 2 === 0 && !NODE_ADDED.has(name.toLowerCase()) ? [name, raw[i + 1]] : []));
          resolve({ status: response.statusCode ?? 0, headers: kept, body });
        });
      })
      .on('error', reject);
  });
}

/** The control server, answering `/healthz` and `/v1/whoami` with the answers recorded from keyroll. */
export function startNodeFloor(answers: { readonly healthz: RecordedAnswer; readonly whoami: RecordedAnswer }, cpus: readonly number[] | undefined): Promise<ServerProcess> {
  return startServerProcess({
    cpus,
    command: [path.join(__dirname, 'node-floor-server.cjs')],
    env: { FLOOR_ANSWERS: JSON.stringify(answers) },
  });
}
