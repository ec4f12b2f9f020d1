// Domain types shared by the core, the adapters and the commands. Adapters translate the
// forges' and T3's wire shapes into these; nothing outside src/adapters sees a raw response.

/** "owner/name", exactly as the allowlist spells it. */
export type RepoName = string;

export interface IssueRef {
  repo: RepoName;
  number: number;
}

export interface Issue extends IssueRef {
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  author: string | null;
  createdAt: string;
  url: string;
}

export interface IssueComment {
  id: number;
  author: string | null;
  body: string;
  createdAt: string;
}

export interface LabelEvent {
  action: 'labeled' | 'unlabeled';
  label: string;
  actor: string | null;
  createdAt: string;
}

/**
 * A user's access to a repository, in the forge-neutral words afk needs. GitHub's legacy
 * `permission` field folds maintain into write and triage into read; a user who is not a
 * collaborator (or a bot the API does not know as a user) is `none`.
 */
export type Permission = 'admin' | 'write' | 'read' | 'none';

export const turnStates = ['running', 'interrupted', 'completed', 'error'] as const;
export type TurnState = (typeof turnStates)[number];

export const sessionStatuses = [
  'idle',
  'starting',
  'running',
  'ready',
  'interrupted',
  'stopped',
  'error',
] as const;
export type SessionStatus = (typeof sessionStatuses)[number];

export interface T3Turn {
  turnId: string;
  state: TurnState;
  requestedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

export interface T3Session {
  status: SessionStatus;
  activeTurnId: string | null;
  lastError: string | null;
  updatedAt: string | null;
}

export interface T3Message {
  id: string;
  role: 'user' | 'assistant' | 'system';
  text: string;
  turnId: string | null;
  createdAt: string;
}

export interface T3Activity {
  id: string;
  tone: string;
  kind: string;
  summary: string;
  payload: unknown;
  turnId: string | null;
  createdAt: string;
}

export interface T3Project {
  id: string;
  title: string;
  workspaceRoot: string;
  deleted: boolean;
}

export interface T3Thread {
  id: string;
  projectId: string;
  title: string;
  branch: string | null;
  archived: boolean;
  deleted: boolean;
  latestTurn: T3Turn | null;
  session: T3Session | null;
  /**
   * Full detail (v0.0.27 to v0.0.31 snapshots, and the v0.0.29+ thread route) or `null` when
   * the source left it out (v0.0.32+ snapshots send empty arrays, which say nothing).
   */
  messages: T3Message[] | null;
  activities: T3Activity[] | null;
  createdAt: string;
  updatedAt: string;
}

export interface T3Snapshot {
  sequence: number;
  /** `full` carries messages and activities; `slim` (v0.0.32+) does not. */
  detail: 'full' | 'slim';
  projects: T3Project[];
  threads: T3Thread[];
}

export interface ModelSelection {
  instanceId: string;
  model: string;
}

export type RuntimeMode = 'approval-required' | 'auto-accept-edits' | 'full-access' | 'auto';
export type InteractionMode = 'default' | 'plan';

export const issueKey = (ref: IssueRef): string => `${ref.repo}#${ref.number}`;
