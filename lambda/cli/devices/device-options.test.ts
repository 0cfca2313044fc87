import { parseDeviceCount, parseDuration, parseRate } from './device-options';

it('reads --rate as readings per second, with or without /s', () => {
  expect(parseRate('10')).toBe(10);
  expect(parseRate('2.5/s')).toBe(2.5);
  for (const bad of ['0', '-1', '10/m', 'fast', '1001']) expect(() => parseRate(bad)).toThrow(/readings per second above 0/);
});

it('reads --duration as seconds and --devices as a count', () => {
  expect(parseDuration('2')).toBe(2);
  expect(() => parseDuration('0')).toThrow(/seconds above 0/);
  expect(() => parseDuration('2m')).toThrow(/seconds above 0/);
  expect(parseDeviceCount('3')).toBe(3);
  expect(() => parseDeviceCount('0')).toThrow(/from 1 to 1000/);
  expect(() => parseDeviceCount('1.5')).toThrow(/from 1 to 1000/);
});
