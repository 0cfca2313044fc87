/**
 * The keyroll CDK for Terraform app: the key platform and the keys declared in the keys file.
 * `npm run deploy:local` deploys both to the emulator; see README for real AWS.
 */
import * as path from 'node:path';
import { App } from 'cdktf';
import { deployTargetFromEnv, PROJECT_ROOT } from './deploy-target';
import { KeysStack } from './keys/keys-stack';
import { loadKeysFile } from './keys/keys-file';
import { PlatformStack } from './platform/platform-stack';
import { KEYS_STACK, PLATFORM_STACK } from './stack-names';


const target = deployTargetFromEnv();
const keysFile = path.resolve(process.env.KEYROLL_KEYS_FILE || path.join(PROJECT_ROOT, 'stacks', 'keys.yaml'));
const app = new App();
const platform = new PlatformStack(app, PLATFORM_STACK, target);
new KeysStack(app, KEYS_STACK, { target, platform, ...loadKeysFile(keysFile) });
app.synth();
