/**
 * Stops emulators still running when this Node process exits or is told to stop, so that no
 * test run or CLI session leaves one behind.
 */

const killers = new Set<() => void>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `kill` (which must be synchronous) on process exit, SIGINT or SIGTERM.
 * @returns a function that cancels it, for when the emulator was stopped normally.
 */
export function killOnExit(kill: () => void): () => void {
  killers.add(kill);
  install();
  return () => {
    killers.delete(kill);
  };
}

function install(): void {
  if (!process.listeners('exit').includes(killAll)) process.on('exit', killAll);
  for (const signal of SIGNALS) {
    if (!process.listeners(signal).includes(onSignal)) process.once(signal, onSignal);
  }
}

function killAll(): void {
  for (const kill of killers) kill();
  killers.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // A caller with its own handler, such as `keyroll start` waiting for Ctrl-C, keeps control and
  // stops its emulators itself, after what still writes to them (the service's last usage flush);
  // the exit hook covers it should it exit without.
  if (process.listenerCount(signal) > 0) return;
  killAll();
  // Listening for a signal switches off Node's default of exiting on it. When nobody else
  // listens, restore that default by raising it again (our `once` listener is gone by now).
  process.kill(process.pid, signal);
}
