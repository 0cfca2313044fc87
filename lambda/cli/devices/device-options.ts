/** Parses `keyroll devices` flags; each refusal says what the flag takes. */
import { InvalidArgumentError } from 'commander';

/** Above this, one process's Publish calls (and the emulator's rules engine) cannot keep up. */
export const MAX_RATE = 1000;
export const MAX_DEVICES = 1000;

/** `--rate 10` or `--rate 10/s`: readings per second. */
export function parseRate(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(value.trim());
  const rate = match ? Number(match[1]) : NaN;
  if (!(rate > 0 && rate <= MAX_RATE)) throw new InvalidArgumentError(`must be readings per second above 0 and at most ${MAX_RATE}, e.g. 10 or 10/s.`);
  return rate;
}

/** `--duration 30`: seconds. */
export function parseDuration(value: string): number {
  const seconds = /^\d+(?:\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!(seconds > 0)) throw new InvalidArgumentError('must be a number of seconds above 0, e.g. 30.');
  return seconds;
}

/** `--devices 3`: devices per topic. */
export function parseDeviceCount(value: string): number {
  const count = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(count >= 1 && count <= MAX_DEVICES)) throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_DEVICES}.`);
  return count;
}
