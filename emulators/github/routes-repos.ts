// The GitHub fake's repository and user endpoints: the token's user, a collaborator's
// permission, the repository, and its labels.
import type { FakeRole } from '../forge.js';
import { docs, invalidField, jsonObject, Refusal, unsupported } from './errors.js';
import type { Server, Route } from './server.js';
import { roleRank, type GitHubState, type LabelRecord } from './state.js';
import type { Wire } from './wire.js';

const legacyPermission: Record<FakeRole, 'admin' | 'write' | 'read'> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
};

export function createRepoRoutes(state: GitHubState, wire: Wire, server: Server) {
  const { selfLogin, appInstallation, newId, roleOf, actor, caller } = state;
  const { userJson, labelJson, repoJson } = wire;
  const { answer, repoOf, page } = server;

  const permissionDocs = `${docs}/collaborators/collaborators#get-repository-permissions-for-a-user`;
  const getPermission: Route = ({ params }) => {
    const repo = repoOf(params, permissionDocs);
    const self = roleOf(repo, actor());
    if (self === undefined || roleRank[self] < roleRank.write) {
      throw new Refusal(
        403,
        'Must have push access to view collaborator permission.',
        permissionDocs,
      );
    }
    const login = params['username'] ?? '';
    // Logins that are not user accounts (apps' bots, `Copilot`) answer 404 "is not a user".
    if (login.endsWith('[bot]')) throw new Refusal(404, `${login} is not a user`, permissionDocs);
    const role = roleOf(repo, login);
    // Everyone can read a public repository, so a stranger there holds `read`.
    const permission =
      role !== undefined ? legacyPermission[role] : repo.visibility === 'public' ? 'read' : 'none';
    const roleName = role ?? permission;
    return answer(200, {
      permission,
      role_name: roleName,
      user: {
        ...userJson(repo.collaborators.get(login.toLowerCase())?.login ?? login),
        permissions: {
          admin: role === 'admin',
          maintain: role !== undefined && roleRank[role] >= roleRank.maintain,
          push: role !== undefined && roleRank[role] >= roleRank.write,
          triage: role !== undefined && roleRank[role] >= roleRank.triage,
          pull: permission !== 'none',
        },
        role_name: roleName,
      },
    });
  };

  const getSelf: Route = () => {
    if (appInstallation || caller().kind === 'installation') {
      throw new Refusal(
        403,
        'Resource not accessible by integration',
        `${docs}/users/users#get-the-authenticated-user`,
      );
    }
    return answer(200, { ...userJson(selfLogin), name: null, created_at: '2020-01-01T00:00:00Z' });
  };

  const listRepoLabelsDocs = `${docs}/issues/labels#list-labels-for-a-repository`;
  const listRepoLabels: Route = ({ url, params }) => {
    const repo = repoOf(params, listRepoLabelsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    return page(
      url,
      repo,
      [...repo.labels.values()].map((label) => labelJson(repo, label)),
    );
  };

  const createLabelDocs = `${docs}/issues/labels#create-a-label`;
  const createLabel: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, createLabelDocs);
    const self = roleOf(repo, actor());
    if (self === undefined || roleRank[self] < roleRank.write) {
      throw new Refusal(403, 'Must have push access to repository', createLabelDocs);
    }
    const fields = jsonObject(body, rawBody, createLabelDocs);
    const { name, color, description } = fields;
    if (name === undefined) {
      throw new Refusal(422, 'Invalid request.\n\n"name" wasn\'t supplied.', createLabelDocs);
    }
    if (typeof name !== 'string' || name.trim() === '' || name.length > 50) {
      throw invalidField('Label', 'name', createLabelDocs);
    }
    // Six hex digits, without the leading `#`.
    if (color !== undefined && (typeof color !== 'string' || !/^[0-9a-f]{6}$/i.test(color))) {
      throw invalidField('Label', 'color', createLabelDocs);
    }
    if (
      description !== undefined &&
      description !== null &&
      (typeof description !== 'string' || description.length > 100)
    ) {
      throw invalidField('Label', 'description', createLabelDocs);
    }
    // Names are unique regardless of case.
    if (repo.labels.has(name.toLowerCase())) {
      throw new Refusal(422, 'Validation Failed', createLabelDocs, [
        { resource: 'Label', code: 'already_exists', field: 'name' },
      ]);
    }
    const label: LabelRecord = {
      id: newId(),
      name,
      color: typeof color === 'string' ? color.toLowerCase() : 'ededed',
      description: typeof description === 'string' ? description : null,
    };
    repo.labels.set(name.toLowerCase(), label);
    return answer(201, labelJson(repo, label));
  };

  const getRepo: Route = ({ params }) =>
    answer(200, repoJson(repoOf(params, `${docs}/repos/repos#get-a-repository`)));

  return { getPermission, getSelf, listRepoLabels, createLabel, getRepo };
}
