// A tick's report: the plan (dry run) or what was done, what waits and why, what failed, and
// one summary line. Text for people, `--output json` for machines; both on stdout.
import { describeAction, issueKey, type Action, type IssueRef } from '../core/index.js';
import type { ActionResult } from './executor.js';
import type { Mode, Output } from './tick.js';

export interface Waiting {
  issue: IssueRef;
  reason: string;
  detail: string;
}

export interface Failure {
  /** The issue the failure concerns, or null for the tick as a whole. */
  issue: IssueRef | null;
  error: string;
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
}

const KILL_SWITCH_PREVIEW =
  'kill switch is on: a live tick would do nothing (killSwitch / AFK_KILL_SWITCH)';

export function writeReport(out: Output, format: 'text' | 'json', report: TickReport): void {
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
  } else {
    for (const result of report.results) {
      const error = result.status === 'done' ? '' : `: ${result.error}`;
      lines.push(`${result.status.padEnd(7)} ${describeAction(result.action)}${error}`);
    }
  }
  for (const w of report.waiting) {
    lines.push(`waiting ${issueKey(w.issue)}: ${w.reason} (${w.detail})`);
  }
  for (const f of report.failures) {
    lines.push(`failed  ${f.issue === null ? report.command : issueKey(f.issue)}: ${f.error}`);
  }
  lines.push(report.summary);
  out.write(`${lines.join('\n')}\n`);
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
  failures: report.failures.map((f) => ({
    ...f,
    issue: f.issue === null ? null : issueKey(f.issue),
  })),
});
