/** Helpers for the IoT rules engine tests: a real HTTP target, confirmed destinations, reader roles, the deliveries log. */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateTopicRuleCommand, CreateTopicRuleDestinationCommand, IoTClient, type TopicRulePayload, UpdateTopicRuleDestinationCommand } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type IotDelivery, readIotDeliveries } from '../../lambda/local-aws';
import { uniqueName } from './fixtures';

/** lambda/local-aws/iot_rules_engine.py DEFAULT_NODES. */
export const ENGINE_NODES = 4;
/** A scripted "status": close the connection without answering. */
export const HANG_UP = 0;

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Confirmation {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: { arn: string; confirmationToken: string; enableUrl: string; messageType: string };
}

/** A rule's HTTP target on 127.0.0.1. Answers 200 unless a path has statuses scripted. */
export class TargetServer {
  readonly received: Received[] = [];
  readonly confirmations: Confirmation[] = [];
  private readonly scripts = new Map<string, number[]>();
  private readonly waiters: Array<() => void> = [];
  private held: Array<() => void> | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<TargetServer> {
    let target: TargetServer | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => target!.handle(request.url ?? '/', request.headers, Buffer.concat(chunks).toString('utf8'), response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    target = new TargetServer(server, (server.address() as { port: number }).port);
    return target;
  }

  /** The https:// URL rules declare for `path`; the emulator sends loopback https as plain http. */
  url(path: string): string {
    return `https://127.0.0.1:${this.port}${path}`;
  }

  /** The next requests to `path` are answered with these statuses, in order; then 200. */
  script(path: string, statuses: number[]): void {
    this.scripts.set(path, [...statuses]);
  }

  /** Keeps every answer back until the returned function is called. */
  hold(): () => void {
    this.held = [];
    return () => {
      const held = this.held ?? [];
      this.held = undefined;
      for (const release of held) release();
    };
  }

  to(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async waitFor(predicate: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async stop(): Promise<void> {
    this.held?.forEach((release) => release());
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(url: string, headers: IncomingHttpHeaders, body: string, response: import('node:http').ServerResponse): void {
    const path = url.split('?')[0];
    let status = 200;
    if (headers['x-amz-rules-engine-message-type'] === 'DestinationConfirmation') {
      this.confirmations.push({ path: url, headers, body: JSON.parse(body) });
    } else {
      this.received.push({ path, headers, body });
      status = this.scripts.get(path)?.shift() ?? 200;
    }
    const answer = (): void => {
      if (status === HANG_UP) response.socket?.destroy();
      else response.writeHead(status).end();
      this.waiters.splice(0).forEach((wake) => wake());
    };
    if (this.held) this.held.push(answer);
    else answer();
  }
}

export interface IotClients {
  readonly endpoint: string;
  readonly iot: IoTClient;
  readonly data: IoTDataPlaneClient;
  readonly secrets: SecretsManagerClient;
  readonly iam: IAMClient;
  destroy(): void;
}

export function iotClients(config: { endpoint: string; region: string }): IotClients {
  const clients = {
    iot: new IoTClient(config),
    data: new IoTDataPlaneClient(config),
    secrets: new SecretsManagerClient(config),
    iam: new IAMClient(config),
  };
  return { endpoint: config.endpoint, ...clients, destroy: () => Object.values(clients).forEach((c) => c.destroy()) };
}

/** A first topic level no other test uses, since rules of every test file share the emulator. */
export function uniqueTopicRoot(prefix = 'acme'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function publish(clients: IotClients, topic: string, payload: unknown): Promise<void> {
  await clients.data.send(new PublishCommand({ topic, payload: Buffer.from(JSON.stringify(payload)) }));
}

/** A secret holding `{"apiKey": value}`, as keyroll stores keys; returns its ARN. */
export async function apiKeySecret(clients: IotClients, value: string): Promise<string> {
  const created = await clients.secrets.send(new CreateSecretCommand({ Name: uniqueName('iot-key'), SecretString: JSON.stringify({ apiKey: value }) }));
  return created.ARN!;
}

export interface ReaderRoleOptions {
  /** The trust policy; default: iot.amazonaws.com may assume the role. */
  readonly trust?: object;
  /** Whether a policy allows GetSecretValue on the secret. @default true */
  readonly mayRead?: boolean;
}

/** A role IoT may assume to read `secretArn`, like keyroll's reference rules use. */
export async function readerRole(clients: IotClients, secretArn: string, options: ReaderRoleOptions = {}): Promise<string> {
  const name = uniqueName('iot-reader');
  const trust = options.trust ?? trustPolicy({ Service: 'iot.amazonaws.com' });
  const role = await clients.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trust) }));
  if (options.mayRead ?? true) {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretArn }] };
    await clients.iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'read-api-key', PolicyDocument: JSON.stringify(policy) }));
  }
  return role.Role!.Arn!;
}

export function trustPolicy(principal: object, condition?: object): object {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole', ...(condition ? { Condition: condition } : {}) }] };
}

export function getSecretHeader(secretArn: string, roleArn: string): string {
  return `\${get_secret('${secretArn}', 'SecretString', 'apiKey', '${roleArn}')}`;
}

/** Creates the destination, answers its confirmation by a GET on enableUrl, and enables it. */
export async function enabledDestination(clients: IotClients, target: TargetServer, confirmationPath: string): Promise<string> {
  const arn = await confirmedDestination(clients, target, confirmationPath);
  await clients.iot.send(new UpdateTopicRuleDestinationCommand({ arn, status: 'ENABLED' }));
  return arn;
}

/** Created and confirmed (so DISABLED until enabled), the way a service answering IoT would. */
export async function confirmedDestination(clients: IotClients, target: TargetServer, confirmationPath: string): Promise<string> {
  const { topicRuleDestination } = await clients.iot.send(
    new CreateTopicRuleDestinationCommand({ destinationConfiguration: { httpUrlConfiguration: { confirmationUrl: target.url(confirmationPath) } } }),
  );
  const arn = topicRuleDestination!.arn!;
  const confirmation = await confirmationFor(target, arn);
  const enabled = await fetch(confirmation.body.enableUrl);
  if (!enabled.ok) throw new Error(`GET enableUrl answered ${enabled.status}: ${await enabled.text()}`);
  return arn;
}

export async function confirmationFor(target: TargetServer, arn: string, after = 0): Promise<Confirmation> {
  const find = (): Confirmation | undefined => target.confirmations.slice(after).find((c) => c.body.arn === arn);
  await target.waitFor(() => find() !== undefined, `the confirmation request for ${arn}`);
  return find()!;
}

export async function createRule(clients: IotClients, payload: TopicRulePayload, name = uniqueName('rule')): Promise<string> {
  await clients.iot.send(new CreateTopicRuleCommand({ ruleName: name, topicRulePayload: { awsIotSqlVersion: '2016-03-23', ...payload } }));
  return name;
}

export type DeliveryRecord = IotDelivery;

export async function deliveries(endpoint: string, rule?: string): Promise<DeliveryRecord[]> {
  return readIotDeliveries(endpoint, { rule });
}

export async function waitForDeliveries(endpoint: string, rule: string, count: number, timeoutMs = 8000): Promise<DeliveryRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await deliveries(endpoint, rule);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${count} deliveries of rule ${rule}; have ${JSON.stringify(found)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Resolves once every engine node has processed every message published before the call: each
 * node runs its messages in order, so a barrier message seen on every node proves it. Lets a test
 * assert that something was *not* delivered without sleeping.
 */
export async function settle(clients: IotClients, barrier: { rule: string; root: string }): Promise<void> {
  const round = randomBytes(3).toString('hex');
  const seen = new Set<number>();
  for (let sent = 0; seen.size < ENGINE_NODES; sent += 1) {
    if (sent >= ENGINE_NODES * 10) throw new Error(`Barrier messages reached only nodes ${[...seen].join(', ')}`);
    const topic = `${barrier.root}/${round}-${sent}`;
    await publish(clients, topic, {});
    const deadline = Date.now() + 8000;
    for (;;) {
      const marker = (await deliveries(clients.endpoint, barrier.rule)).find((d) => d.topic === topic);
      if (marker) {
        seen.add(marker.node);
        break;
      }
      if (Date.now() > deadline) throw new Error(`The barrier message ${topic} was never processed`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * A rule marking barrier messages in the deliveries log, through an HTTP action to `target`, whose
 * /barrier/ destination it enables. Not republish: that would feed the engine a second message.
 */
export async function barrierRule(clients: IotClients, target: TargetServer): Promise<{ rule: string; root: string }> {
  const root = uniqueTopicRoot('barrier');
  await enabledDestination(clients, target, `/barrier/${root}`);
  const rule = await createRule(clients, { sql: `SELECT * FROM '${root}/+'`, actions: [{ http: { url: target.url(`/barrier/${root}`) } }] });
  return { rule, root };
}
