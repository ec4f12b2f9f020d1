// A profile's samples are counted to the module their function comes from, by esbuild's module
// markers in the bundle file; native frames to their caller; V8's buckets by name.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { attribute } from '../../tools/bench/profile.js';

describe('attribute', () => {
  it('counts self time to packages, afk modules, Node built-ins and V8 buckets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'afk-profile-test-'));
    const chunk = join(dir, 'chunk.mjs');
    writeFileSync(
      chunk,
      [
        'import { x } from "./other.mjs";', // 0: the chunk's own top level
        '// node_modules/json-with-bigint/json-with-bigint.js', // 1
        'function parse() {}', // 2
        '// src/core/dispatch.ts', // 3
        'function select() {}', // 4
      ].join('\n'),
    );
    const url = pathToFileURL(chunk).href;
    const frame = (functionName: string, at = '', lineNumber = 0) => ({
      functionName,
      url: at,
      lineNumber,
    });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5, 7, 8] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('(garbage collector)') },
        { id: 4, callFrame: frame('parse', url, 2), children: [6] },
        { id: 5, callFrame: frame('select', url, 4) },
        { id: 6, callFrame: frame('RegExp: \\d+') },
        { id: 7, callFrame: frame('fetch', 'node:internal/deps/undici/undici', 10) },
        { id: 8, callFrame: frame('', url, 0) },
      ],
      samples: [2, 2, 3, 4, 6, 6, 5, 7, 8],
      timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
    };
    writeFileSync(join(dir, 'tick.cpuprofile'), JSON.stringify(profile));
    expect(attribute(dir).map((t) => [t.what, t.ms])).toEqual([
      ['json-with-bigint', 3],
      ['idle: waiting for answers', 2],
      ['garbage collection', 1],
      ['afk src/core', 1],
      ['Node: fetch (undici)', 1],
      ['module top level', 1],
    ]);
  });
});
