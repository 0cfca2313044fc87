/** The API keys console, served by the key service at /console (see console-routes.tsx). */
export { type ConsoleDeps, consoleRoutes } from './console-routes';
export { ConsoleSessions, type ConsoleSessionsOptions, SIGN_IN_LINK_TTL_MS, hashToken } from './console-sessions';
import type { RotationStatusSource } from './rotation-status';

export { type RotationStatusSource, rotationFunctionSource } from './rotation-status';
export { signInLinkUrl } from './sign-in-link';

/** What the service's composition root passes through to the console. */
export interface ConsoleOptions {
  /** A session ends after this long without a request. @default 30 minutes */
  readonly idleTimeoutMs?: number;
  /** Where rotation status comes from. @default rotationFunctionSource() (the keyroll-rotation Lambda) */
  readonly rotationStatus?: RotationStatusSource;
}
