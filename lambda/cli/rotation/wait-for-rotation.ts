/**
 * `keyroll rotate --wait`: polls the rotation Lambda's status until each started rotation has left
 * `rotating` for the version it started (draining, idle once retired, or failed), saying so per key.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyRotationStatus } from '../../rotate/status-report';
import { settledLine } from './rotation-text';

export interface WaitedRotation {
  readonly tenant: string;
  readonly name: string;
  readonly versionId: string;
}

export interface WaitOptions {
  readonly timeoutMs: number;
  /** @default 2000 */
  readonly intervalMs?: number;
  /** A line of progress (stderr). */
  readonly say: (line: string) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface WaitResult {
  readonly settled: readonly KeyRotationStatus[];
  /** Still rotating when the time ran out. */
  readonly unsettled: readonly WaitedRotation[];
}

/** Whether `status` shows the rotation of `versionId` past its steps. */
export function hasSettled(status: KeyRotationStatus | undefined, versionId: string): status is KeyRotationStatus {
  return status !== undefined && status.versionId === versionId && status.phase !== 'rotating';
}

export async function waitForRotations(
  status: (tenant: string) => Promise<readonly KeyRotationStatus[]>,
  rotations: readonly WaitedRotation[],
  options: WaitOptions,
): Promise<WaitResult> {
  const now = options.now ?? Date.now;
  const began = now();
  const interval = options.intervalMs ?? 2000;
  let waiting = [...rotations];
  const settled: KeyRotationStatus[] = [];
  let lastNote = began;
  options.say(`Waiting for ${waiting.length === 1 ? 'the rotation' : `${waiting.length} rotations`} (at most ${Math.round(options.timeoutMs / 1000)} s) …`);
  while (waiting.length > 0) {
    const tenants = [...new Set(waiting.map((rotation) => rotation.tenant))];
    const seen = new Map<string, KeyRotationStatus>();
    for (const tenant of tenants) for (const entry of await status(tenant)) seen.set(`${entry.tenant}/${entry.name}`, entry);
    waiting = waiting.filter((rotation) => {
      const entry = seen.get(`${rotation.tenant}/${rotation.name}`);
      if (!hasSettled(entry, rotation.versionId)) return true;
      settled.push(entry);
      options.say(settledLine(entry));
      return false;
    });
    if (waiting.length === 0) break;
    const elapsed = now() - began;
    if (elapsed >= options.timeoutMs) break;
    if (now() - lastNote >= 10_000) {
      lastNote = now();
      options.say(`… still rotating after ${Math.round(elapsed / 1000)} s: ${waiting.map((rotation) => `${rotation.tenant}/${rotation.name}`).join(', ')}`);
    }
    await sleep(Math.min(interval, Math.max(0, options.timeoutMs - elapsed)));
  }
  return { settled, unsettled: waiting };
}
