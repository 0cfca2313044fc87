/** The app's stack names, shared by the app, the deploy scripts and the tests. */
export const PLATFORM_STACK = 'keyroll-platform';
export const KEYS_STACK = 'keyroll-keys';
