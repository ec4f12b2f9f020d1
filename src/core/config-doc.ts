// The README's config reference is generated from the schema, and a test fails when the two
// drift apart: the table is what operators read, the schema is what afk enforces.
import * as z from 'zod';
import { configSchema } from './config.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  default?: unknown;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
}

const describeType = (schema: JsonSchema): string => {
  if (schema.enum !== undefined) return schema.enum.map((v) => String(v)).join(' \\| ');
  if (schema.const !== undefined) return String(schema.const);
  if (schema.anyOf !== undefined) return schema.anyOf.map(describeType).join(' \\| ');
  if (schema.type === 'array') return `list of ${describeType(schema.items ?? {})}`;
  if (schema.type === 'integer' && schema.minimum !== undefined && schema.maximum !== undefined) {
    return `integer ${schema.minimum}–${schema.maximum}`;
  }
  if (schema.oneOf !== undefined) return schema.oneOf.map(describeType).join(' \\| ');
  // One option of a union of objects told apart by `kind` (tracker.auth): its keys.
  const kind = schema.properties?.['kind']?.const;
  if (schema.type === 'object' && kind !== undefined) {
    const others = Object.keys(schema.properties ?? {}).filter((key) => key !== 'kind');
    return `{kind: ${String(kind)}${others.map((key) => `, ${key}`).join('')}}`;
  }
  if (schema.type === 'object') return 'map';
  return schema.type ?? 'any';
};

const cell = (text: string): string =>
  text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function rows(schema: JsonSchema, prefix: string): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (child.type === 'object' && child.properties !== undefined) return rows(child, path);
    const fallback =
      child.default === undefined ? '(none)' : `\`${JSON.stringify(child.default)}\``;
    return [
      `| \`${path}\` | ${describeType(child)} | ${fallback} | ${cell(child.description ?? '')} |`,
    ];
  });
}

export function renderConfigReference(): string {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return [
    '| key | type | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows(schema, ''),
  ].join('\n');
}
