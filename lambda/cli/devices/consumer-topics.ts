/**
 * A tenant's consumer topics, for simulated devices: which rules are the tenant's comes from the
 * keys file, where each IoT consumer is declared under its key and tenant (deployed reference
 * rules carry no tenant tag, so IoT alone cannot tell); what topic each rule reads, and whether it
 * runs at all, comes from the deployed rule, since that is what IoT evaluates.
 */
import { GetTopicRuleCommand, type IoTClient, ResourceNotFoundException } from '@aws-sdk/client-iot';
import { inspectKeysFile } from '../../../stacks/keys/keys-file-check';
import { CliError } from '../cli-error';

export interface DeclaredConsumer {
  readonly tenant: string;
  /** The key's name in the keys file (and in the API). */
  readonly keyName: string;
  readonly ruleName: string;
  /** The topic filter the keys file declares. */
  readonly topic: string;
}

export interface ConsumerTopic extends DeclaredConsumer {
  /** The filter devices publish under: the deployed rule's FROM (the declared one if unreadable). */
  readonly topic: string;
  /**
   * The confirmation URL of each of the deployed rule's HTTP actions (its url when it names none):
   * the topic rule destination that must be ENABLED for IoT to send. Empty when the rule could not be read.
   */
  readonly destinationUrls: readonly string[];
}

/**
 * The IoT consumers `tenant` declares in `file`. Without `tenant`, the file's only tenant with
 * consumers.
 * @throws CliError KEYS_FILE_INVALID, TENANT_REQUIRED, NO_CONSUMERS
 */
export function declaredConsumers(file: string, tenant?: string): { tenant: string; consumers: DeclaredConsumer[] } {
  const { problems, content } = inspectKeysFile(file);
  if (problems.length > 0 || !content) {
    throw new CliError('KEYS_FILE_INVALID', `${file} has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}; \`npx keyroll check --file ${file}\` lists them. Fix them, then rerun.`);
  }
  const all = content.keys.flatMap((key) =>
    (key.consumers ?? []).filter((consumer) => consumer.type === 'iot-rule').map((consumer) => ({ tenant: key.tenant, keyName: key.name, ruleName: consumer.ruleName, topic: consumer.topic })),
  );
  const tenants = [...new Set(all.map((consumer) => consumer.tenant))].sort();
  if (tenant === undefined) {
    if (tenants.length === 0) throw new CliError('NO_CONSUMERS', `${file} declares no IoT consumers (a key's \`consumers: [{ type: iot-rule, ruleName, topic }]\`), so there is no topic to publish to. Declare one and deploy it, then rerun.`);
    if (tenants.length > 1) throw new CliError('TENANT_REQUIRED', `${file} declares IoT consumers for ${tenants.join(', ')}: choose one with --tenant <tenant>.`);
    tenant = tenants[0];
  }
  const consumers = all.filter((consumer) => consumer.tenant === tenant);
  if (consumers.length === 0) {
    const others = tenants.length > 0 ? ` Tenants with consumers there: ${tenants.join(', ')}.` : '';
    throw new CliError(
      'NO_CONSUMERS',
      `Tenant ${tenant} declares no IoT consumers in ${file}, so there is no topic to publish to. Give one of its keys \`consumers: [{ type: iot-rule, ruleName, topic }]\` and deploy, or pick another tenant with --tenant.${others}`,
    );
  }
  return { tenant, consumers };
}

/**
 * The declared consumers as deployed: their rules' topics and URLs. A rule that is not deployed,
 * or disabled, is left out with a note saying so; one that cannot be read keeps its declared topic.
 * @param deploy the command that deploys the keys file, for the notes
 * @throws CliError CONSUMERS_NOT_DEPLOYED when no declared rule runs
 */
export async function deployedConsumers(iot: IoTClient, declared: readonly DeclaredConsumer[], deploy: string): Promise<{ consumers: ConsumerTopic[]; notes: string[] }> {
  const consumers: ConsumerTopic[] = [];
  const notes: string[] = [];
  for (const consumer of declared) {
    let rule;
    try {
      ({ rule } = await iot.send(new GetTopicRuleCommand({ ruleName: consumer.ruleName })));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        notes.push(`Rule ${consumer.ruleName} (key ${consumer.tenant}/${consumer.keyName}) is declared but not deployed; \`${deploy}\` deploys it. Skipping its topic ${consumer.topic}.`);
      } else {
        notes.push(`Cannot read rule ${consumer.ruleName} (${(error as Error).name}); publishing to its declared topic ${consumer.topic}.`);
        consumers.push({ ...consumer, destinationUrls: [] });
      }
      continue;
    }
    if (rule?.ruleDisabled) {
      notes.push(`Rule ${consumer.ruleName} is disabled, so IoT would drop its readings; skipping its topic. Enable it (or redeploy) to include it.`);
      continue;
    }
    const deployedTopic = /\bFROM\s+'([^']+)'/i.exec(rule?.sql ?? '')?.[1] ?? consumer.topic;
    if (deployedTopic !== consumer.topic) {
      notes.push(`Rule ${consumer.ruleName} reads ${deployedTopic}, not ${consumer.topic} as the keys file says (\`${deploy}\` applies the file); publishing to ${deployedTopic}.`);
    }
    const destinationUrls = (rule?.actions ?? []).flatMap((action) => {
      const url = action.http?.confirmationUrl ?? action.http?.url;
      return url ? [url] : [];
    });
    consumers.push({ ...consumer, topic: deployedTopic, destinationUrls });
  }
  if (consumers.length === 0) {
    throw new CliError('CONSUMERS_NOT_DEPLOYED', `None of the rules declared for tenant ${declared[0]?.tenant} is deployed and enabled (${declared.map((c) => c.ruleName).join(', ')}). Deploy the keys file first: \`${deploy}\`.`);
  }
  return { consumers, notes };
}
