/**
 * Environment for the unit project, which has no emulator: the AWS SDK points at a closed local
 * port with dummy credentials, so a unit test that reaches for AWS fails at once (ECONNREFUSED)
 * and never talks to a real account with the developer's credentials. Settings the integration
 * project's global-setup.ts makes for quiet output are made here too.
 */
import { useLocalAwsDefaults } from '../../lambda/deploy-env/local-endpoint';

/** Port 9 (discard) on loopback: nothing listens there. */
const NO_AWS = 'http://127.0.0.1:9';

// Overrides any AWS_ENDPOINT_URL or profile the developer's shell has.
delete process.env.AWS_PROFILE;
process.env.AWS_ACCESS_KEY_ID = 'unit-test';
process.env.AWS_SECRET_ACCESS_KEY = 'unit-test';
useLocalAwsDefaults(NO_AWS);
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
