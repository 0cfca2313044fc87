import { z } from 'zod';
import { fieldsAt, formatPath, issuesFromZod, quote } from './declaration-issue';

const schema = z.strictObject({
  environment: z.enum(['production', 'staging', 'development'], { error: 'must be one of production, staging, development' }),
  permissions: z.array(z.string()).optional(),
  consumers: z.array(z.strictObject({ type: z.literal('iot-rule'), topic: z.string() })).optional(),
  rotation: z.strictObject({ everyDays: z.int().min(1) }).optional(),
});

const issuesOf = (input: unknown) => {
  const parsed = schema.safeParse(input);
  return parsed.success ? [] : issuesFromZod(parsed.error, input, schema, (path) => (path.length ? 'a consumer' : 'a key'));
};

describe('declaration issues', () => {
  it('names paths as a reader writes them', () => {
    expect(formatPath(['consumers', 0, 'ruleName'])).toBe('consumers[0].ruleName');
    expect(formatPath(['permissions', 2])).toBe('permissions[2]');
    expect(formatPath([])).toBe('');
  });

  it('quotes bad values, summarising long ones', () => {
    expect(quote('qa')).toBe('"qa"');
    expect(quote(5)).toBe('5');
    expect(quote(null)).toBe('empty');
    expect(quote(Array.from({ length: 30 }, (_, i) => `tag-${i}`))).toBe('a list of 30');
  });

  it('knows the fields at a path, through optionals and lists', () => {
    expect(fieldsAt(schema, [])).toEqual(['environment', 'permissions', 'consumers', 'rotation']);
    expect(fieldsAt(schema, ['consumers', 0])).toEqual(['type', 'topic']);
    expect(fieldsAt(schema, ['rotation'])).toEqual(['everyDays']);
    expect(fieldsAt(schema, ['nowhere'])).toEqual([]);
  });

  it('suggests the field meant by a misspelt one, at every level', () => {
    expect(issuesOf({ environment: 'staging', permision: ['x:y'], consumers: [{ type: 'iot-rule', topc: 'a/b', topic: 'a' }] })).toEqual([
      expect.objectContaining({ code: 'UNKNOWN_FIELD', path: ['consumers', 0, 'topc'], problem: 'is not a field of a consumer', fix: 'did you mean "topic"?', atFieldName: true }),
      expect.objectContaining({ code: 'UNKNOWN_FIELD', path: ['permision'], problem: 'is not a field of a key', fix: 'did you mean "permissions"?' }),
    ]);
    expect(issuesOf({ environment: 'staging', colour: 'red' })).toEqual([
      expect.objectContaining({ path: ['colour'], fix: 'remove it, or use one of environment, permissions, consumers, rotation' }),
    ]);
  });

  it('suggests the value meant by a near miss, and lists the valid ones for anything else', () => {
    expect(issuesOf({ environment: 'prodution' })).toEqual([
      { code: 'INVALID_VALUE', path: ['environment'], problem: 'is "prodution"', fix: 'did you mean "production"? It must be one of production, staging, development' },
    ]);
    expect(issuesOf({ environment: 'qa' })).toEqual([
      { code: 'INVALID_VALUE', path: ['environment'], problem: 'is "qa"', fix: 'must be one of production, staging, development' },
    ]);
    expect(issuesOf({ environment: 'staging', consumers: [{ type: 'iot_rule', topic: 'a' }] })).toEqual([
      expect.objectContaining({ path: ['consumers', 0, 'type'], problem: 'is "iot_rule"', fix: 'did you mean "iot-rule"? It must be "iot-rule"' }),
    ]);
  });

  it("says what is missing, and rewords zod's defaults as what the value must be", () => {
    expect(issuesOf({})).toEqual([{ code: 'MISSING_FIELD', path: ['environment'], problem: 'is missing', fix: 'add it: it must be one of production, staging, development' }]);
    expect(issuesOf({ environment: 'staging', rotation: { everyDays: 0.5 } })).toEqual([
      { code: 'INVALID_VALUE', path: ['rotation', 'everyDays'], problem: 'is 0.5', fix: 'must be a whole number' },
    ]);
    expect(issuesOf({ environment: 'staging', rotation: { everyDays: 0 } })).toEqual([
      { code: 'INVALID_VALUE', path: ['rotation', 'everyDays'], problem: 'is 0', fix: 'must be at least 1' },
    ]);
  });
});
