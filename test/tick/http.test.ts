// The read-only fetch of a dry run: reads pass, writes are refused before they leave, and a
// GitHub GraphQL query (a read sent as a POST) passes while a mutation does not.
import { describe, expect, it } from 'vitest';
import { fetchFor } from '../../src/tick/http.js';

const sent: string[] = [];
const send: typeof fetch = (input, init) => {
  sent.push(`${init?.method ?? 'GET'} ${String(input)}`);
  return Promise.resolve(new Response('{}'));
};
const graphql = (query: string) => ({
  method: 'POST',
  body: JSON.stringify({ query, variables: {}, operationName: 'X' }),
});

describe('fetchFor a dry run', () => {
  it.each([
    ['a GET', 'https://api.github.test/repos/acme/api/issues', { method: 'GET' }],
    ['a GraphQL query', 'https://api.github.test/graphql', graphql('query X { viewer { login } }')],
    [
      'a GraphQL query with fragments',
      'https://ghe.test/api/graphql',
      graphql('query X { viewer { ...F } }\nfragment F on User { login }'),
    ],
  ])('lets %s through', async (_name, url, init) => {
    sent.length = 0;
    await fetchFor('dry-run', send)(url, init);
    expect(sent).toHaveLength(1);
  });

  it.each([
    [
      'a POST',
      'https://api.github.test/repos/acme/api/issues/1/labels',
      { method: 'POST', body: '{}' },
    ],
    [
      'a GraphQL mutation',
      'https://api.github.test/graphql',
      graphql('mutation X { addComment(input: {subjectId: "1", body: "x"}) { clientMutationId } }'),
    ],
    [
      'a query beside a mutation',
      'https://api.github.test/graphql',
      graphql(
        'query X { viewer { login } }\nmutation Y { addStar(input: {starrableId: "1"}) { clientMutationId } }',
      ),
    ],
    [
      'a POST to /graphql that is no JSON',
      'https://api.github.test/graphql',
      { method: 'POST', body: 'query' },
    ],
  ])('refuses %s', async (_name, url, init) => {
    sent.length = 0;
    await expect(fetchFor('dry-run', send)(url, init)).rejects.toThrow(/^read-only: refused/);
    expect(sent).toEqual([]);
  });
});
