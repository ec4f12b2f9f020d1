// The GitHub fake's issue endpoints: issues, their comments and reactions, events and labels.
// https://docs.github.com/en/rest/issues
import { compare, isObject } from '../forge-core.js';
import {
  commentBody,
  docs,
  invalidField,
  jsonObject,
  labelNames,
  oneOf,
  Refusal,
  unsupported,
} from './errors.js';
import type { Server, Route } from './server.js';
import type { GitHubState, IssueRecord } from './state.js';
import type { Wire } from './wire.js';

// https://docs.github.com/en/rest/reactions/reactions#about-reactions
const reactionContents = ['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes'];

export function createIssueRoutes(state: GitHubState, wire: Wire, server: Server) {
  const { actor, newId, stamp, applyLabel, dropLabel, changeState, commentIn } = state;
  const { apiRepoUrl, issueJson, commentJson, reactionJson, eventJson, labelJson } = wire;
  const { answer, repoOf, issueOf, page } = server;

  const listIssuesDocs = `${docs}/issues/issues#list-repository-issues`;
  const listIssues: Route = ({ url, params }) => {
    const repo = repoOf(params, listIssuesDocs);
    const query = url.searchParams;
    unsupported(query, ['labels', 'state', 'sort', 'direction', 'since', 'per_page', 'page']);
    const state = oneOf(
      query.get('state') ?? 'open',
      ['open', 'closed', 'all'],
      'state',
      listIssuesDocs,
    );
    const sort = oneOf(
      query.get('sort') ?? 'created',
      ['created', 'updated', 'comments'],
      'sort',
      listIssuesDocs,
    );
    const direction = oneOf(
      query.get('direction') ?? 'desc',
      ['asc', 'desc'],
      'direction',
      listIssuesDocs,
    );
    // `labels` is a comma-separated list of names; an issue must carry every one of them.
    const wanted = (query.get('labels') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== '');
    const since = query.get('since');
    const key = (issue: IssueRecord): string | number =>
      sort === 'comments'
        ? issue.comments.length
        : sort === 'updated'
          ? issue.updatedAt
          : issue.createdAt;
    const items = [...repo.issues.values()]
      .filter((issue) => state === 'all' || issue.state === state)
      .filter((issue) =>
        wanted.every((name) => issue.labels.some((l) => l.name.toLowerCase() === name)),
      )
      .filter((issue) => since === null || issue.updatedAt >= since)
      .sort((a, b) => compare(key(a), key(b)) || a.number - b.number)
      .map((issue) => issueJson(repo, issue));
    if (direction === 'desc') items.reverse();
    return page(url, repo, items);
  };

  const getIssue: Route = ({ params }) => {
    const documentation = `${docs}/issues/issues#get-an-issue`;
    const repo = repoOf(params, documentation);
    return answer(200, issueJson(repo, issueOf(repo, params, documentation)));
  };

  const updateIssueDocs = `${docs}/issues/issues#update-an-issue`;
  const updateIssue: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, updateIssueDocs);
    const issue = issueOf(repo, params, updateIssueDocs);
    const fields = jsonObject(body, rawBody, updateIssueDocs);
    const implemented = ['state', 'state_reason', 'title', 'body', 'labels'];
    const other = Object.keys(fields).find((name) => !implemented.includes(name));
    if (other !== undefined) throw new Refusal(501, `github fake: "${other}" is not implemented`);
    const at = stamp();
    const { state, state_reason: reason, title, body: text, labels } = fields;
    if (state !== undefined && state !== 'open' && state !== 'closed') {
      throw invalidField('Issue', 'state', updateIssueDocs);
    }
    if (
      reason !== undefined &&
      reason !== null &&
      !['completed', 'not_planned', 'reopened'].includes(String(reason))
    ) {
      throw invalidField('Issue', 'state_reason', updateIssueDocs);
    }
    if (title !== undefined && (typeof title !== 'string' || title.trim() === '')) {
      throw invalidField('Issue', 'title', updateIssueDocs);
    }
    if (text !== undefined && text !== null && typeof text !== 'string') {
      throw invalidField('Issue', 'body', updateIssueDocs);
    }
    const names = labels === undefined ? undefined : labelNames(labels, updateIssueDocs);
    if (typeof title === 'string') issue.title = title;
    if (text !== undefined) issue.body = text as string | null;
    if (names !== undefined) {
      for (const label of [...issue.labels]) {
        if (!names.some((n) => n.toLowerCase() === label.name.toLowerCase())) {
          dropLabel(issue, label.name, actor(), at);
        }
      }
      for (const name of names) applyLabel(repo, issue, name, actor(), at);
    }
    if (state === 'closed' || state === 'open') {
      changeState(issue, state, typeof reason === 'string' ? reason : null, actor(), at);
    } else if (issue.state === 'closed' && typeof reason === 'string') {
      issue.stateReason = reason;
    }
    issue.updatedAt = at;
    return answer(200, issueJson(repo, issue));
  };

  const listCommentsDocs = `${docs}/issues/comments#list-issue-comments`;
  const listComments: Route = ({ url, params }) => {
    const repo = repoOf(params, listCommentsDocs);
    const issue = issueOf(repo, params, listCommentsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    return page(
      url,
      repo,
      issue.comments.map((comment) => commentJson(repo, issue, comment)),
    );
  };

  const createCommentDocs = `${docs}/issues/comments#create-an-issue-comment`;
  const createComment: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, createCommentDocs);
    const issue = issueOf(repo, params, createCommentDocs);
    const text = commentBody(jsonObject(body, rawBody, createCommentDocs), createCommentDocs);
    const at = stamp();
    const comment = {
      id: newId(),
      issueNumber: issue.number,
      author: actor(),
      body: text,
      createdAt: at,
      updatedAt: at,
      reactions: [],
    };
    issue.comments.push(comment);
    issue.updatedAt = at;
    return answer(201, commentJson(repo, issue, comment), {
      location: `${apiRepoUrl(repo)}/issues/comments/${comment.id}`,
    });
  };

  const updateCommentDocs = `${docs}/issues/comments#update-an-issue-comment`;
  const updateComment: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, updateCommentDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', updateCommentDocs);
    const { issue, comment } = found;
    comment.body = commentBody(jsonObject(body, rawBody, updateCommentDocs), updateCommentDocs);
    comment.updatedAt = stamp();
    return answer(200, commentJson(repo, issue, comment));
  };

  const getCommentDocs = `${docs}/issues/comments#get-an-issue-comment`;
  const getComment: Route = ({ params }) => {
    const repo = repoOf(params, getCommentDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', getCommentDocs);
    return answer(200, commentJson(repo, found.issue, found.comment));
  };

  const deleteCommentDocs = `${docs}/issues/comments#delete-an-issue-comment`;
  const deleteComment: Route = ({ params }) => {
    const repo = repoOf(params, deleteCommentDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', deleteCommentDocs);
    found.issue.comments.splice(found.issue.comments.indexOf(found.comment), 1);
    return answer(204, undefined);
  };

  // https://docs.github.com/en/rest/reactions/reactions#create-reaction-for-an-issue-comment
  // Adding a reaction the user already added answers 200 with the existing one, not 201.
  const createReactionDocs = `${docs}/reactions/reactions#create-reaction-for-an-issue-comment`;
  const createReaction: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, createReactionDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', createReactionDocs);
    const { content } = jsonObject(body, rawBody, createReactionDocs);
    if (typeof content !== 'string' || !reactionContents.includes(content)) {
      throw invalidField('Reaction', 'content', createReactionDocs);
    }
    const mine = found.comment.reactions.find(
      (r) => r.login.toLowerCase() === actor().toLowerCase() && r.content === content,
    );
    if (mine !== undefined) return answer(200, reactionJson(mine));
    const reaction = { id: newId(), login: actor(), content, createdAt: stamp() };
    found.comment.reactions.push(reaction);
    return answer(201, reactionJson(reaction));
  };

  const listReactionsDocs = `${docs}/reactions/reactions#list-reactions-for-an-issue-comment`;
  const listReactions: Route = ({ url, params }) => {
    const repo = repoOf(params, listReactionsDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', listReactionsDocs);
    unsupported(url.searchParams, ['content', 'per_page', 'page']);
    const content = url.searchParams.get('content');
    return page(
      url,
      repo,
      found.comment.reactions
        .filter((r) => content === null || r.content === content)
        .map(reactionJson),
    );
  };

  const deleteReactionDocs = `${docs}/reactions/reactions#delete-an-issue-comment-reaction`;
  const deleteReaction: Route = ({ params }) => {
    const repo = repoOf(params, deleteReactionDocs);
    const found = commentIn(repo, Number(params['id']));
    if (found === undefined) throw new Refusal(404, 'Not Found', deleteReactionDocs);
    const index = found.comment.reactions.findIndex((r) => String(r.id) === params['reaction_id']);
    // Only the reaction's own author may delete it (afk deletes only its own).
    if (index === -1) throw new Refusal(404, 'Not Found', deleteReactionDocs);
    found.comment.reactions.splice(index, 1);
    return answer(204, undefined);
  };

  const listEventsDocs = `${docs}/issues/events#list-issue-events`;
  const listEvents: Route = ({ url, params }) => {
    const repo = repoOf(params, listEventsDocs);
    const issue = issueOf(repo, params, listEventsDocs);
    unsupported(url.searchParams, ['per_page', 'page']);
    return page(
      url,
      repo,
      issue.events.map((event) => eventJson(repo, event)),
    );
  };

  const addLabelsDocs = `${docs}/issues/labels#add-labels-to-an-issue`;
  const addLabels: Route = ({ params, body, rawBody }) => {
    const repo = repoOf(params, addLabelsDocs);
    const issue = issueOf(repo, params, addLabelsDocs);
    if (rawBody !== '' && body === rawBody)
      throw new Refusal(400, 'Problems parsing JSON', addLabelsDocs);
    // GitHub takes `{"labels": [...]}` or a bare array, of names or of `{name}` objects.
    const given = Array.isArray(body) ? body : isObject(body) ? body['labels'] : undefined;
    if (given === undefined) {
      throw new Refusal(422, 'Invalid request.\n\n"labels" wasn\'t supplied.', addLabelsDocs);
    }
    const names = labelNames(given, addLabelsDocs);
    const at = stamp();
    // Names the repository lacks are created on the fly, as GitHub does.
    for (const name of names) applyLabel(repo, issue, name, actor(), at);
    return answer(
      200,
      issue.labels.map((label) => labelJson(repo, label)),
    );
  };

  const removeLabelDocs = `${docs}/issues/labels#remove-a-label-from-an-issue`;
  const removeLabel: Route = ({ params }) => {
    const repo = repoOf(params, removeLabelDocs);
    const issue = issueOf(repo, params, removeLabelDocs);
    if (!dropLabel(issue, params['name'] ?? '', actor(), stamp())) {
      throw new Refusal(404, 'Label does not exist', removeLabelDocs);
    }
    return answer(
      200,
      issue.labels.map((label) => labelJson(repo, label)),
    );
  };

  return {
    listIssues,
    getIssue,
    updateIssue,
    listComments,
    createComment,
    updateComment,
    getComment,
    deleteComment,
    createReaction,
    listReactions,
    deleteReaction,
    listEvents,
    addLabels,
    removeLabel,
  };
}
