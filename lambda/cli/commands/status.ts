/**
 * `keyroll status [--url] [--key-file] [--tenant] [--json]`: the key service, the emulator, the
 * deployed stacks and key counts by status, as text (or JSON). Exits 0 whenever it could report,
 * however much of it is down: "down" is an answer. Only a usage error (an unreadable key file) fails.
 */
import { KEYS_STACK, PLATFORM_STACK } from '../../../stacks/stack-names';
import { countOf } from '../../../stacks/deploy/resource-nouns';
import { CliError } from '../cli-error';
import { managementKey } from '../management-key';
import { type StatusReport, statusReport } from '../status-report';

export interface StatusCommandOptions {
  readonly url?: string;
  readonly keyFile?: string;
  readonly tenant?: string;
  readonly json?: boolean;
}

export async function statusCommand(options: StatusCommandOptions): Promise<void> {
  const report = await statusReport({ url: options.url, key: optionalKey(options), tenant: options.tenant, stacks: [PLATFORM_STACK, KEYS_STACK] });
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${statusText(report).join('\n')}\n`);
}

/** The management key if one was given; none is fine (no counts). A bad one is a usage error. */
function optionalKey(options: StatusCommandOptions): string | undefined {
  try {
    return managementKey(options);
  } catch (error) {
    if (error instanceof CliError && error.code === 'MISSING_API_KEY') return undefined;
    throw error;
  }
}

const LABEL = 11;
const row = (label: string, text: string) => `${label.padEnd(LABEL)}${text}`;
const indent = (text: string) => `${' '.repeat(LABEL)}${text}`;

export function statusText(report: StatusReport): string[] {
  const { service, start, emulator, deployed, keys } = report;
  const lines: string[] = [];
  const environment = service.environment ? `, environment ${service.environment}` : '';
  lines.push(
    row(
      'Service',
      service.reachable
        ? `${service.url} (${service.from}): up${environment}`
        : `${service.url} (${service.from}): not answering (${service.error}). Start it with \`npm start\` or \`npx keyroll serve\`, or name another with --url or KEYROLL_URL.`,
    ),
  );
  if (start && !start.running) lines.push(indent(`(a run file names keyroll start pid ${start.pid} from ${start.startedAt}, which is no longer running)`));
  if (emulator) {
    lines.push(row('Local AWS', `${emulator.endpoint} (${emulator.from}): ${emulator.reachable ? 'up' : 'not answering. Start it with `npx keyroll local-aws` (or `npm start`).'}`));
  } else {
    lines.push(row('Local AWS', 'none in use (set AWS_ENDPOINT_URL to a loopback endpoint, or run `npm start`)'));
  }
  if (deployed.stateBucket) {
    lines.push(row('Stacks', `${deployed.target}, state in s3://${deployed.stateBucket}/keyroll/ (not read here; \`npm run diff\` compares it with the code)`));
  } else {
    lines.push(row('Stacks', `${deployed.target}, state in ${deployed.stateDir}:`));
    const width = Math.max(...deployed.stacks.map((stack) => stack.stack.length)) + 2;
    for (const stack of deployed.stacks) {
      const what = stack.unreadable
        ? `state file unreadable (${stack.unreadable})`
        : !stack.exists || stack.resources === 0
          ? 'not deployed'
          : `${stack.resources} resources: ${Object.entries(stack.byType)
              .map(([type, n]) => countOf(type, n))
              .join(', ')}`;
      lines.push(indent(`${stack.stack.padEnd(width)}${what}`));
    }
    if (emulator && !emulator.reachable && deployed.stacks.some((stack) => stack.resources > 0)) {
      lines.push(indent('(this state describes an emulator that is gone: the next one on that port clears it, and `npm run destroy:local` now just clears it)'));
    }
  }
  if ('needsKey' in keys) lines.push(row('Keys', `not counted: ${keys.needsKey}`));
  else if ('error' in keys) lines.push(row('Keys', `not counted: ${keys.error.code}: ${keys.error.message}`));
  else {
    const counts = Object.entries(keys.byStatus)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => `${n} ${status}`);
    lines.push(row('Keys', `tenant ${keys.tenant}: ${keys.total} ${keys.total === 1 ? 'key' : 'keys'}${counts.length ? ` (${counts.join(', ')})` : ''} that this management key may see`));
  }
  return lines;
}
