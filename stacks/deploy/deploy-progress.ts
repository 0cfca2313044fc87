/**
 * A quiet deploy's report, read from cdktf's output lines: one line per stack and resource type as
 * its resources finish ("keyroll-platform: 3 tables created"), one per stack when it is done, and a
 * summary (added, changed, destroyed, keys issued). Only resource addresses and Terraform's counts
 * are ever repeated: never an attribute value, so no key can reach the report.
 */
import type { CdktfLine } from './cdktf-output-lines';
import { countOf } from './resource-nouns';

export type PlannedAction = 'create' | 'update' | 'replace' | 'destroy';

/** The word for each action once done, and for the provisioner's invocations (one per key). */
const DONE: Record<PlannedAction, string> = { create: 'created', update: 'updated', replace: 'replaced', destroy: 'destroyed' };
const KEY_DONE: Record<PlannedAction, string> = { create: 'issued', update: 'updated', replace: 're-issued', destroy: 'revoked' };
/** Terraform's own plan symbols, for `diff`. */
const SYMBOL: Record<PlannedAction, string> = { create: '+', update: '~', replace: '-/+', destroy: '-' };

/** Each declared key is provisioned by one invocation of the provisioner. */
export const KEY_RESOURCE_TYPE = 'aws_lambda_invocation';

const PLANNED = /^#\s+(\S+)(?:\s+\([^)]*\))?\s+(will be created|will be updated in-place|must be replaced|will be destroyed)/;
const COMPLETED = /^(\S+?)(?:\s+\([^)]*\))?:\s+(Creation|Modifications|Destruction) complete after/;
const PLAN_TOTALS = /^Plan:\s+(\d+) to add, (\d+) to change, (\d+) to destroy/;
const APPLY_TOTALS = /^Apply complete! Resources: (?:\d+ imported, )?(\d+) added, (\d+) changed, (\d+) destroyed/;
const DESTROY_TOTALS = /^Destroy complete! Resources: (\d+) destroyed/;
const NO_CHANGES = /^No changes\. /;

const ACTION_OF: Record<string, PlannedAction> = {
  'will be created': 'create',
  'will be updated in-place': 'update',
  'must be replaced': 'replace',
  'will be destroyed': 'destroy',
};

export interface Totals {
  added: number;
  changed: number;
  destroyed: number;
  keysIssued: number;
  keysRevoked: number;
}

interface Planned {
  readonly type: string;
  readonly action: PlannedAction;
  /** Completion events seen: a replacement needs two (destroy and create). */
  events: number;
}

interface StackProgress {
  readonly planned: Map<string, Planned>;
  readonly reported: Set<string>;
  done: boolean;
}

/** `module.a.aws_x.name[0]` → `aws_x`. */
export function resourceType(address: string): string {
  const parts = address.replace(/\[[^\]]*\]/g, '').split('.');
  while (parts[0] === 'module' && parts.length > 2) parts.splice(0, 2);
  return parts[0];
}

export class DeployProgress {
  private readonly stacks = new Map<string, StackProgress>();
  readonly totals: Totals = { added: 0, changed: 0, destroyed: 0, keysIssued: 0, keysRevoked: 0 };

  /**
   * @param say prints one report line
   * @param listPlan print every planned change (for `diff`, where the plan is the answer)
   */
  constructor(
    private readonly say: (line: string) => void,
    private readonly listPlan = false,
  ) {}

  line({ stack, text }: CdktfLine): void {
    if (!stack) return;
    const progress = this.progressOf(stack);
    const trimmed = text.trim();
    let match: RegExpExecArray | null;
    if ((match = PLANNED.exec(trimmed))) {
      const [, address, phrase] = match;
      progress.planned.set(address, { type: resourceType(address), action: ACTION_OF[phrase], events: 0 });
    } else if ((match = PLAN_TOTALS.exec(trimmed))) {
      const changes = [`add ${match[1]}`, `change ${match[2]}`, `destroy ${match[3]}`].filter((change) => !change.endsWith(' 0'));
      this.say(`${stack}: ${this.listPlan ? 'would' : 'will'} ${changes.join(', ') || 'change nothing'}`);
      if (this.listPlan) for (const [address, planned] of progress.planned) this.say(`  ${SYMBOL[planned.action]} ${address}`);
    } else if ((match = COMPLETED.exec(trimmed))) {
      this.completed(stack, progress, match[1], match[2]);
    } else if ((match = APPLY_TOTALS.exec(trimmed))) {
      this.finish(stack, progress, `done: ${match[1]} added, ${match[2]} changed, ${match[3]} destroyed`);
    } else if ((match = DESTROY_TOTALS.exec(trimmed))) {
      this.finish(stack, progress, `done: ${match[1]} destroyed`);
    } else if (NO_CHANGES.test(trimmed)) {
      this.finish(stack, progress, 'no changes');
    }
  }

  /** The closing line; undefined when no stack got as far as Terraform's own summary. */
  summary(command: 'deploy' | 'destroy'): string | undefined {
    const finished = [...this.stacks].filter(([, progress]) => progress.done).map(([stack]) => stack);
    if (finished.length === 0) return undefined;
    const { added, changed, destroyed, keysIssued, keysRevoked } = this.totals;
    const keys = (n: number, done: string) => `${n} ${n === 1 ? 'key' : 'keys'} ${done}`;
    if (command === 'destroy') return `Destroyed ${finished.join(', ')}: ${destroyed} destroyed; ${keys(keysRevoked, 'revoked')}.`;
    const revoked = keysRevoked > 0 ? `, ${keysRevoked} revoked` : '';
    return `Deployed ${finished.join(', ')}: ${added} added, ${changed} changed, ${destroyed} destroyed; ${keys(keysIssued, 'issued')}${revoked}.`;
  }

  private progressOf(stack: string): StackProgress {
    let progress = this.stacks.get(stack);
    if (!progress) {
      progress = { planned: new Map(), reported: new Set(), done: false };
      this.stacks.set(stack, progress);
    }
    return progress;
  }

  private completed(stack: string, progress: StackProgress, address: string, event: string): void {
    const type = resourceType(address);
    let planned = progress.planned.get(address);
    if (!planned) {
      // Not in the plan as read (it should always be): count it from the event itself.
      planned = { type, action: event === 'Creation' ? 'create' : event === 'Modifications' ? 'update' : 'destroy', events: 0 };
      progress.planned.set(address, planned);
    }
    planned.events++;
    if (type === KEY_RESOURCE_TYPE && event === 'Creation') this.totals.keysIssued++;
    if (type === KEY_RESOURCE_TYPE && event === 'Destruction') this.totals.keysRevoked++;
    if (this.isDone(planned)) this.reportType(stack, progress, type, false);
  }

  private isDone(planned: Planned): boolean {
    return planned.events >= (planned.action === 'replace' ? 2 : 1);
  }

  /** Reports a type once all its planned resources are done, or (`flush`) with what got done. */
  private reportType(stack: string, progress: StackProgress, type: string, flush: boolean): void {
    if (progress.reported.has(type)) return;
    const ofType = [...progress.planned.values()].filter((planned) => planned.type === type);
    if (!flush && !ofType.every((planned) => this.isDone(planned))) return;
    const done = ofType.filter((planned) => this.isDone(planned));
    if (done.length === 0) return;
    progress.reported.add(type);
    const words = type === KEY_RESOURCE_TYPE ? KEY_DONE : DONE;
    const byAction = new Map<PlannedAction, number>();
    for (const planned of done) byAction.set(planned.action, (byAction.get(planned.action) ?? 0) + 1);
    const parts = [...byAction].map(([action, n]) => (byAction.size === 1 ? words[action] : `${n} ${words[action]}`));
    this.say(`${stack}: ${countOf(type, done.length)} ${byAction.size === 1 ? parts[0] : `(${parts.join(', ')})`}`);
  }

  private finish(stack: string, progress: StackProgress, line: string): void {
    for (const type of new Set([...progress.planned.values()].map((planned) => planned.type))) this.reportType(stack, progress, type, true);
    if (progress.done) return;
    progress.done = true;
    const totals = /(\d+) added, (\d+) changed, (\d+) destroyed/.exec(line) ?? /()()(\d+) destroyed/.exec(line);
    if (totals) {
      this.totals.added += Number(totals[1] || 0);
      this.totals.changed += Number(totals[2] || 0);
      this.totals.destroyed += Number(totals[3] || 0);
    }
    this.say(`${stack}: ${line}`);
  }
}
