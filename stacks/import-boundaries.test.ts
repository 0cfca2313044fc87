/**
 * Which way the code may depend, checked on every import: the stacks declare what is deployed and
 * use neither the CLI nor the store (naming, layout and target detection are lambda/tables and
 * lambda/deploy-env), and cdktf stays in stacks/, out of the Lambdas' bundles and the CLI's start-up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SOURCE = /\.(ts|cjs|js)$/;

/** Every source file under `dir`, relative to the project, node_modules and build output left out. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'cdktf.out', '__snapshots__', '__fixtures__'].includes(entry.name) ? [] : sourceFiles(relative);
    return SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [relative] : [];
  });
}

/** What a file imports: `import … from 'x'`, `export … from 'x'`, `import('x')`, `require('x')`, `jest.mock('x')`. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const found = [...text.matchAll(/(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]|\b(?:import|require|jest\.mock)\(\s*['"]([^'"]+)['"]/gm)];
  return found.map((match) => match[1] ?? match[2]);
}

/** A relative import as a project path (`lambda/store/table-layout`); a package import as is. */
function resolved(file: string, specifier: string): string {
  return specifier.startsWith('.') ? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier)) : specifier;
}

const violations = (files: string[], forbidden: (target: string) => boolean) =>
  files.flatMap((file) => importsOf(file).filter((specifier) => forbidden(resolved(file, specifier))).map((specifier) => `${file} imports ${specifier}`));

const isCdktf = (target: string) => /^(cdktf|@cdktf\/|constructs)(\/|$)/.test(target);

describe('import boundaries', () => {
  it('finds the imports it checks (the scanner works)', () => {
    expect(importsOf('stacks/keys/api-key.ts')).toEqual(expect.arrayContaining(['cdktf', '../../lambda/declared-key/contract']));
    expect(resolved('stacks/keys/api-key.ts', '../../lambda/store/table-layout')).toBe(path.join('lambda', 'store', 'table-layout'));
    expect(violations(['stacks/keys/api-key.ts'], isCdktf)).not.toEqual([]);
  });

  it('keeps the stacks off the CLI and the store', () => {
    const forbidden = (target: string) => /^lambda[\\/](cli|store)([\\/]|$)/.test(target);
    expect(violations(sourceFiles('stacks'), forbidden)).toEqual([]);
  });

  it('keeps cdktf inside stacks/', () => {
    expect(violations([...sourceFiles('lambda'), ...sourceFiles('test')], isCdktf)).toEqual([]);
  });
});
