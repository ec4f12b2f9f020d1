// The Forgejo fake's user and repository endpoints: the token's user, the repository, and a
// collaborator's permission.
import { Refusal, unsupported } from './errors.js';
import type { Route, Server } from './server.js';
import type { ForgejoState } from './state.js';
import type { Wire } from './wire.js';

export function createRepoRoutes(state: ForgejoState, wire: Wire, server: Server) {
  const { selfLogin, users, modeOf, selfCan } = state;
  const { userJson, repoJson } = wire;
  const { answer, repoOf } = server;

  const getSelf: Route = () => answer(200, userJson(selfLogin));

  const getRepo: Route = ({ url, params }) => {
    unsupported(url.searchParams, []);
    return answer(200, repoJson(repoOf(params)));
  };

  // Only a site admin, a repository admin (or owner), or the user asking about themselves may
  // read a permission: a token with mere write access gets 403.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/collaborators.go
  const getPermission: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const name = params['collaborator'] ?? '';
    const login = users.get(name.toLowerCase());
    if (login === undefined) {
      throw new Refusal(404, `user does not exist [uid: 0, name: ${name}]`);
    }
    if (login.toLowerCase() !== selfLogin.toLowerCase() && !selfCan(repo, 'admin')) {
      throw new Refusal(
        403,
        'Only admins can query all permissions, repo admins can query all repo permissions, collaborators can query only their own',
      );
    }
    const mode = modeOf(repo, login);
    return answer(200, { permission: mode, role_name: mode, user: userJson(login) });
  };

  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue.go (ListIssues)

  return { getSelf, getRepo, getPermission };
}
