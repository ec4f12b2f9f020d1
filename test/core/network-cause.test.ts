import { describe, expect, it } from 'vitest';
import { BAD_PORT, describeNetworkCause, TrackerError, T3Error } from '../../src/core/index.js';

describe('describeNetworkCause', () => {
  it.each([
    [['ECONNREFUSED'], 'connection refused'],
    [['ENOTFOUND'], 'DNS failure (ENOTFOUND)'],
    [['EAI_AGAIN'], 'DNS failure (EAI_AGAIN)'],
    [['ETIMEDOUT'], 'timeout (ETIMEDOUT)'],
    [['UND_ERR_CONNECT_TIMEOUT'], 'timeout (UND_ERR_CONNECT_TIMEOUT)'],
    [['CERT_HAS_EXPIRED'], 'TLS failure (CERT_HAS_EXPIRED)'],
    [['DEPTH_ZERO_SELF_SIGNED_CERT'], 'TLS failure (DEPTH_ZERO_SELF_SIGNED_CERT)'],
    [['UNABLE_TO_VERIFY_LEAF_SIGNATURE'], 'TLS failure (UNABLE_TO_VERIFY_LEAF_SIGNATURE)'],
    [['ERR_TLS_CERT_ALTNAME_INVALID'], 'TLS failure (ERR_TLS_CERT_ALTNAME_INVALID)'],
    [['ERR_SSL_WRONG_VERSION_NUMBER'], 'TLS failure (ERR_SSL_WRONG_VERSION_NUMBER)'],
    [['ECONNRESET'], 'connection reset (ECONNRESET)'],
    [['UND_ERR_SOCKET'], 'connection closed by the server'],
    [['EHOSTUNREACH'], 'host unreachable'],
    [['ENETUNREACH'], 'network unreachable'],
    [['ERR_SOMETHING', 'ECONNREFUSED'], 'connection refused'],
    [['ERR_SOMETHING'], 'connection failed (ERR_SOMETHING)'],
    [[BAD_PORT], 'port blocked by fetch (a "bad port": use another port)'],
    [[], 'connection failed'],
  ])('names the codes %j as %s', (codes, cause) => {
    expect(describeNetworkCause({ codes })).toBe(cause);
  });

  it('says a request that ran out of its own time timed out, whatever the codes', () => {
    expect(describeNetworkCause({ codes: ['ECONNRESET'], timedOutAfterMs: 200 })).toBe(
      'timeout after 200 ms',
    );
  });
});

describe('an upstream error without an answer', () => {
  it('names the address and the cause, and no kind that blames anything else', () => {
    const error = new TrackerError({
      kind: 'transient',
      request: 'GET /user',
      network: { address: 'api.github.test:443', cause: 'connection refused' },
    });

    expect(error.message).toBe(
      'tracker: GET /user: network error: connection refused (api.github.test:443)',
    );
  });

  it('says afk’s own detail in place of the kind and reason', () => {
    const error = new T3Error({
      kind: 'not-found',
      request: 'GET /api/orchestration/snapshot',
      status: 404,
      detail: 'this server does not serve the HTTP orchestration API',
    });

    expect(error.message).toBe(
      't3: GET /api/orchestration/snapshot: 404 this server does not serve the HTTP orchestration API',
    );
  });
});
