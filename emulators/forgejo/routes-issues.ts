// The Forgejo fake's issue endpoints: issues, their comments, reactions and timeline.
import { compare, isObject } from '../forge-core.js';
import { Refusal, unsupported } from './errors.js';
import type { Route, Server } from './server.js';
import type { ForgejoState, TimelineRecord, IssueRecord, RepoRecord } from './state.js';
import type { Wire } from './wire.js';

// setting.UI.Reactions, the default list of allowed reactions.
const reactionContents = ['+1', '-1', 'laugh', 'hooray', 'confused', 'heart', 'rocket', 'eyes'];

export function createIssueRoutes(state: ForgejoState, wire: Wire, server: Server) {
  const { selfLogin, stamp, pushEvent, changeState, selfCan } = state;
  const { issueJson, commentJson, timelineJson, reactionJson } = wire;
  const { answer, repoOf, issueOf, commentOf, listOptions, pageOf, linkHeader, totalCount } =
    server;

  const listIssues: Route = ({ url, params }) => {
    const repo = repoOf(params);
    const query = url.searchParams;
    unsupported(query, ['state', 'type', 'labels', 'sort', 'page', 'limit']);
    // Anything but closed or all reads as open; anything but issues or pulls lists both.
    const state = query.get('state');
    const type = query.get('type');
    const sort = query.get('sort') ?? 'latest';
    if (!['latest', 'oldest', 'recentupdate', 'leastupdate', ''].includes(sort)) {
      throw new Refusal(501, `forgejo fake: sort "${sort}" is not implemented`);
    }
    // Names resolve among the repository's own labels only (not its organisation's), and
    // names that resolve to nothing are dropped; when none resolves, there is no filter at all.
    const names = (query.get('labels') ?? '').split(',');
    const wanted = repo.labels.filter((l) => names.includes(l.name)).map((l) => l.id);
    const key = (issue: IssueRecord) =>
      sort === 'recentupdate' || sort === 'leastupdate' ? issue.updatedAt : issue.createdAt;
    const ascending = sort === 'oldest' || sort === 'leastupdate';
    const matching = [...repo.issues.values()]
      .filter((issue) =>
        state === 'closed'
          ? issue.state === 'closed'
          : state === 'all'
            ? true
            : issue.state === 'open',
      )
      .filter((issue) =>
        type === 'issues' ? !issue.isPullRequest : type === 'pulls' ? issue.isPullRequest : true,
      )
      .filter((issue) => wanted.every((id) => issue.labels.some((l) => l.id === id)))
      .sort((a, b) => compare(key(a), key(b)) || a.id - b.id);
    if (!ascending) matching.reverse();
    const options = listOptions(url);
    return answer(
      200,
      pageOf(matching, options).map((issue) => issueJson(repo, issue)),
      {
        ...linkHeader(url, matching.length, options.size, options.page),
        ...totalCount(matching.length),
      },
    );
  };

  const getIssue: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    return answer(200, issueJson(repo, issueOf(repo, params)));
  };

  // Closing answers 201, not 200; any `state` but "closed" reopens.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue.go (EditIssue)
  const editIssue: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const issue = issueOf(repo, params);
    const fields = isObject(body) ? body : {};
    const implemented = ['state', 'title', 'body'];
    const other = Object.keys(fields).find((name) => !implemented.includes(name));
    if (other !== undefined) throw new Refusal(501, `forgejo fake: "${other}" is not implemented`);
    const { state, title, body: text } = fields;
    if (state !== undefined && state !== null && typeof state !== 'string') {
      throw new Refusal(422, '[State]: cannot unmarshal');
    }
    if (title !== undefined && typeof title !== 'string') {
      throw new Refusal(422, '[Title]: cannot unmarshal');
    }
    if (text !== undefined && text !== null && typeof text !== 'string') {
      throw new Refusal(422, '[Body]: cannot unmarshal');
    }
    const poster = issue.author.toLowerCase() === selfLogin.toLowerCase();
    if (!poster && !selfCan(repo, 'write')) throw new Refusal(403, null);
    const at = stamp();
    if (typeof title === 'string' && title !== '') issue.title = title;
    if (typeof text === 'string') issue.body = text;
    if (typeof state === 'string') {
      const pull = repo.pulls.get(issue.number);
      if (pull !== undefined && pull.mergedAt !== null) {
        throw new Refusal(412, 'cannot change state of this pull request, it was already merged');
      }
      changeState(issue, state === 'closed' ? 'closed' : 'open', selfLogin, at);
    }
    issue.updatedAt = at;
    return answer(201, issueJson(repo, issue));
  };

  // No pagination: every comment, oldest first, with X-Total-Count. The route's only
  // parameters are `since` and `before` (not implemented here). Forgejo ignores `page` and
  // `limit` on it; the fake refuses them like any parameter it does not implement, so a
  // client that pages this list (and believes it got one page) shows up in its tests.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_comment.go (ListIssueComments)
  const listComments: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const issue = issueOf(repo, params);
    const comments = chronological(issue.timeline).filter((row) => row.type === 'comment');
    return answer(
      200,
      comments.map((comment) => commentJson(repo, issue, comment)),
      totalCount(comments.length),
    );
  };

  const commentText = (body: unknown): string => {
    const text = isObject(body) ? body['body'] : undefined;
    if (text !== undefined && typeof text !== 'string') {
      throw new Refusal(422, '[Body]: cannot unmarshal');
    }
    // binding:"Required" refuses only the empty string.
    if (text === undefined || text === '') throw new Refusal(422, '[Body]: Required');
    return text;
  };

  const createComment: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const issue = issueOf(repo, params);
    const text = commentText(body);
    const at = stamp();
    pushEvent(issue, {
      type: 'comment',
      actor: selfLogin,
      body: text,
      label: null,
      createdAt: at,
      updatedAt: at,
    });
    const comment = issue.timeline.at(-1);
    if (comment === undefined) throw new Error('forgejo fake: the comment was not recorded');
    return answer(201, commentJson(repo, issue, comment));
  };

  const getComment: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const { issue, comment } = commentOf(repo, params);
    return answer(200, commentJson(repo, issue, comment));
  };

  /** A comment's author, or anyone with write access, may edit or delete it. */
  const requireCommentWriter = (repo: RepoRecord, comment: TimelineRecord) => {
    const author = comment.actor.toLowerCase() === selfLogin.toLowerCase();
    if (!author && !selfCan(repo, 'write')) throw new Refusal(403, null);
  };

  const editComment: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const { issue, comment } = commentOf(repo, params);
    const text = commentText(body);
    requireCommentWriter(repo, comment);
    comment.body = text;
    comment.updatedAt = stamp();
    return answer(200, commentJson(repo, issue, comment));
  };

  const deleteComment: Route = ({ params }) => {
    const repo = repoOf(params);
    const { issue, comment } = commentOf(repo, params);
    requireCommentWriter(repo, comment);
    issue.timeline.splice(issue.timeline.indexOf(comment), 1);
    return answer(204, undefined);
  };

  // No reactions is JSON `null` (a nil Go slice), not `[]`.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_reaction.go
  const listReactions: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, []);
    const { comment } = commentOf(repo, params);
    const reactions = comment.reactions.filter((r) => reactionContents.includes(r.content));
    return answer(200, reactions.length === 0 ? null : reactions.map(reactionJson));
  };

  const reactionContent = (body: unknown): string => {
    const content = isObject(body) ? body['content'] : undefined;
    if (content !== undefined && typeof content !== 'string') {
      throw new Refusal(422, '[Reaction]: cannot unmarshal');
    }
    return content ?? '';
  };

  // 201 when this call created the reaction, 200 with the existing one when the user already
  // reacted so: the one atomic test-and-set afk's claims rest on.
  const createReaction: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const { comment } = commentOf(repo, params);
    const content = reactionContent(body);
    if (!reactionContents.includes(content)) {
      throw new Refusal(403, `'${content}' is not an allowed reaction`);
    }
    const mine = comment.reactions.find(
      (r) => r.login.toLowerCase() === selfLogin.toLowerCase() && r.content === content,
    );
    if (mine !== undefined) return answer(200, reactionJson(mine));
    const reaction = { login: selfLogin, content, createdAt: stamp() };
    comment.reactions.push(reaction);
    return answer(201, reactionJson(reaction));
  };

  // By content, for the token's user; deleting a reaction that is not there is still 200.
  const deleteReaction: Route = ({ params, body }) => {
    const repo = repoOf(params);
    const { comment } = commentOf(repo, params);
    const content = reactionContent(body);
    comment.reactions = comment.reactions.filter(
      (r) => !(r.login.toLowerCase() === selfLogin.toLowerCase() && r.content === content),
    );
    return answer(200, undefined);
  };

  // Without `page` the whole timeline; with it, one page of `limit`. X-Total-Count counts the
  // rows in this answer, not in the timeline.
  // https://codeberg.org/forgejo/forgejo/src/branch/forgejo/routers/api/v1/repo/issue_comment.go (ListIssueCommentsAndTimeline)
  const listTimeline: Route = ({ url, params }) => {
    const repo = repoOf(params);
    unsupported(url.searchParams, ['page', 'limit']);
    const issue = issueOf(repo, params);
    const options = listOptions(url);
    const timeline = chronological(issue.timeline);
    const rows = options.explicitPage ? pageOf(timeline, options) : timeline;
    return answer(
      200,
      rows.map((row) => timelineJson(repo, issue, row)),
      totalCount(rows.length),
    );
  };

  return {
    listIssues,
    getIssue,
    editIssue,
    listComments,
    createComment,
    getComment,
    editComment,
    deleteComment,
    listReactions,
    createReaction,
    deleteReaction,
    listTimeline,
  };
}

/** Comment rows as FindComments orders them: created_unix, then id. */
function chronological<T extends { id: number; createdAt: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => compare(a.createdAt, b.createdAt) || a.id - b.id);
}
