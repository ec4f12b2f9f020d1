// The shape the design asks of src/ (architecture.md, "Layout"; STYLE.md): decisions and
// commands in short functions, and no module that imports itself back through another. Read
// with the TypeScript compiler, so a function or an import is what the compiler sees.
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const MAX_FUNCTION_LINES = 60;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const parse = (file: string) =>
  ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);

const isFunction = (node: ts.Node): node is ts.FunctionLikeDeclaration =>
  ts.isFunctionDeclaration(node) ||
  ts.isFunctionExpression(node) ||
  ts.isArrowFunction(node) ||
  ts.isMethodDeclaration(node);

/** `path:line name (N lines)` for every function longer than `max` lines in `files`. */
function longFunctions(files: readonly string[], max: number): string[] {
  const found: string[] = [];
  for (const file of files) {
    const source = parse(file);
    const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line;
    const visit = (node: ts.Node): void => {
      if (isFunction(node)) {
        const lines = lineOf(node.getEnd()) - lineOf(node.getStart()) + 1;
        if (lines > max) {
          const name = node.name?.getText(source) ?? '(anonymous)';
          found.push(
            `${relative(root, file)}:${lineOf(node.getStart()) + 1} ${name} (${lines} lines)`,
          );
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/**
 * The local modules each file imports: import and export declarations (type-only ones too),
 * `import()` calls and `import('…')` types.
 */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = new Set<string>();
    const add = (specifier: string) => {
      if (!specifier.startsWith('.')) return;
      const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'));
      if (known.has(target)) targets.add(target);
    };
    const visit = (node: ts.Node): void => {
      if (
        (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
        node.moduleSpecifier !== undefined &&
        ts.isStringLiteral(node.moduleSpecifier)
      ) {
        add(node.moduleSpecifier.text);
      }
      const [first] = ts.isCallExpression(node) ? node.arguments : [];
      if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        first !== undefined &&
        ts.isStringLiteral(first)
      ) {
        add(first.text);
      }
      if (
        ts.isImportTypeNode(node) &&
        ts.isLiteralTypeNode(node.argument) &&
        ts.isStringLiteral(node.argument.literal)
      ) {
        add(node.argument.literal.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(parse(file));
    graph.set(file, [...targets]);
  }
  return graph;
}

/** Every group of modules that import each other (Tarjan's strongly connected components). */
function importCycles(files: readonly string[]): string[][] {
  const graph = importGraph(files);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) ?? 0);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w !== undefined) {
        onStack.delete(w);
        component.push(relative(root, w));
      }
    } while (w !== undefined && w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) connect(file);
  return cycles;
}

const src = (dir: string) => sourceFiles(join(root, 'src', dir));

describe('the shape of src/', () => {
  it(`has no function over ${MAX_FUNCTION_LINES} lines in core, commands or tick`, () => {
    const files = [...src('core'), ...src('commands'), ...src('tick')];
    expect(files.length).toBeGreaterThan(20);
    expect(longFunctions(files, MAX_FUNCTION_LINES)).toEqual([]);
  });

  it('has no import cycle', () => {
    const files = sourceFiles(join(root, 'src'));
    expect(importGraph(files).size).toBe(files.length);
    expect(importCycles(files)).toEqual([]);
  });

  it('sees a long function and a type-only cycle when there is one: the checks can fail', () => {
    expect(longFunctions(src('core'), 5).length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'afk-structure-'));
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = b;\n");
    writeFileSync(
      join(dir, 'b.ts'),
      "import type { a } from './a.js';\nexport const b: typeof a = 1;\n",
    );
    writeFileSync(join(dir, 'c.ts'), "export const c = import('./a.js');\n");
    expect(importCycles(sourceFiles(dir)).map((cycle) => cycle.length)).toEqual([2]);
  });
});
