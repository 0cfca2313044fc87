/**
 * Timeouts for the Secrets Manager and consumer clients (IoT, …) of the provisioner and rotation. A
 * run makes a handful of calls within its Lambda's timeout; without these, one hung connection would
 * use all of it, and the run would die between steps instead of failing with a message (and undoing
 * what it did).
 */
export const AWS_CLIENT_CONFIG = { maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } } as const;
