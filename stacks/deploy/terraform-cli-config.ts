/**
 * keyroll's own Terraform CLI configuration. Where the machine has a provider filesystem mirror
 * (CI images, air-gapped runners), hashicorp/aws is installed from it and never from the registry;
 * elsewhere Terraform installs providers as usual.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const AWS_PROVIDER = 'registry.terraform.io/hashicorp/aws';

/** Folders searched for a mirror, first match wins. KEYROLL_PROVIDER_MIRROR overrides. */
export const MIRROR_CANDIDATES = [
  '/opt/tf-plugins',
  path.join(os.homedir(), '.terraform.d', 'plugins'),
  '/usr/local/share/terraform/plugins',
  '/usr/share/terraform/plugins',
];

export function findProviderMirror(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.KEYROLL_PROVIDER_MIRROR ? [env.KEYROLL_PROVIDER_MIRROR] : MIRROR_CANDIDATES;
  return candidates.find((dir) => fs.existsSync(path.join(dir, AWS_PROVIDER)));
}

export function terraformCliConfig(mirror: string | undefined): string {
  const lines = ['# Written by keyroll (stacks/deploy/terraform-cli-config.ts); do not edit.', 'disable_checkpoint = true', ''];
  if (mirror) {
    lines.push(
      'provider_installation {',
      '  filesystem_mirror {',
      `    path    = ${JSON.stringify(mirror)}`,
      `    include = [${JSON.stringify(AWS_PROVIDER)}]`,
      '  }',
      '  direct {',
      `    exclude = [${JSON.stringify(AWS_PROVIDER)}]`,
      '  }',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the config and returns its absolute path (Terraform runs from cdktf.out, so it must be absolute). */
export function writeTerraformCliConfig(dir: string, env: NodeJS.ProcessEnv = process.env): { file: string; mirror?: string } {
  const mirror = findProviderMirror(env);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.resolve(dir, 'terraform.rc');
  fs.writeFileSync(file, terraformCliConfig(mirror));
  return { file, mirror };
}
