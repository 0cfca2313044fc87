/**
 * Checks a keys file (default `stacks/keys.yaml`) without synthesizing anything: every problem in
 * one pass, each once, at its line and column, with the bad value and the fix. `keyroll check`
 * prints the result; deploys run it before cdktf, and `loadKeysFile` refuses a file with problems.
 * No cdktf here: the CLI loads this module, and it must answer in well under a second.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Document, LineCounter, parseDocument, type YAMLError } from 'yaml';
import { z } from 'zod';
import { tenantSchema } from '../../lambda/keys/key-input';
import { type ApiKeyProps, KEY_NAME_PATTERN } from '../../lambda/declared-key/contract';
import { consumerCacheSecondsFromEnv } from '../../lambda/deploy-env/consumer-cache';
import { apiKeyPropsIssues } from './api-key-props';
import { type DeclarationIssue, type IssuePath, formatPath, issuesFromZod, quote } from './declaration-issue';
import { declaredPermissionsIssues, redundantDeclaredPermissions, usableDeclaredPermissions } from './declared-permissions';
import { keySetIssues } from './key-set-rules';
import { positionOf } from './source-positions';

export interface KeysFileProblem {
  /** Stable: `YAML_SYNTAX`, `UNKNOWN_FIELD`, `INVALID_VALUE`, `UNKNOWN_PERMISSION`, `DUPLICATE_KEY`, … */
  readonly code: string;
  readonly file: string;
  /** 1-based; absent when the file could not be read. */
  readonly line?: number;
  readonly column?: number;
  /** `<tenant>/<name>`, or `keys[<index>]` when the key has no usable name. Absent above the keys. */
  readonly key?: string;
  /** `consumers[0].ruleName`; absent for YAML syntax. */
  readonly field?: string;
  /** What is wrong, quoting the bad value. */
  readonly problem: string;
  readonly fix: string;
}

export interface KeysFileCheck {
  readonly problems: KeysFileProblem[];
  /** Formatted lines; they do not fail a check. */
  readonly warnings: string[];
}

/** The keys file's content, ready for the KeysStack. */
export interface KeysFile {
  readonly keys: ApiKeyProps[];
  /** By tenant: the permissions it declares for its own services (the top-level `permissions:`). */
  readonly declaredPermissions: Record<string, string[]>;
}

export interface CheckOptions {
  /** What "in the past" is measured against. @default new Date() */
  readonly now?: Date;
}

/**
 * The keys file a deploy reads: `file` when given, else KEYROLL_KEYS_FILE, else the example app
 * (`stacks/keys.yaml`). Relative paths are from the working directory.
 */
export function keysFilePath(file?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(file || env.KEYROLL_KEYS_FILE || path.join(__dirname, '..', 'keys.yaml'));
}

const TOP_LEVEL_EXAMPLE = 'tenant: acme, keys: [{ name, environment, permissions, … }]';

const topLevelSchema = z.strictObject(
  {
    /** The tenant of keys that name none, and whose permissions `permissions:` declares. */
    tenant: tenantSchema.optional(),
    permissions: z.unknown().optional(),
    keys: z.array(z.unknown(), { error: 'must be a list of keys' }).min(1, 'must declare at least one key'),
  },
  { error: `must be a map of fields: ${TOP_LEVEL_EXAMPLE}` },
);

/** Every problem in `file`, and warnings for what it declares that is not acted on yet. */
export function checkKeysFile(file: string, options: CheckOptions = {}): KeysFileCheck {
  const { problems, warnings } = inspectKeysFile(file, options);
  return { problems, warnings };
}

/** `checkKeysFile`, plus the content when there is no problem. */
export function inspectKeysFile(file: string, options: CheckOptions = {}): KeysFileCheck & { readonly content?: KeysFile } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return {
      problems: [{ code: 'KEYS_FILE_UNREADABLE', file, problem: `cannot be read (${reason})`, fix: 'create it, or point KEYROLL_KEYS_FILE (or `keyroll check --file`) at yours' }],
      warnings: [],
    };
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) {
    // Past a syntax error the structure is guesswork: report the syntax alone. One mistake often
    // confuses the parser into several errors on its line; the first is the one to fix.
    const firstPerLine = document.errors.filter((error, i, all) => all.findIndex((e) => e.linePos?.[0].line === error.linePos?.[0].line) === i);
    return { problems: firstPerLine.map((error) => syntaxProblem(file, text, error)), warnings: [] };
  }
  return new FileChecker(file, document, lineCounter, options.now ?? new Date()).run();
}

/** One line: `<file>:<line>:<col> key <key> field <field>: <problem> — <fix>`. */
export function formatProblem(problem: KeysFileProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column}`;
  const key = problem.key ? ` key ${problem.key}` : '';
  const field = problem.field ? ` field ${problem.field}` : '';
  // `file:3:1 is not valid YAML: …`, but `file: cannot be read …`.
  const separator = key || field || problem.line === undefined ? ': ' : ' ';
  return `${where}${key}${field}${separator}${problem.problem} — ${problem.fix}`;
}

/** One line per problem, in file order. */
export function formatProblems(problems: readonly KeysFileProblem[]): string {
  return problems.map(formatProblem).join('\n');
}

const SYNTAX_FIXES: Record<string, string> = {
  DUPLICATE_KEY: 'remove one of them (or, if it starts another key, begin that key with `- `)',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'line up the item with its siblings, and close every [ and { you open',
  MISSING_CHAR: 'close every [ and { you open, and every quote',
  BLOCK_AS_IMPLICIT_KEY: 'put a space after each `field:`, and quote values that contain `: `',
  MULTILINE_IMPLICIT_KEY: 'put a space after each `field:`, and quote values that contain `: `',
};

function syntaxProblem(file: string, text: string, error: YAMLError): KeysFileProblem {
  const [line, column] = error.linePos ? [error.linePos[0].line, error.linePos[0].col] : [1, 1];
  const what =
    error.code === 'DUPLICATE_KEY'
      ? `field ${quote(/^[^:\s]+/.exec(text.slice(error.pos[0]))?.[0] ?? '')} appears twice in one map`
      : error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return {
    code: 'YAML_SYNTAX',
    file,
    line,
    column,
    problem: `is not valid YAML: ${what}`,
    fix: SYNTAX_FIXES[error.code] ?? 'fix the YAML here (https://yaml.org/spec/1.2.2/)',
  };
}

/** One pass over a parsed file; collects problems and warnings in the order they are written. */
class FileChecker {
  private readonly problems: (KeysFileProblem & { readonly offset: number })[] = [];
  private readonly warnings: { readonly line: string; readonly offset: number }[] = [];
  private readonly data: unknown;

  constructor(
    private readonly file: string,
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
    private readonly now: Date,
  ) {
    this.data = document.toJS();
  }

  run(): KeysFileCheck & { readonly content?: KeysFile } {
    const content = this.checkTopLevel();
    const byPosition = (a: { offset: number }, b: { offset: number }) => a.offset - b.offset;
    const problems = this.problems.sort(byPosition).map(({ offset: _offset, ...problem }) => problem);
    const warnings = this.warnings.sort(byPosition).map((warning) => warning.line);
    return problems.length === 0 && content ? { problems, warnings, content } : { problems, warnings };
  }

  private checkTopLevel(): KeysFile | undefined {
    const parsed = topLevelSchema.safeParse(this.data);
    if (!parsed.success) {
      const issues = issuesFromZod(parsed.error, this.data, topLevelSchema, () => 'the keys file');
      for (const issue of issues) this.report(issue, []);
      if (!isMap(this.data) || !Array.isArray(this.data.keys)) return undefined;
    }
    const top = this.data as { tenant?: unknown; permissions?: unknown; keys: unknown[] };
    const tenantOk = tenantSchema.safeParse(top.tenant).success;
    const tenant = tenantOk ? (top.tenant as string) : undefined;

    const declared = this.checkDeclaredPermissions(top.permissions, tenant);
    const inheritors = top.keys.flatMap((key, index) => (isMap(key) && key.tenant === undefined ? [index] : []));
    if (top.tenant === undefined && (inheritors.length > 0 || top.permissions !== undefined)) {
      const needs = [
        ...(inheritors.length > 0 ? [`${inheritors.map((i) => `keys[${i}]`).join(', ')} name${inheritors.length === 1 ? 's' : ''} no tenant of ${inheritors.length === 1 ? 'its' : 'their'} own`] : []),
        ...(top.permissions !== undefined ? ['`permissions:` declares permissions for it'] : []),
      ];
      this.report({ code: 'NO_TENANT', path: ['tenant'], problem: `is missing, but ${needs.join(', and ')}`, fix: 'add `tenant: <tenant>` at the top of the file (or a `tenant:` on each key)' }, []);
    }

    const keys = top.keys.map((key, index) => this.checkKey(key, index, tenant, declared));
    const withTenant = top.keys.map((key) => (isMap(key) ? { tenant, ...key } : {}));
    for (const issue of keySetIssues(withTenant, (index) => `keys[${index}] at line ${this.position(['keys', index]).line}`)) {
      this.report(issue, ['keys', issue.keyIndex], this.keyLabel(withTenant[issue.keyIndex], issue.keyIndex));
    }
    if (this.problems.length > 0) return undefined;
    return { keys: keys as ApiKeyProps[], declaredPermissions: tenant && declared ? { [tenant]: declared } : {} };
  }

  /** The usable declared permissions (for checking the keys), after reporting what is wrong. */
  private checkDeclaredPermissions(list: unknown, tenant: string | undefined): string[] | undefined {
    if (list === undefined) return undefined;
    for (const issue of declaredPermissionsIssues(list)) this.report(issue, ['permissions']);
    for (const index of redundantDeclaredPermissions(list)) {
      this.warn(['permissions', index], undefined, `is ${quote((list as unknown[])[index])}, one of keyroll's own permissions, which are always known — remove it`);
    }
    return tenant ? usableDeclaredPermissions(list) : undefined;
  }

  private checkKey(key: unknown, index: number, tenant: string | undefined, declared: string[] | undefined): unknown {
    const at: IssuePath = ['keys', index];
    if (!isMap(key)) {
      this.report({ code: 'INVALID_VALUE', path: [], problem: `is ${quote(key)}`, fix: 'must be a key: a map with name, environment and permissions' }, at);
      return key;
    }
    const inherits = key.tenant === undefined;
    const props = { ...(inherits && tenant ? { tenant } : {}), ...key };
    const label = this.keyLabel(props, index);
    const ownTenant = inherits ? tenant : key.tenant;
    const issues = apiKeyPropsIssues(props, {
      now: this.now,
      declaredPermissions: ownTenant === tenant ? declared : undefined,
      // The same horizon the deploy checks graceMinutes against.
      consumerCacheSeconds: consumerCacheSecondsFromEnv(),
    });
    // An inherited tenant's problems are the top level's, reported there once, not once per key.
    for (const issue of issues.filter((i) => !(inherits && i.path[0] === 'tenant'))) this.report(issue, at, label);
    return props;
  }

  private keyLabel(key: { tenant?: unknown; name?: unknown }, index: number): string {
    return typeof key.tenant === 'string' && typeof key.name === 'string' && KEY_NAME_PATTERN.test(key.name) ? `${key.tenant}/${key.name}` : `keys[${index}]`;
  }

  private report(issue: DeclarationIssue, prefix: IssuePath, key?: string): void {
    const path = [...prefix, ...issue.path];
    const position = this.position(path, issue.atFieldName);
    this.problems.push({
      code: issue.code,
      file: this.file,
      line: position.line,
      column: position.column,
      ...(key ? { key } : {}),
      // Within a key, the field is named from the key (its label says which key).
      field: (prefix[0] === 'keys' && formatPath(issue.path)) || formatPath(path) || '(top level)',
      problem: issue.problem,
      fix: issue.fix,
      offset: position.offset,
    });
  }

  private warn(path: IssuePath, key: string | undefined, text: string, atFieldName = false): void {
    const position = this.position(path, atFieldName);
    const field = formatPath(key ? path.slice(2) : path);
    this.warnings.push({ line: `${this.file}:${position.line}:${position.column} warning:${key ? ` key ${key}` : ''} field ${field}: ${text}`, offset: position.offset });
  }

  private position(path: IssuePath, atFieldName?: boolean) {
    const position = positionOf(this.document, this.lineCounter, path, { atFieldName });
    // Sorting by line, then column, keeps the report in the order the file is read.
    return { ...position, offset: position.line * 1_000_000 + position.column };
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
