/** Jest globalTeardown: stops the emulator global-setup.ts started. */
import { LOCAL_AWS_GLOBAL, type WithLocalAws } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as WithLocalAws;
  await holder[LOCAL_AWS_GLOBAL]?.stop();
  delete holder[LOCAL_AWS_GLOBAL];
}
