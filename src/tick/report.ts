// A tick's report: the plan (dry run) or what was done, what waits and why, what failed, and
// one summary line. Text for people, `--output json` for machines; both on stdout.
import { describeAction, issueKey, type Action, type IssueRef } from '../core/index.js';
import type { ActionResult } from './executor.js';
import type { Mode, Output } from './runtime.js';

export interface Waiting {
  issue: IssueRef;
  reason: string;
  detail: string;
}

export interface Failure {
  /** The issue the failure concerns, or null for the tick as a whole (or a whole repo). */
  issue: IssueRef | null;
  /** The repo a failure concerns as a whole: one the tick could not read and left out. */
  repo?: string;
  error: string;
  /**
   * The summary line already says it (a read the whole tick stopped at): text shows it once,
   * JSON still lists it with the other failures.
   */
  inSummary?: true;
}

export interface TickReport {
  command: string;
  mode: Mode;
  /** A dry run under the kill switch: the plan of a tick that would not run. */
  killSwitch: boolean;
  exitCode: number;
  summary: string;
  plan: Action[];
  results: ActionResult[];
  waiting: Waiting[];
  failures: Failure[];
  /** Command-specific facts (e.g. poll's dispatched issues). */
  details: Record<string, unknown>;
  /** The steps were logged as they ended, on this same screen: the text leaves them out. */
  progressShown?: boolean;
}

const KILL_SWITCH_PREVIEW =
  'kill switch is on: a live tick would do nothing (killSwitch / AFK_KILL_SWITCH)';

/** Example issues a grouped `waiting` line names per reason. */
const WAITING_EXAMPLES = 3;

/**
 * Text lists each waiting issue only with `verbose`: a long queue would bury the plan and the
 * failures under one line per issue. JSON always lists them all.
 */
export function writeReport(
  out: Output,
  format: 'text' | 'json',
  report: TickReport,
  options: { verbose?: boolean } = {},
): void {
  if (format === 'json') {
    out.write(`${JSON.stringify(toJson(report))}\n`);
    return;
  }
  const lines: string[] = [];
  if (report.mode === 'dry-run') {
    lines.push(`${report.command}: dry run, nothing is written`);
    if (report.killSwitch) lines.push(KILL_SWITCH_PREVIEW);
    lines.push(report.plan.length === 0 ? 'plan: nothing to do' : 'plan:');
    report.plan.forEach((action, i) => lines.push(`  ${i + 1}. ${describeAction(action)}`));
  } else if (report.progressShown !== true) {
    for (const result of report.results) {
      const error = result.status === 'done' ? '' : `: ${result.error}`;
      lines.push(`${result.status.padEnd(7)} ${describeAction(result.action)}${error}`);
    }
  }
  if (options.verbose === true) {
    for (const w of report.waiting) {
      lines.push(`waiting ${issueKey(w.issue)}: ${w.reason} (${w.detail})`);
    }
  } else {
    lines.push(...groupWaiting(report.waiting));
  }
  for (const f of report.failures) {
    if (f.inSummary === true) continue;
    const subject = f.issue === null ? (f.repo ?? report.command) : issueKey(f.issue);
    lines.push(`failed  ${subject}: ${f.error}`);
  }
  lines.push(report.summary);
  out.write(`${lines.join('\n')}\n`);
}

/**
 * One line per reason, in the order the reasons first occur: the count, a few issues, and the
 * detail when every issue of the group shares it (a cap's, not a repo's).
 */
function groupWaiting(waiting: readonly Waiting[]): string[] {
  if (waiting.length === 0) return [];
  const groups = new Map<string, Waiting[]>();
  for (const w of waiting) {
    const group = groups.get(w.reason);
    if (group === undefined) groups.set(w.reason, [w]);
    else group.push(w);
  }
  const lines = [`waiting ${waiting.length} (--verbose lists each):`];
  for (const [reason, group] of groups) {
    const keys = group.slice(0, WAITING_EXAMPLES).map((w) => issueKey(w.issue));
    const more = group.length - keys.length;
    const details = new Set(group.map((w) => w.detail));
    const shared = details.size === 1 ? ` (${group[0]?.detail ?? ''})` : '';
    lines.push(
      `  ${reason} ${group.length}: ${keys.join(', ')}${more > 0 ? ` and ${more} more` : ''}${shared}`,
    );
  }
  return lines;
}

const toJson = (report: TickReport) => ({
  command: report.command,
  dryRun: report.mode === 'dry-run',
  killSwitch: report.killSwitch,
  exitCode: report.exitCode,
  summary: report.summary,
  ...report.details,
  plan: report.plan,
  results: report.results.map((r) => ({
    kind: r.action.kind,
    issue: issueKey(r.action.issue),
    description: describeAction(r.action),
    status: r.status,
    ...(r.status === 'done' ? {} : { error: r.error }),
  })),
  waiting: report.waiting.map((w) => ({ ...w, issue: issueKey(w.issue) })),
  failures: report.failures.map(({ inSummary: _shown, ...f }) => ({
    ...f,
    issue: f.issue === null ? null : issueKey(f.issue),
  })),
});
