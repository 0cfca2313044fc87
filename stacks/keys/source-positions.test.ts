import { LineCounter, parseDocument } from 'yaml';
import { positionOf } from './source-positions';

const TEXT = [
  'tenant: acme', //                                   1
  'keys:', //                                          2
  '  - name: ingest', //                               3
  '    environment: qa', //                            4
  '    rateLimit: { limit: 0, windowSeconds: 60 }', // 5
  '    rotation:', //                                  6
  '    consumers:', //                                 7
  '      - type: iot-rule', //                         8
  '        ruleName: r1', //                           9
].join('\n');

const at = (path: (string | number)[], atFieldName?: boolean) => {
  const lineCounter = new LineCounter();
  const document = parseDocument(TEXT, { lineCounter });
  return positionOf(document, lineCounter, path, { atFieldName });
};

describe('positionOf', () => {
  it('points at the value of a field, in block and flow maps and in lists', () => {
    expect(at(['tenant'])).toEqual({ line: 1, column: 9 });
    expect(at(['keys', 0, 'environment'])).toEqual({ line: 4, column: 18 });
    expect(at(['keys', 0, 'rateLimit', 'limit'])).toEqual({ line: 5, column: 25 });
    expect(at(['keys', 0, 'consumers', 0, 'ruleName'])).toEqual({ line: 9, column: 19 });
  });

  it('points at the field name of a field that should not be there', () => {
    expect(at(['keys', 0, 'environment'], true)).toEqual({ line: 4, column: 5 });
    expect(at(['keys', 0, 'rateLimit', 'windowSeconds'], true)).toEqual({ line: 5, column: 28 });
  });

  it('points at the field name when the field has no value', () => {
    expect(at(['keys', 0, 'rotation'])).toEqual({ line: 6, column: 5 });
    expect(at(['keys', 0, 'rotation', 'everyDays'])).toEqual({ line: 6, column: 5 });
  });

  it('points at the map a missing field is missing from, and at the list for a missing item', () => {
    expect(at(['keys', 0, 'permissions'])).toEqual({ line: 3, column: 5 });
    expect(at(['keys', 0, 'consumers', 0, 'topic'])).toEqual({ line: 8, column: 9 });
    expect(at(['keys', 5, 'name'])).toEqual({ line: 3, column: 3 });
  });

  it('points at the start of an empty file', () => {
    const lineCounter = new LineCounter();
    expect(positionOf(parseDocument('', { lineCounter }), lineCounter, ['keys'])).toEqual({ line: 1, column: 1 });
  });
});
