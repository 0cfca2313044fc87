/** Ctrl-C or SIGTERM, so foreground commands can shut down cleanly. */

export interface InterruptListener {
  /** Resolves with the first SIGINT or SIGTERM after the listener was made. */
  readonly received: Promise<NodeJS.Signals>;
  /** Stops listening: the signals' default (exit) applies again. */
  stop(): void;
}

/**
 * Listens from now on. A command with slow start-up work makes one first, so Ctrl-C during that
 * work still lets it clean up (stop what it started, remove its files) instead of killing it.
 */
export function listenForInterrupt(): InterruptListener {
  let stop = () => undefined as void;
  const received = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      // Not at once: listeners of the same signal that run after this one count listeners to
      // decide whether to exit (local-aws/exit-hooks.ts). Afterwards, a second Ctrl-C exits.
      setImmediate(stop);
      resolve(signal);
    };
    stop = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return { received, stop };
}

/** Resolves on Ctrl-C or SIGTERM. */
export function untilInterrupted(): Promise<NodeJS.Signals> {
  return listenForInterrupt().received;
}
