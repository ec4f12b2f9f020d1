// The Forgejo fake's label endpoints: an issue's labels (by id), the repository's and its
// organisation's.
import { compare, isObject } from '../forge-core.js';
import { notFound, Refusal, unsupported } from './errors.js';
import type { Route, Server } from './server.js';
import type { ForgejoState, LabelRecord } from './state.js';
import type { Wire } from './wire.js';

export function createLabelRoutes(state: ForgejoState, wire: Wire, server: Server) {
  const { selfLogin, orgs, labelsById, stamp, isOrg, createLabel, applyLabel, dropLabel, selfCan } =
    state;
  const { repos, orgLabels } = state;
  const { labelJson, labelsJson } = wire;
  const { answer, repoOf, issueOf, requireIssueWriter, listOptions, pageOf, totalCount } = server;

  const listIssueLabels: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    return answer(200, labelsJson(issueOf(repo, params).labels));
  };

  // `labels` holds ids (numbers) or names (strings), never both. Names resolve among the
  // repository's and its organisation's labels; unknown names and ids, and labels of other
  // repositories, are dropped without a word.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_label.go
  const addIssueLabels: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const issue = issueOf(repo, params);
    const given = isObject(body) ? body['labels'] : undefined;
    if (given !== undefined && given !== null && !Array.isArray(given)) {
      throw new Refusal(422, '[Labels]: cannot unmarshal');
    }
    const ids: number[] = [];
    const names: string[] = [];
    for (const item of given ?? []) {
      if (typeof item === 'number') ids.push(Math.trunc(item));
      else if (typeof item === 'string') names.push(item);
      else throw new Refusal(400, 'a label must be an integer or a string');
    }
    if (ids.length > 0 && names.length > 0) {
      throw new Refusal(400, 'labels should be an array of strings or integers');
    }
    const byName = [...repo.labels, ...orgLabels(repo)].filter((l) => names.includes(l.name));
    const byId = ids.flatMap((id) => {
      const label = labelsById.get(id);
      return label === undefined ? [] : [label];
    });
    requireIssueWriter(repo);
    const at = stamp();
    for (const label of [...byName, ...byId]) {
      const usable =
        label.scope.kind === 'repo'
          ? label.scope.repo === repo.fullName
          : isOrg(repo.owner) && label.scope.org.toLowerCase() === repo.owner.toLowerCase();
      if (usable) applyLabel(issue, label, selfLogin, at);
    }
    return answer(200, labelsJson(issue.labels));
  };

  // By id. An id no label has is 422; a label the issue does not carry is a silent 204.
  const removeIssueLabel: Route = ({ params }) => {
    const repo = repoOf(params);
    const issue = issueOf(repo, params);
    requireIssueWriter(repo);
    const label = labelsById.get(Number(params['id']));
    if (label === undefined) throw new Refusal(422, 'label does not exist [label_id: 0]');
    dropLabel(issue, label, selfLogin, stamp());
    return answer(204, undefined);
  };

  // X-Total-Count but no Link header; without `page`, every label.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/label.go
  const labelList = (url: URL, labels: LabelRecord[]) => {
    unsupported(url.searchParams, ['page', 'limit']);
    const options = listOptions(url);
    const sorted = [...labels].sort((a, b) => compare(a.name, b.name) || a.id - b.id);
    const rows = options.explicitPage ? pageOf(sorted, options) : sorted;
    return answer(200, rows.map(labelJson), totalCount(labels.length));
  };

  const listRepoLabels: Route = ({ url, params }) => labelList(url, repoOf(params).labels);

  const listOrgLabels: Route = ({ url, params }) => {
    const name = params['org'] ?? '';
    // orgAssignment: a user account, or no account at all, is not an organisation.
    const known = [...repos.values()].some((r) => r.owner.toLowerCase() === name.toLowerCase());
    const org = orgs.get(name.toLowerCase());
    if (!isOrg(name) || (org === undefined && !known)) throw notFound();
    return labelList(url, org?.labels ?? []);
  };

  // Forgejo does not refuse a duplicate name: a second label of that name is created.
  const createRepoLabel: Route = ({ params, body }) => {
    const repo = repoOf(params);
    if (!selfCan(repo, 'write')) {
      throw new Refusal(403, 'user should have a permission to write to a repo');
    }
    const fields = isObject(body) ? body : {};
    const { name, color, description } = fields;
    for (const [field, value] of [
      ['Name', name],
      ['Color', color],
      ['Description', description],
    ] as const) {
      if (value !== undefined && typeof value !== 'string') {
        throw new Refusal(422, `[${field}]: cannot unmarshal`);
      }
    }
    if (typeof name !== 'string' || name === '') throw new Refusal(422, '[Name]: Required');
    if (typeof color !== 'string' || color === '') throw new Refusal(422, '[Color]: Required');
    const normalised = normaliseColor(color);
    if (normalised === undefined) {
      throw new Refusal(422, `bad color code: ${color.trim().toLowerCase()}`);
    }
    const label = createLabel(
      { kind: 'repo', repo: repo.fullName },
      repo.labels,
      name,
      normalised,
      typeof description === 'string' ? description : '',
    );
    return answer(201, labelJson(label));
  };

  // No `head` filter. Without `state` (or with anything but open or closed) every pull
  // request is listed, whatever the swagger's "default: open" says; newest first.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/models/issues/pull_list.go

  return {
    listIssueLabels,
    addIssueLabels,
    removeIssueLabel,
    listRepoLabels,
    listOrgLabels,
    createRepoLabel,
  };
}

/** `#rgb`, `rgb`, `#rrggbb` or `rrggbb`, case-insensitive; stored without `#`, lower-case. */
function normaliseColor(color: string): string | undefined {
  const hex = color.trim().toLowerCase().replace(/^#/, '');
  if (/^[0-9a-f]{6}$/.test(hex)) return hex;
  if (/^[0-9a-f]{3}$/.test(hex)) return [...hex].map((c) => c + c).join('');
  return undefined;
}
