// The Slack webhook URL's one rule, apart from the doorbell that posts to it: doctor checks
// it too, and doctor is evaluated in the startup snapshot, where ky (which the doorbell is
// built on) cannot be loaded (src/snapshot-entry.ts).
import { ConfigError } from '../core/index.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The URL the doorbell would post to; a ConfigError (never showing it) for one it refuses. */
export function checkWebhookUrl(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  // Over plain http the secret would travel in clear text; only loopback (the demo's and
  // the end-to-end tests' emulator) never leaves the machine.
  const loopback = parsed?.protocol === 'http:' && LOOPBACK.has(parsed.hostname);
  if (parsed === undefined || (parsed.protocol !== 'https:' && !loopback)) {
    throw new ConfigError([
      'the Slack webhook URL is not an https:// URL (its value is not shown)',
    ]);
  }
  return parsed.href;
}
