/**
 * What Terraform state says is deployed: per stack, whether its state file exists and how many
 * resources of which types it holds. Reads only the local backend's files (`<stack>.tfstate` in
 * the state folder); never a resource's attributes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DeployedStack {
  readonly stack: string;
  readonly stateFile: string;
  /** False when there is no state file: the stack was never deployed here (or was cleared). */
  readonly exists: boolean;
  /** Managed resources (instances), data sources left out. */
  readonly resources: number;
  /** Resources by type, e.g. `{ aws_dynamodb_table: 3 }`. */
  readonly byType: Record<string, number>;
  /** Why the file could not be read, when it exists but is not Terraform state. */
  readonly unreadable?: string;
}

interface StateFile {
  readonly resources?: { mode?: string; type?: string; instances?: unknown[] }[];
}

export function readDeployedStack(stateDir: string, stack: string): DeployedStack {
  const stateFile = path.join(stateDir, `${stack}.tfstate`);
  const empty = { stack, stateFile, resources: 0, byType: {} };
  let text: string;
  try {
    text = fs.readFileSync(stateFile, 'utf8');
  } catch {
    return { ...empty, exists: false };
  }
  let state: StateFile;
  try {
    state = JSON.parse(text) as StateFile;
  } catch (error) {
    return { ...empty, exists: true, unreadable: (error as Error).message };
  }
  const byType: Record<string, number> = {};
  let resources = 0;
  for (const resource of state.resources ?? []) {
    if (resource.mode !== 'managed' || !resource.type) continue;
    const instances = resource.instances?.length ?? 0;
    byType[resource.type] = (byType[resource.type] ?? 0) + instances;
    resources += instances;
  }
  return { stack, stateFile, exists: true, resources, byType };
}
