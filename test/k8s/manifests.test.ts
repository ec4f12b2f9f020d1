// Renders the kustomize base and the example overlay the way `kubectl apply -k` would,
// validates every object against the Kubernetes OpenAPI schemas (kubernetes-models), and
// asserts, one property per test, what keeps a tick safe: no overlap, a deadline inside the
// period, no retries, a locked-down pod, no API token, egress only where afk talks, and the
// config (disarmed in the base, one repo in the overlay) accepted by afk's own parser.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { STOP_SECONDS, worstTickSeconds } from '../../src/tick/runtime.js';
import { parseConfig } from '../../src/core/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const kubectl = (process.env['PATH'] ?? '')
  .split(delimiter)
  .filter((dir) => dir !== '')
  .map((dir) => join(dir, 'kubectl'))
  .find((path) => existsSync(path));

if (kubectl === undefined && process.env['CI'] === undefined) {
  console.warn('test/k8s: kubectl not found: the manifest tests are SKIPPED (they fail in CI).');
}

const SECRET_MOUNT = '/var/run/afk';
const IMAGE = 'ghcr.io/afk-dev/afk';

// Anything that validates one object: a kubernetes-models class per kind we ship.
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/ServiceAccount': ServiceAccount,
  'batch/v1/CronJob': CronJob,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML */
type Obj = Record<string, any>;

function render(dir: string): Obj[] {
  const out = execFileSync(kubectl as string, ['kustomize', dir], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return parseAllDocuments(out).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as Obj;
  });
}

const one = (objects: Obj[], kind: string, name: string): Obj => {
  const found = objects.filter((o) => o['kind'] === kind && o['metadata']?.name === name);
  expect(found, `${kind}/${name}`).toHaveLength(1);
  return found[0] as Obj;
};

const periodSeconds = (schedule: string): number => {
  const match = /^\*\/(\d+) \* \* \* \*$/.exec(schedule);
  expect(match, `schedule ${schedule} is "*/N * * * *"`).not.toBeNull();
  return Number(match?.[1]) * 60;
};

describe('kubectl', () => {
  it.runIf(process.env['CI'] !== undefined)('is installed (CI renders the manifests)', () => {
    expect(kubectl, 'kubectl is required in CI: install it (it embeds kustomize)').toBeDefined();
  });
});

const t3Pods = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 't3' } } };

describe.skipIf(kubectl === undefined).each([
  // The base: T3's pods in afk's own namespace (a peer without a namespaceSelector).
  { overlay: 'k8s/base', armed: false, repos: [] as string[], t3Peer: t3Pods, doorbell: false },
  // The overlay names T3's namespace, so an operator edits one patch to move it.
  {
    overlay: 'k8s/overlays/example',
    armed: true,
    repos: ['acme/api'],
    t3Peer: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'afk' } },
      ...t3Pods,
    },
    doorbell: true,
  },
])('$overlay', ({ overlay, armed, repos, t3Peer, doorbell }) => {
  const objects = kubectl === undefined ? [] : render(overlay);
  const configMaps = objects.filter((o) => o['kind'] === 'ConfigMap');

  it('renders only the kinds afk needs, each valid against the Kubernetes schema', () => {
    expect(objects.map((o) => `${o['kind']}/${o['metadata']?.name}`).sort()).toEqual(
      [
        `ConfigMap/${configMaps[0]?.metadata?.name}`,
        'CronJob/afk-poll',
        'CronJob/afk-watch',
        'NetworkPolicy/afk',
        'ServiceAccount/afk',
      ].sort(),
    );
    for (const object of objects) {
      const Model = models[`${object['apiVersion']}/${object['kind']}`];
      expect(Model, `a schema for ${object['apiVersion']} ${object['kind']}`).toBeDefined();
      expect(() =>
        new (Model as NonNullable<typeof Model>)(object as never).validate(),
      ).not.toThrow();
    }
  });

  it('commits no Secret (the operator creates afk-secrets)', () => {
    expect(objects.filter((o) => o['kind'] === 'Secret')).toEqual([]);
  });

  it('generates one ConfigMap with a content-hash name', () => {
    expect(configMaps).toHaveLength(1);
    expect(configMaps[0]?.metadata?.name).toMatch(/^afk-config-[a-z0-9]{10}$/);
  });

  it(`ships afk.yaml ${armed ? 'armed for acme/api' : 'disarmed'}, accepted by afk's parser`, () => {
    const parsed = parseConfig(parse(configMaps[0]?.data?.['afk.yaml'] as string), {});
    expect(parsed).toMatchObject({ ok: true });
    if (!parsed.ok) return;
    expect(parsed.config.killSwitch).toBe(!armed);
    expect(parsed.config.repos).toEqual(repos);
  });

  it('points the config at the mounted secret files', () => {
    const parsed = parseConfig(parse(configMaps[0]?.data?.['afk.yaml'] as string), {});
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    expect(parsed.config.tracker.tokenFile).toBe(`${SECRET_MOUNT}/tracker-token`);
    expect(parsed.config.t3.tokenFile).toBe(`${SECRET_MOUNT}/t3-token`);
  });

  // A webhook file that is configured but missing fails every escalation's doorbell, so only
  // a config whose Secret has `slack-webhook` names it; the base leaves the doorbell unset.
  it(`${doorbell ? 'names the mounted webhook file' : 'configures no doorbell'}`, () => {
    const parsed = parseConfig(parse(configMaps[0]?.data?.['afk.yaml'] as string), {});
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    expect(parsed.config.notify.slackWebhookUrlFile).toBe(
      doorbell ? `${SECRET_MOUNT}/slack-webhook` : undefined,
    );
  });

  it('has a ServiceAccount afk that mounts no token', () => {
    expect(one(objects, 'ServiceAccount', 'afk')['automountServiceAccountToken']).toBe(false);
  });

  describe('NetworkPolicy afk', () => {
    const policy = () => one(objects, 'NetworkPolicy', 'afk')['spec'] as Obj;

    it('selects the afk pods', () => {
      expect(policy()['podSelector']).toEqual({
        matchLabels: { 'app.kubernetes.io/name': 'afk' },
      });
    });

    it('denies all ingress', () => {
      expect(policy()['policyTypes']).toContain('Ingress');
      expect(policy()['ingress'] ?? []).toEqual([]);
    });

    it('restricts egress', () => {
      expect(policy()['policyTypes']).toContain('Egress');
    });

    it('allows DNS to kube-dns on UDP and TCP 53', () => {
      expect(policy()['egress']).toContainEqual({
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      });
    });

    it('allows the T3 server on TCP 3773', () => {
      expect(policy()['egress']).toContainEqual({
        to: [t3Peer],
        ports: [{ protocol: 'TCP', port: 3773 }],
      });
    });

    it('allows HTTPS on TCP 443', () => {
      expect(policy()['egress']).toContainEqual({ ports: [{ protocol: 'TCP', port: 443 }] });
    });

    it('allows nothing else', () => {
      expect(policy()['egress']).toHaveLength(3);
    });
  });

  describe.each([
    { name: 'afk-poll', command: 'poll' },
    { name: 'afk-watch', command: 'watch' },
  ])('CronJob $name', ({ name, command }) => {
    const cronJob = () => one(objects, 'CronJob', name)['spec'] as Obj;
    const job = () => cronJob()['jobTemplate']['spec'] as Obj;
    const pod = () => job()['template']['spec'] as Obj;
    const container = () => {
      expect(pod()['containers']).toHaveLength(1);
      return pod()['containers'][0] as Obj;
    };
    const mount = (path: string) => {
      const found = (container()['volumeMounts'] as Obj[]).find((m) => m['mountPath'] === path);
      expect(found, `a volume mounted at ${path}`).toBeDefined();
      const volume = (pod()['volumes'] as Obj[]).find((v) => v['name'] === found?.['name']);
      expect(volume, `the volume ${found?.['name']}`).toBeDefined();
      return { mount: found as Obj, volume: volume as Obj };
    };

    it(`runs afk ${command}`, () => {
      expect([...(container()['command'] ?? []), ...(container()['args'] ?? [])]).toEqual([
        'afk',
        command,
      ]);
    });

    it(`runs ${IMAGE} at the tag its kustomization pins`, () => {
      const kustomization = parse(
        readFileSync(join(root, overlay, 'kustomization.yaml'), 'utf8'),
      ) as Obj;
      const pin = (kustomization['images'] as Obj[] | undefined)?.find((i) => i['name'] === IMAGE);
      expect(pin?.['newTag'], `images: ${IMAGE} newTag in ${overlay}`).toMatch(/^\d+\.\d+\.\d+$/);
      expect(container()['image']).toBe(`${IMAGE}:${pin?.['newTag']}`);
    });

    it('never overlaps a running tick (concurrencyPolicy: Forbid)', () => {
      expect(cronJob()['concurrencyPolicy']).toBe('Forbid');
    });

    it('drops a missed tick instead of catching up (startingDeadlineSeconds < period)', () => {
      const deadline = cronJob()['startingDeadlineSeconds'] as number;
      expect(deadline).toBeGreaterThan(0);
      expect(deadline).toBeLessThan(periodSeconds(cronJob()['schedule'] as string));
    });

    it('kills a tick before the next one is due (activeDeadlineSeconds < period)', () => {
      const deadline = job()['activeDeadlineSeconds'] as number;
      expect(deadline).toBeGreaterThan(0);
      expect(deadline).toBeLessThan(periodSeconds(cronJob()['schedule'] as string));
    });

    it('ends a tick by its own budget before the deadline (budget + stop < activeDeadlineSeconds)', () => {
      const parsed = parseConfig(parse(configMaps[0]?.data?.['afk.yaml'] as string), {});
      if (!parsed.ok) throw new Error('the shipped config does not parse');
      const deadline = job()['activeDeadlineSeconds'] as number;
      expect(worstTickSeconds(parsed.config.tick.budgetSeconds)).toBeLessThan(deadline);
    });

    it('gives a SIGTERM time to finish the step, release, report and exit (terminationGracePeriodSeconds)', () => {
      expect(pod()['terminationGracePeriodSeconds']).toBeGreaterThan(STOP_SECONDS);
    });

    it('does not retry inside a Job (backoffLimit: 0; the next tick is the retry)', () => {
      expect(job()['backoffLimit']).toBe(0);
    });

    it('cleans up finished Jobs (ttlSecondsAfterFinished)', () => {
      expect(job()['ttlSecondsAfterFinished']).toBeGreaterThan(0);
    });

    it('keeps a bounded history of successful Jobs', () => {
      expect(cronJob()['successfulJobsHistoryLimit']).toBeGreaterThan(0);
    });

    it('keeps a bounded history of failed Jobs', () => {
      expect(cronJob()['failedJobsHistoryLimit']).toBeGreaterThan(0);
    });

    it('never restarts the container (restartPolicy: Never)', () => {
      expect(pod()['restartPolicy']).toBe('Never');
    });

    it('uses the afk ServiceAccount', () => {
      expect(pod()['serviceAccountName']).toBe('afk');
    });

    it('mounts no service-account token', () => {
      expect(pod()['automountServiceAccountToken']).toBe(false);
    });

    it.each([
      ['requests', 'cpu'],
      ['requests', 'memory'],
      ['limits', 'cpu'],
      ['limits', 'memory'],
    ])('sets resources.%s.%s', (kind, resource) => {
      expect(container()['resources']?.[kind]?.[resource]).toBeTruthy();
    });

    it('runs as non-root', () => {
      expect(container()['securityContext']?.runAsNonRoot).toBe(true);
      expect(pod()['securityContext']?.runAsNonRoot).toBe(true);
    });

    it('runs as a numeric non-zero user', () => {
      expect(container()['securityContext']?.runAsUser).toBeGreaterThan(0);
      expect(pod()['securityContext']?.runAsUser).toBeGreaterThan(0);
    });

    it('has a read-only root filesystem', () => {
      expect(container()['securityContext']?.readOnlyRootFilesystem).toBe(true);
    });

    it('forbids privilege escalation', () => {
      expect(container()['securityContext']?.allowPrivilegeEscalation).toBe(false);
    });

    it('drops all capabilities', () => {
      expect(container()['securityContext']?.capabilities).toEqual({ drop: ['ALL'] });
    });

    it('uses the RuntimeDefault seccomp profile', () => {
      expect(container()['securityContext']?.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      expect(pod()['securityContext']?.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    });

    it('reads its config from the generated ConfigMap via AFK_CONFIG', () => {
      expect(container()['env']).toContainEqual({ name: 'AFK_CONFIG', value: '/etc/afk/afk.yaml' });
      const { mount: m, volume } = mount('/etc/afk');
      expect(m['readOnly']).toBe(true);
      expect(volume['configMap']?.name).toBe(configMaps[0]?.metadata?.name);
    });

    it(`mounts the afk-secrets Secret read-only at ${SECRET_MOUNT}`, () => {
      const { mount: m, volume } = mount(SECRET_MOUNT);
      expect(m['readOnly']).toBe(true);
      const sources = (volume['projected']?.sources ?? []) as Obj[];
      const items = sources.flatMap((s) =>
        ((s['secret']?.items ?? []) as Obj[]).map((item) => ({
          secret: s['secret']?.name,
          key: item['key'],
          path: item['path'],
          optional: s['secret']?.optional === true,
        })),
      );
      expect(items.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
        { secret: 'afk-secrets', key: 'slack-webhook', path: 'slack-webhook', optional: true },
        { secret: 'afk-secrets', key: 't3-token', path: 't3-token', optional: false },
        { secret: 'afk-secrets', key: 'tracker-token', path: 'tracker-token', optional: false },
      ]);
    });

    it('makes the secret files readable by its group only (0440, fsGroup)', () => {
      const { volume } = mount(SECRET_MOUNT);
      expect(volume['projected']?.defaultMode).toBe(0o440);
      expect(pod()['securityContext']?.fsGroup).toBe(container()['securityContext']?.runAsGroup);
    });

    it('gives Node a small writable /tmp', () => {
      const { volume } = mount('/tmp');
      expect(volume['emptyDir']?.sizeLimit).toBeTruthy();
    });

    it('carries the label the NetworkPolicy selects', () => {
      expect(job()['template']['metadata']?.labels?.['app.kubernetes.io/name']).toBe('afk');
    });
  });
});
describe.skipIf(kubectl === undefined)(
  'an overlay moving T3 (the example overlay’s patch, edited)',
  () => {
    // A copy of the example overlay whose patch puts T3 elsewhere, as an operator would edit it.
    const objects = (() => {
      if (kubectl === undefined) return [];
      const dir = mkdtempSync(join(tmpdir(), 'afk-overlay-'));
      const example = join(root, 'k8s/overlays/example');
      for (const file of readdirSync(example)) {
        writeFileSync(join(dir, file), readFileSync(join(example, file), 'utf8'));
      }
      const kustomization = join(dir, 'kustomization.yaml');
      writeFileSync(
        kustomization,
        // kustomize takes a base by a relative path only.
        readFileSync(kustomization, 'utf8').replace(
          '../../base',
          relative(dir, join(root, 'k8s/base')),
        ),
      );
      const patch = join(dir, 'networkpolicy-t3.yaml');
      const original = readFileSync(patch, 'utf8');
      const edited = original
        .replace('kubernetes.io/metadata.name: afk', 'kubernetes.io/metadata.name: agents')
        .replace(/(\n {12}app\.kubernetes\.io\/name: )t3\n/, '$1t3-code\n')
        .replace('port: 3773', 'port: 8080');
      expect(edited.match(/agents|t3-code|8080/g)).toHaveLength(3);
      writeFileSync(patch, edited);
      return render(dir);
    })();
    const egress = () => one(objects, 'NetworkPolicy', 'afk')['spec']['egress'] as Obj[];

    it('allows T3 in the namespace, with the label and on the port the patch names', () => {
      expect(egress()).toContainEqual({
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'agents' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 't3-code' } },
          },
        ],
        ports: [{ protocol: 'TCP', port: 8080 }],
      });
    });

    it('keeps the base’s other rules, and adds none', () => {
      expect(egress()).toHaveLength(3);
      expect(egress()[0]?.['ports']).toEqual([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ]);
      expect(egress()[2]).toEqual({ ports: [{ protocol: 'TCP', port: 443 }] });
    });
  },
);
/* eslint-enable @typescript-eslint/no-explicit-any */
