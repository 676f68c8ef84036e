// TLS bootstrapping: bootstrap tokens, the node-bootstrap RBAC, cluster-info and its JWS, join-command. The JWS
// is checked with openssl's HMAC, not with our signing code; names and subjects against kubeadm (reference §6).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, Duration, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { BootstrapToken, BootstrapTokenProps, ClusterCA, SecretOutput, ClusterInfo, ControlPlanePki, NodeBootstrapRbac, PkiState, usePkiState } from '../../constructs';
import { generateToken, parseToken, tokenAuthFileLine, tokenSecretData, TokenUsage } from '../../src/bootstrap/token';
import { exportNode, kubeletBootstrapFlags, renderNode } from '../../src/kubeadm/node-bundle';
import { exportSecrets } from '../../src/secrets/secret-plan';
import { REFERENCE_CLUSTER } from '../../examples/main';
import { expectValidManifests } from '../support/kubernetes-schema';
import { run, runOk, tempDir } from '../support/programs';

const CLI = path.resolve(__dirname, '../../lib/src/cli.js'); // built by `npm test` (tsc) before jest runs
const T0 = new Date('2026-03-01T12:00:00Z');
const HOUR = 3600_000;

type Manifest = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; [key: string]: unknown };

/** A chart bound to `state` with the clock the state was made with. */
function chartOn(state: PkiState) {
  const app = Testing.app();
  usePkiState(app, state);
  return { app, chart: new Chart(app, 'test') };
}

const synth = (chart: Chart) => Testing.synth(chart) as Manifest[];

/** base64url of openssl's HMAC-SHA256 over `input` with `key`, from its hex output. */
function opensslHmac(input: string, key: string): string {
  const hex = runOk('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `key:${key}`, '-hex'], { input }).trim().split('= ')[1];
  return Buffer.from(hex, 'hex').toString('base64url');
}

describe('bootstrap tokens', () => {
  test('generated tokens match [a-z0-9]{6}.[a-z0-9]{16}, and use the whole alphabet', () => {
    const tokens = Array.from({ length: 2000 }, () => generateToken((n) => crypto.randomBytes(n)));
    for (const token of tokens) expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(new Set(tokens.join('').replace('.', '').split('')).size).toBe(37); // 36 characters and the dot
  });

  test('the Secret data is kubeadm\'s: token-id, token-secret, expiration in RFC 3339 UTC, usages, groups, description', () => {
    const data = tokenSecretData({
      token: parseToken('abcdef.0123456789abcdef'),
      usages: ['signing', 'authentication'],
      extraGroups: ['system:bootstrappers:kubeadm:default-node-token', 'system:bootstrappers:workers'],
      expiration: new Date('2026-03-02T12:00:00.000Z'),
      description: 'workers',
    });
    expect(data).toEqual({
      'token-id': 'abcdef',
      'token-secret': '0123456789abcdef',
      'description': 'workers',
      'expiration': '2026-03-02T12:00:00Z',
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
      'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token,system:bootstrappers:workers',
    });
  });

  test('the legacy token file line is token,user,uid,"group1,group2"; fields that need quoting are refused', () => {
    expect(tokenAuthFileLine('abcdef.0123456789abcdef', 'kubelet-bootstrap', '10001', ['system:bootstrappers', 'system:bootstrappers:x'])).toBe(
      'abcdef.0123456789abcdef,kubelet-bootstrap,10001,"system:bootstrappers,system:bootstrappers:x"',
    );
    expect(() => tokenAuthFileLine('abcdef.0123456789abcdef', 'a,b', '1', [])).toThrow('user: "a,b" cannot be a field of the token file');
  });

  test('BootstrapToken: made once, kept across synths; the expiration counts from when it was made', () => {
    let now = T0;
    const state = PkiState.inMemory({ clock: () => now });
    const first = new BootstrapToken(chartOn(state).chart, 'join', { secretOutput: SecretOutput.plaintext() });
    state.commit();
    now = new Date(T0.getTime() + 5 * HOUR);
    const { chart } = chartOn(state);
    const second = new BootstrapToken(chart, 'join', { secretOutput: SecretOutput.plaintext() });
    expect(state.pendingChanges()).toEqual([]);
    expect(second.token).toBe(first.token);
    expect(second.expiration).toEqual(new Date(T0.getTime() + 720 * HOUR));
    const secret = synth(chart).find((m) => m.kind === 'Secret')!;
    expectValidManifests([secret]);
    expect(secret.metadata).toEqual({ name: `bootstrap-token-${first.tokenId}`, namespace: 'kube-system', annotations: { 'pki.cdk8s.io/plaintext-secret': 'true' } });
    expect(secret.type).toBe('bootstrap.kubernetes.io/token');
    const decoded = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(`${decoded['token-id']}.${decoded['token-secret']}`).toBe(first.token);
    expect(decoded.expiration).toBe('2026-03-31T12:00:00Z');
    expect(decoded['auth-extra-groups']).toBe('system:bootstrappers:kubeadm:default-node-token');
  });

  test('by default the token is nowhere in the output; export-secrets writes its Secret from the state', () => {
    const state = PkiState.inMemory({ clock: () => T0 });
    const { chart } = chartOn(state);
    const token = new BootstrapToken(chart, 'join');
    new ClusterInfo(chart, 'info', { ca: new ClusterCA(chart, 'ca'), server: 'https://api.example.com:6443', tokens: [token] });
    const yaml = JSON.stringify(synth(chart));
    expect(yaml).toContain(`jws-kubeconfig-${token.tokenId}`);
    expect(yaml).not.toContain(parseToken(token.token).secret);
    expect(synth(chart).map((m) => m.kind)).not.toContain('Secret');
    state.commit();
    const tmp = tempDir();
    try {
      const out = path.join(tmp.dir, 'secrets');
      expect(exportSecrets(state, out)).toEqual([`kube-system.bootstrap-token-${token.tokenId}.yaml`]);
      const file = path.join(out, `kube-system.bootstrap-token-${token.tokenId}.yaml`);
      expect([fs.statSync(out).mode & 0o777, fs.statSync(file).mode & 0o777]).toEqual([0o700, 0o600]);
      const secret = parse(fs.readFileSync(file, 'utf8'));
      expectValidManifests([secret]);
      expect(secret.type).toBe('bootstrap.kubernetes.io/token');
      expect(Buffer.from(secret.data['token-secret'], 'base64').toString()).toBe(parseToken(token.token).secret);
      expect(Buffer.from(secret.data.expiration, 'base64').toString()).toBe('2026-03-31T12:00:00Z');
      // After a rotation only the new token's Secret is exported: the old one must not come back.
      state.requestRotation('test/join', { newKey: false });
      const rotated = new BootstrapToken(chartOn(state).chart, 'join');
      state.commit();
      expect(exportSecrets(state, path.join(tmp.dir, 'after-rotation'))).toEqual([`kube-system.bootstrap-token-${rotated.tokenId}.yaml`]);
    } finally {
      tmp.cleanup();
    }
  });

  test('a generated token is renewed inside its window: a new id and secret, the next generation, the expiration recorded', () => {
    let now = T0;
    const state = PkiState.inMemory({ clock: () => now, seed: 'renewal' });
    const make = () => new BootstrapToken(chartOn(state).chart, 'join', { secretOutput: SecretOutput.plaintext() });
    const first = make();
    state.commit();
    const record = () => JSON.parse(state.store.read('test/join/secret.json')!.toString());
    expect(record()).toMatchObject({ generation: 1, createdAt: '2026-03-01T12:00:00.000Z', expiresAt: '2026-03-31T12:00:00.000Z' });
    expect(state.secretInventory()).toEqual([{ slot: 'test/join', generation: 1, createdAt: T0, expiresAt: new Date('2026-03-31T12:00:00Z'), rotationRequested: false }]);
    // 30 days, renewed in the last third: kept until day 20, the edge itself renews.
    now = new Date(T0.getTime() + 480 * HOUR - 1000);
    expect(make().token).toBe(first.token);
    expect(state.pendingChanges()).toEqual([]);
    now = new Date(T0.getTime() + 480 * HOUR);
    const second = make();
    expect(state.pendingChanges()).toEqual([{ slot: 'test/join', reasons: ['renewal due (expires 2026-03-31T12:00:00.000Z)'] }]);
    expect(second.tokenId).not.toBe(first.tokenId);
    expect(second.token.split('.')[1]).not.toBe(first.token.split('.')[1]);
    expect(second.expiration).toEqual(new Date('2026-04-20T12:00:00Z'));
    state.commit();
    expect(record()).toMatchObject({ generation: 2, createdAt: '2026-03-21T12:00:00.000Z', expiresAt: '2026-04-20T12:00:00.000Z' });
    expect(make().token).toBe(second.token);
    expect(state.pendingChanges()).toEqual([]);
  });

  test('the state reports what the call did: issue, renew (with the expiration), rotate', () => {
    let now = T0;
    const state = PkiState.inMemory({ clock: () => now });
    const request = { generate: generateToken, expiry: { ttlSeconds: 3600, renewBeforeSeconds: 1200 } };
    expect(state.ensureSecret('app/token', request).change).toEqual({ action: 'issue', reasons: ['new secret'] });
    state.commit();
    expect(state.ensureSecret('app/token', request).change).toBeUndefined();
    // Each synth ends with a commit, which also ends the instant its decisions were made at.
    state.commit();
    now = new Date(T0.getTime() + 2400_000);
    expect(state.ensureSecret('app/token', request).change).toEqual({ action: 'renew', reasons: ['renewal due (expires 2026-03-01T13:00:00.000Z)'] });
    state.commit();
    state.requestRotation('app/token', { newKey: false });
    expect(state.ensureSecret('app/token', request).change).toEqual({ action: 'rotate', reasons: ['rotation requested'] });
  });

  test('a token past its whole ttl (a synth after a long pause) is renewed, not refused; ttl 24h is kubeadm\'s value', () => {
    let now = T0;
    const state = PkiState.inMemory({ clock: () => now });
    const first = new BootstrapToken(chartOn(state).chart, 'join', { ttl: Duration.hours(24) });
    expect(first.expiration).toEqual(new Date(T0.getTime() + 24 * HOUR));
    state.commit();
    // Renewed once 16h passed (a third of 24h remains)...
    now = new Date(T0.getTime() + 15 * HOUR);
    expect(new BootstrapToken(chartOn(state).chart, 'join', { ttl: Duration.hours(24) }).token).toBe(first.token);
    now = new Date(T0.getTime() + 16 * HOUR);
    expect(new BootstrapToken(chartOn(state).chart, 'join', { ttl: Duration.hours(24) }).token).not.toBe(first.token);
    // ...and long after it expired, too.
    const later = PkiState.inMemory({ clock: () => now });
    now = T0;
    const old = new BootstrapToken(chartOn(later).chart, 'join', { ttl: Duration.hours(1), renewBefore: Duration.minutes(10) });
    later.commit();
    now = new Date(T0.getTime() + 365 * 24 * HOUR);
    const renewed = new BootstrapToken(chartOn(later).chart, 'join', { ttl: Duration.hours(1), renewBefore: Duration.minutes(10) });
    expect(renewed.token).not.toBe(old.token);
    expect(renewed.expiration).toEqual(new Date(now.getTime() + HOUR));
  });

  test('changing the ttl keeps the token and records its new expiration; frozen, only renewals say so first', () => {
    let now = T0;
    const store = PkiState.inMemory({ clock: () => now }).store;
    const state = new PkiState({ store, clock: () => now });
    const first = new BootstrapToken(chartOn(state).chart, 'join');
    state.commit();
    const longer = new BootstrapToken(chartOn(state).chart, 'join', { ttl: Duration.days(60) });
    expect(longer.token).toBe(first.token);
    expect(state.pendingChanges()).toEqual([
      { slot: 'test/join', reasons: ['expiration 2026-03-31T12:00:00.000Z → 2026-04-30T12:00:00.000Z'] },
      { slot: 'secrets/test/join/secret', reasons: ['plan changed'] }, // the Secret's expiration
    ]);
    state.commit();

    now = new Date(T0.getTime() + 50 * 24 * HOUR);
    const frozen = new PkiState({ store, clock: () => now, frozen: true });
    new BootstrapToken(chartOn(frozen).chart, 'join', { ttl: Duration.days(60) });
    expect(() => frozen.commit()).toThrow(
      new RegExp(
        '^the PKI state \\(in-memory state\\) is frozen, and renewals came due: each certificate and token change below is a renewal inside its window \\(plans follow\\)\n' +
          '  - test/join: renewal due \\(expires 2026-04-30T12:00:00.000Z\\)\n' +
          '  - secrets/test/join/secret: plan changed\n' +
          'Run `cdk8s synth` without CDK8S_PKI_FROZEN \\(it renews what is due\\), commit the state with dist/, and re-run CI.$',
      ),
    );
    // Anything else than a renewal (here a new token) is not called one.
    const changed = new PkiState({ store, clock: () => now, frozen: true });
    new BootstrapToken(chartOn(changed).chart, 'other');
    expect(() => changed.commit()).toThrow(/^the PKI state \(in-memory state\) is frozen, but this synth needs to change it:\n {2}- test\/other: new secret\n(.*\n)*Run `cdk8s synth` without CDK8S_PKI_FROZEN \(it makes these changes\), commit the state with dist\/, and re-run CI\.$/);
  });

  test('a token with a fixed expires or a given token is never renewed: past its date, synth stops and says the fix', () => {
    let now = T0;
    const state = PkiState.inMemory({ clock: () => now });
    const fixed = new BootstrapToken(chartOn(state).chart, 'fixed', { expires: '2026-03-02T00:00:00Z' });
    const given = new BootstrapToken(chartOn(state).chart, 'given', { token: 'abcdef.0123456789abcdef', ttl: Duration.hours(1) });
    state.commit();
    now = new Date('2026-03-01T23:00:00Z');
    expect(new BootstrapToken(chartOn(state).chart, 'fixed', { expires: '2026-03-02T00:00:00Z' }).token).toBe(fixed.token);
    expect(() => new BootstrapToken(chartOn(state).chart, 'given', { token: given.token, ttl: Duration.hours(1) })).toThrow(
      'test/given: token: the given token expired at 2026-03-01T13:00:00Z, and a given token is never renewed; give a new `token`, or remove `token` so that synth makes and renews one',
    );
    now = new Date('2026-03-02T00:00:00Z');
    expect(() => new BootstrapToken(chartOn(state).chart, 'fixed', { expires: '2026-03-02T00:00:00Z' })).toThrow(
      'test/fixed: expires: the token expired at 2026-03-02T00:00:00Z, and a token with a fixed expiration is never renewed; give a later `expires` (with `cdk8s-pki rotate test/fixed` for a new token too), or remove `expires` so that synth renews the token every ttl',
    );
    expect(state.pendingChanges()).toEqual([]);
  });

  test('a given token is used as is; ttl 0 means no expiration', () => {
    const state = PkiState.inMemory({ clock: () => T0 });
    const token = new BootstrapToken(chartOn(state).chart, 'join', { token: 'abcdef.0123456789abcdef', ttl: Duration.seconds(0), secretOutput: SecretOutput.plaintext() });
    expect(token.token).toBe('abcdef.0123456789abcdef');
    expect(token.expiration).toBeUndefined();
    expect(token.tokenAuthFileLine()).toBe('abcdef.0123456789abcdef,system:bootstrap:abcdef,abcdef,"system:bootstrappers,system:bootstrappers:kubeadm:default-node-token"');
  });

  test.each<[BootstrapTokenProps, string]>([
    [{ token: 'ABCDEF.0123456789abcdef' }, 'test/join: token: is not a bootstrap token: it must match [a-z0-9]{6}.[a-z0-9]{16}'],
    [{ groups: ['system:masters'] }, 'test/join: groups[0]: "system:masters" is not a bootstrap group'],
    [{ usages: ['authentication', 'impersonation' as TokenUsage] }, 'test/join: usages[1]: "impersonation" is not a bootstrap token usage'],
    [{ usages: [] }, 'test/join: usages: a token needs at least one usage'],
    [{ ttl: Duration.hours(1), expires: '2027-01-01T00:00:00Z' }, 'test/join: expires: give either ttl or expires, not both'],
    [{ expires: 'soon' }, 'test/join: expires: "soon" is not an RFC 3339 time'],
    [{ expires: '2026-03-01T11:00:00Z' }, 'test/join: expires: the token expired at 2026-03-01T11:00:00Z'],
    [{ renewBefore: Duration.days(30) }, 'test/join: renewBefore: must be shorter than the ttl (2592000 s is not under 2592000 s), or every synth makes a new token'],
    [{ ttl: Duration.hours(1), renewBefore: Duration.hours(2) }, 'test/join: renewBefore: must be shorter than the ttl (7200 s is not under 3600 s), or every synth makes a new token'],
    [{ expires: '2027-01-01T00:00:00Z', renewBefore: Duration.days(1) }, 'test/join: renewBefore: a token with a fixed expires is never renewed; remove renewBefore, or give a ttl instead of expires'],
    [{ ttl: Duration.seconds(0), renewBefore: Duration.days(1) }, 'test/join: renewBefore: a token with a ttl of 0 never expires, so it is never renewed; remove renewBefore, or give a ttl'],
    [{ renewBefore: Duration.seconds(5) }, 'test/join: renewBefore: must be a whole number of seconds, at least 60 (got 5 s)'],
  ])('invalid input %j is refused before anything is written', (props, message) => {
    const state = PkiState.inMemory({ clock: () => T0 });
    expect(() => new BootstrapToken(chartOn(state).chart, 'join', props)).toThrow(message);
    expect(state.pendingChanges()).toEqual([]);
  });
});

describe('cluster-info and its JWS', () => {
  const state = PkiState.inMemory({ clock: () => T0 });
  const { chart } = chartOn(state);
  const ca = new ClusterCA(chart, 'ca');
  const signing = new BootstrapToken(chart, 'signing');
  const authOnly = new BootstrapToken(chart, 'auth-only', { usages: ['authentication'] });
  const info = new ClusterInfo(chart, 'info', { ca, server: 'https://api.k8s.example.internal:6443', tokens: [signing, authOnly] });
  const configMap = synth(chart).find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'cluster-info')!;
  const data = configMap.data as Record<string, string>;

  test('ConfigMap kube-public/cluster-info holds the discovery kubeconfig as clientcmd writes it, and a JWS per signing token', () => {
    expectValidManifests([configMap]);
    expect(configMap.metadata.namespace).toBe('kube-public');
    expect(Object.keys(data).sort()).toEqual([`jws-kubeconfig-${signing.tokenId}`, 'kubeconfig']);
    expect(data.kubeconfig).toBe(
      [
        'apiVersion: v1',
        'clusters:',
        '- cluster:',
        `    certificate-authority-data: ${Buffer.from(ca.trustBundlePem).toString('base64')}`,
        '    server: https://api.k8s.example.internal:6443',
        '  name: ""',
        'contexts: null',
        'current-context: ""',
        'kind: Config',
        'preferences: {}',
        'users: null',
        '',
      ].join('\n'),
    );
    expect(info.kubeconfig).toBe(data.kubeconfig);
  });

  test('the JWS is HS256 over the stored kubeconfig keyed with the token secret (checked by openssl), and fails with another secret', () => {
    const [header, payload, signature] = data[`jws-kubeconfig-${signing.tokenId}`].split('.');
    expect(payload).toBe(''); // detached
    expect(Buffer.from(header, 'base64url').toString()).toBe(`{"alg":"HS256","kid":"${signing.tokenId}"}`);
    const signingInput = `${header}.${Buffer.from(data.kubeconfig).toString('base64url')}`;
    expect(signature).toBe(opensslHmac(signingInput, parseToken(signing.token).secret));
    expect(signature).not.toBe(opensslHmac(signingInput, parseToken(authOnly.token).secret));
    // The whole token is not the key: kubeadm's discovery keys with the secret part only.
    expect(signature).not.toBe(opensslHmac(signingInput, signing.token));
  });

  test('a server that is not https://host[:port] is refused', () => {
    expect(() => new ClusterInfo(chart, 'bad', { ca, server: 'api.example.com:6443' })).toThrow('test/bad: server: "api.example.com:6443" is not an https://host[:port] URL');
  });
});

describe('node-bootstrap RBAC', () => {
  const objects = (props: ConstructorParameters<typeof NodeBootstrapRbac>[2] = {}) => {
    const { chart } = chartOn(PkiState.inMemory());
    new NodeBootstrapRbac(chart, 'rbac', props);
    const manifests = synth(chart);
    expectValidManifests(manifests);
    return manifests;
  };
  const summary = (manifests: Manifest[]) =>
    manifests
      .filter((m) => m.kind.endsWith('Binding'))
      .map((m) => ({
        kind: m.kind,
        name: m.metadata.name,
        namespace: m.metadata.namespace,
        role: `${(m.roleRef as { kind: string }).kind}/${(m.roleRef as { name: string }).name}`,
        subjects: (m.subjects as { kind: string; name: string }[]).map((s) => `${s.kind}/${s.name}`),
      }));

  test('kubeadm\'s bindings, names and subjects (reference §6)', () => {
    const group = 'Group/system:bootstrappers:kubeadm:default-node-token';
    expect(summary(objects())).toEqual([
      { kind: 'ClusterRoleBinding', name: 'kubeadm:kubelet-bootstrap', namespace: undefined, role: 'ClusterRole/system:node-bootstrapper', subjects: [group] },
      { kind: 'ClusterRoleBinding', name: 'kubeadm:get-nodes', namespace: undefined, role: 'ClusterRole/kubeadm:get-nodes', subjects: [group] },
      { kind: 'RoleBinding', name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: 'kube-public', role: 'Role/kubeadm:bootstrap-signer-clusterinfo', subjects: ['User/system:anonymous'] },
      { kind: 'ClusterRoleBinding', name: 'kubeadm:node-autoapprove-bootstrap', namespace: undefined, role: 'ClusterRole/system:certificates.k8s.io:certificatesigningrequests:nodeclient', subjects: [group] },
      {
        kind: 'ClusterRoleBinding', name: 'kubeadm:node-autoapprove-certificate-rotation', namespace: undefined,
        role: 'ClusterRole/system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', subjects: ['Group/system:nodes'],
      },
    ]);
    const roles = objects().filter((m) => m.kind === 'ClusterRole' || m.kind === 'Role');
    expect(roles.map((r) => [r.kind, r.metadata.name, r.rules])).toEqual([
      ['ClusterRole', 'kubeadm:get-nodes', [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]],
      ['Role', 'kubeadm:bootstrap-signer-clusterinfo', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'], verbs: ['get'] }]],
    ]);
  });

  test('a prefix and groups of its own; no auto-approval when turned off; a kubelet-serving approver when named', () => {
    const names = summary(objects({ prefix: 'team-a:', groups: ['system:bootstrappers:team-a'], autoApprove: false, kubeletServingApprover: { kind: 'User', name: 'approver' } }));
    expect(names.map((b) => [b.name, b.subjects])).toEqual([
      ['team-a:kubelet-bootstrap', ['Group/system:bootstrappers:team-a']],
      ['team-a:get-nodes', ['Group/system:bootstrappers:team-a']],
      ['team-a:bootstrap-signer-clusterinfo', ['User/system:anonymous']],
      ['team-a:kubelet-serving-approver', ['User/approver']],
    ]);
    const approver = objects({ kubeletServingApprover: { kind: 'User', name: 'approver' } }).find((m) => m.metadata.name === 'kubeadm:kubelet-serving-approver' && m.kind === 'ClusterRole')!;
    expect(approver.rules).toContainEqual({ apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/kubelet-serving'], verbs: ['approve'] });
  });

  test("users of the static token file join the kubelet-bootstrap binding by name, beside the groups (the older guides' --user=kubelet-bootstrap)", () => {
    const bindings = summary(objects({ users: ['kubelet-bootstrap'] }));
    expect(bindings.find((b) => b.name === 'kubeadm:kubelet-bootstrap')).toEqual({
      kind: 'ClusterRoleBinding', name: 'kubeadm:kubelet-bootstrap', namespace: undefined, role: 'ClusterRole/system:node-bootstrapper',
      subjects: ['Group/system:bootstrappers:kubeadm:default-node-token', 'User/kubelet-bootstrap'],
    });
    // No other binding names the user: what else it may do comes from its groups in the file.
    expect(bindings.filter((b) => b.subjects.includes('User/kubelet-bootstrap')).map((b) => b.name)).toEqual(['kubeadm:kubelet-bootstrap']);
  });

  test('a group outside system:bootstrappers: is refused', () => {
    expect(() => objects({ groups: ['system:nodes'] })).toThrow('test/rbac: groups[0]: "system:nodes" is not a bootstrap group');
  });
});

describe('ControlPlanePki with TLS bootstrapping', () => {
  test('legacy token file and kubelet serving certificates: pki/token.csv (0600) with --token-auth-file, serverTLSBootstrap in the kubelet config', () => {
    const state = PkiState.inMemory({ clock: () => T0 });
    const { chart } = chartOn(state);
    const pki = new ControlPlanePki(chart, 'pki', { cluster: REFERENCE_CLUSTER, tlsBootstrap: { tokenAuthFile: true, serverTlsBootstrap: true } });
    state.commit();
    const files = renderNode(state, 'cp-1').files;
    const tokenFile = files.find((f) => f.path === 'pki/token.csv')!;
    expect(tokenFile.mode).toBe(0o600);
    expect(tokenFile.data.toString()).toBe(`${pki.joinToken!.tokenAuthFileLine()}\n`);
    const apiserver = parse(files.find((f) => f.path === 'manifests/kube-apiserver.yaml')!.data.toString());
    expect(apiserver.spec.containers[0].command).toContain('--token-auth-file=/etc/kubernetes/pki/token.csv');
    expect(apiserver.spec.containers[0].command).toContain('--enable-bootstrap-token-auth=true');
    const controllerManager = parse(files.find((f) => f.path === 'manifests/kube-controller-manager.yaml')!.data.toString());
    expect(controllerManager.spec.containers[0].command).toContain('--controllers=*,bootstrapsigner,tokencleaner');
    expect(parse(files.find((f) => f.path === 'kubelet/config.yaml')!.data.toString()).serverTLSBootstrap).toBe(true);
    expect(renderNode(state, 'worker-1').files.map((f) => f.path)).not.toContain('pki/token.csv');
  });

  test('the token file names the user and uid given (the older guides\' kubelet-bootstrap,10001), and that user is bound to system:node-bootstrapper', () => {
    const state = PkiState.inMemory({ clock: () => T0 });
    const { chart } = chartOn(state);
    const pki = new ControlPlanePki(chart, 'pki', { cluster: REFERENCE_CLUSTER, tlsBootstrap: { tokenAuthFile: { user: 'kubelet-bootstrap', uid: '10001' } } });
    const manifests = synth(chart);
    const tokenFile = renderNode(state, 'cp-1').files.find((f) => f.path === 'pki/token.csv')!;
    expect(tokenFile.data.toString()).toBe(`${pki.joinToken!.token},kubelet-bootstrap,10001,"system:bootstrappers,system:bootstrappers:kubeadm:default-node-token"\n`);
    const binding = manifests.find((m) => m.kind === 'ClusterRoleBinding' && m.metadata.name === 'kubeadm:kubelet-bootstrap')!;
    expect(binding.subjects).toContainEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kubelet-bootstrap' });
    // With `true`, the bootstrap token's own user, which its group's bindings already cover: no user is bound.
    const other = chartOn(PkiState.inMemory({ clock: () => T0 })).chart;
    new ControlPlanePki(other, 'pki', { cluster: REFERENCE_CLUSTER, tlsBootstrap: { tokenAuthFile: true } });
    const subjects = synth(other).filter((m) => m.kind.endsWith('Binding')).flatMap((m) => m.subjects as { kind: string; name: string }[]);
    expect(subjects.filter((s) => s.kind === 'User').map((s) => s.name)).toEqual(['system:anonymous']);
  });

  test.each<[unknown, string]>([
    [{ user: 'kubelet,bootstrap' }, 'test/pki: tlsBootstrap.tokenAuthFile.user: "kubelet,bootstrap" cannot be a field of the token file'],
    [{ uid: '' }, 'test/pki: tlsBootstrap.tokenAuthFile.uid: "" cannot be a field of the token file'],
    [{ usr: 'kubelet-bootstrap' }, 'test/pki: tlsBootstrap.tokenAuthFile.usr'],
    ['yes', 'test/pki: tlsBootstrap.tokenAuthFile: must be true, false or an object'],
  ])('a token file entry %j is refused, naming the field', (tokenAuthFile, message) => {
    const state = PkiState.inMemory({ clock: () => T0 });
    expect(() => new ControlPlanePki(chartOn(state).chart, 'pki', { cluster: REFERENCE_CLUSTER, tlsBootstrap: { tokenAuthFile: tokenAuthFile as boolean } })).toThrow(message);
  });

  test('cdk8s-pki join-command prints kubeadm\'s join line from a state directory; a cluster without a token says so', () => {
    const tmp = tempDir();
    try {
      const stateDir = path.join(tmp.dir, '.pki');
      const app = new App({ outdir: path.join(tmp.dir, 'dist') });
      const state = usePkiState(app, PkiState.inDirectory(stateDir));
      const pki = new ControlPlanePki(new Chart(app, 'example'), 'pki', { cluster: REFERENCE_CLUSTER, tlsBootstrap: {} });
      app.synth();
      const caPublicKey = new crypto.X509Certificate(pki.certificateAuthorities.ca.certificatePem).publicKey.export({ type: 'spki', format: 'der' });
      const hash = `sha256:${crypto.createHash('sha256').update(caPublicKey).digest('hex')}`;
      expect(runOk(process.execPath, [CLI, '--state', stateDir, 'join-command', 'worker-1'])).toBe(
        `kubeadm join api.k8s.example.internal:6443 --token ${pki.joinToken!.token} --discovery-token-ca-cert-hash ${hash}\n`,
      );
      expect(runOk(process.execPath, [CLI, '--state', stateDir, 'join-command', 'cp-2'])).toMatch(/ --control-plane\n$/);
      expect(state.pendingChanges()).toEqual([]);
      // list names the token's slot (never its value); rotate asks for a new one at the next synth.
      const listed = runOk(process.execPath, [CLI, '--state', stateDir, 'list']);
      expect(listed).toMatch(/\ntoken example\/pki\/join-token: generation 1, made \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
      expect(listed).not.toContain(pki.joinToken!.token);
      expect(runOk(process.execPath, [CLI, '--state', stateDir, 'rotate', 'example/pki/join-token'])).toBe('example/pki/join-token: new secret requested; run `cdk8s synth` to carry it out\n');
      expect(runOk(process.execPath, [CLI, '--state', stateDir, 'list'])).toMatch(/join-token: generation 1, made \S+, rotation requested\n$/);

      // A token that has expired since synth is not printed.
      const old = path.join(tmp.dir, 'old');
      const oldApp = new App({ outdir: path.join(tmp.dir, 'dist-old') });
      usePkiState(oldApp, PkiState.inDirectory(old, { clock: () => T0 }));
      new ControlPlanePki(new Chart(oldApp, 'example'), 'pki', { cluster: REFERENCE_CLUSTER, tlsBootstrap: {} });
      oldApp.synth();
      const expired = run(process.execPath, [CLI, '--state', old, 'join-command', 'worker-1']);
      expect([expired.status, expired.stderr]).toEqual([1, 'cdk8s-pki: node: the join token expired at 2026-03-31T12:00:00Z; run `cdk8s synth` (it renews the token example/pki/join-token), then ask again\n']);

      const noToken = path.join(tmp.dir, 'no-token');
      const other = new App({ outdir: path.join(tmp.dir, 'dist2') });
      usePkiState(other, PkiState.inDirectory(noToken));
      new ControlPlanePki(new Chart(other, 'example'), 'pki', { cluster: REFERENCE_CLUSTER });
      other.synth();
      const result = run(process.execPath, [CLI, '--state', noToken, 'join-command', 'worker-1']);
      expect(result.status).toBe(1);
      expect(result.stderr).toBe('cdk8s-pki: node: the cluster of "worker-1" has no join token; give ControlPlanePki a `tlsBootstrap`\n');
      expect(fs.existsSync(path.join(noToken, 'example/pki/join-token/secret.json'))).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the two worker flows', () => {
  /** The identity a join token authenticates as (the bootstrap authenticator: user and groups). */
  const TOKEN_GROUPS = ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'];
  /** Built-in ClusterRoles the bindings refer to, with the rules the API server bootstraps them with. */
  const BUILT_IN: Record<string, { apiGroups: string[]; resources: string[]; verbs: string[] }[]> = {
    'system:node-bootstrapper': [{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list', 'watch'] }],
  };
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
  type Binding = Manifest & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string }[] };

  /** RBAC as the authorizer reads it: some binding of one of `groups` to a role with a rule that covers the request. */
  function allowed(manifests: Manifest[], groups: string[], request: { verb: string; apiGroup: string; resource: string; namespace?: string; name?: string }): boolean {
    const rulesOf = (binding: Binding): Rule[] => {
      const role = manifests.find((m) => m.kind === binding.roleRef.kind && m.metadata.name === binding.roleRef.name && (m.kind === 'ClusterRole' || m.metadata.namespace === binding.metadata.namespace));
      return (role?.rules as Rule[] | undefined) ?? (binding.roleRef.kind === 'ClusterRole' ? BUILT_IN[binding.roleRef.name] ?? [] : []);
    };
    return (manifests.filter((m) => m.kind === 'ClusterRoleBinding' || (m.kind === 'RoleBinding' && m.metadata.namespace === request.namespace)) as Binding[])
      .filter((binding) => binding.subjects.some((s) => s.kind === 'Group' && groups.includes(s.name)))
      .some((binding) =>
        rulesOf(binding).some(
          (rule) =>
            rule.verbs.includes(request.verb) && rule.apiGroups.includes(request.apiGroup) && rule.resources.includes(request.resource) &&
            (!rule.resourceNames?.length || (request.name !== undefined && rule.resourceNames.includes(request.name))),
        ),
      );
  }

  const synthesized = () => {
    const state = PkiState.inMemory({ clock: () => T0 });
    const { chart } = chartOn(state);
    const pki = new ControlPlanePki(chart, 'pki', { cluster: REFERENCE_CLUSTER, tlsBootstrap: {} });
    const manifests = synth(chart);
    state.commit();
    return { state, pki, manifests };
  };

  test('(a) kubeadm join: the ConfigMaps it reads after discovery are in dist/, under the keys kubeadm reads, and the token may get them', () => {
    const { state, manifests } = synthesized();
    expectValidManifests(manifests);
    const configMap = (namespace: string, name: string) => manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.namespace === namespace && m.metadata.name === name) as Manifest & { data: Record<string, string> };
    // uploadconfig: ClusterConfiguration; kubelet phase: the KubeletConfiguration join writes to /var/lib/kubelet/config.yaml.
    const clusterConfiguration = parse(configMap('kube-system', 'kubeadm-config').data.ClusterConfiguration);
    expect([clusterConfiguration.apiVersion, clusterConfiguration.kind]).toEqual(['kubeadm.k8s.io/v1beta4', 'ClusterConfiguration']);
    expect(clusterConfiguration.controlPlaneEndpoint).toBe('api.k8s.example.internal:6443');
    const kubelet = parse(configMap('kube-system', 'kubelet-config').data.kubelet);
    expectValidManifests([kubelet]);
    // Both flows run the same kubelet configuration.
    expect(kubelet).toEqual(parse(renderNode(state, 'worker-1').files.find((f) => f.path === 'kubelet/config.yaml')!.data.toString()));

    const reads = [
      { verb: 'get', apiGroup: '', resource: 'configmaps', namespace: 'kube-system', name: 'kubeadm-config' },
      { verb: 'get', apiGroup: '', resource: 'configmaps', namespace: 'kube-system', name: 'kubelet-config' },
      { verb: 'get', apiGroup: '', resource: 'nodes', name: 'worker-1' }, // join refuses a Ready node of its name
      { verb: 'create', apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests' }, // the kubelet's client CSR
    ];
    for (const request of reads) expect([request, allowed(manifests, TOKEN_GROUPS, request)]).toEqual([request, true]);
    // Nodes read the same two ConfigMaps on upgrade; nobody else may, and the token reads no other ConfigMap.
    expect(allowed(manifests, ['system:nodes'], reads[0])).toBe(true);
    expect(allowed(manifests, ['system:authenticated'], reads[0])).toBe(false);
    expect(allowed(manifests, TOKEN_GROUPS, { ...reads[0], name: 'extension-apiserver-authentication' })).toBe(false);
    // kube-proxy's ConfigMap is read too, but kubeadm goes on when it is missing or forbidden (componentconfigs fromConfigMap).
    expect(configMap('kube-system', 'kube-proxy')).toBeUndefined();
  });

  test('(b) kubelet on an exported tree: every path of its flags and config is in the tree, or is one the kubelet creates', () => {
    const { state } = synthesized();
    const tmp = tempDir();
    try {
      const dir = path.join(tmp.dir, 'worker-1');
      exportNode(state, 'worker-1', dir);
      const flags = Object.fromEntries(kubeletBootstrapFlags(dir).map((flag) => flag.slice(2).split('=') as [string, string]));
      expect(Object.keys(flags)).toEqual(['bootstrap-kubeconfig', 'kubeconfig', 'config', 'cert-dir']);
      const bootstrap = parse(fs.readFileSync(flags['bootstrap-kubeconfig'], 'utf8'));
      expect(bootstrap.users[0]).toEqual({ name: 'tls-bootstrap-token-user', user: { token: state.secret('test/pki/join-token') } });
      // The kubelet writes --kubeconfig once its CSR is approved, and creates --cert-dir (outside /etc/kubernetes).
      expect(fs.existsSync(flags.kubeconfig)).toBe(false);
      expect(fs.statSync(path.dirname(flags.kubeconfig)).isDirectory()).toBe(true);
      expect(flags['cert-dir'].startsWith('/var/lib/kubelet/')).toBe(true);
      const config = parse(fs.readFileSync(flags.config, 'utf8'));
      const inTree = (absolute: string) => path.join(dir, path.relative('/etc/kubernetes', absolute));
      expect(fs.statSync(inTree(config.authentication.x509.clientCAFile)).isFile()).toBe(true);
      expect(fs.statSync(inTree(config.staticPodPath)).isDirectory()).toBe(true);
      // The CA the bootstrap kubeconfig trusts is pki/ca.crt, and it verifies the API servers' certificate (openssl).
      expect(Buffer.from(bootstrap.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(fs.readFileSync(path.join(dir, 'pki/ca.crt'), 'utf8'));
      const cp = path.join(tmp.dir, 'cp-1');
      exportNode(state, 'cp-1', cp);
      expect(runOk('openssl', ['verify', '-CAfile', path.join(dir, 'pki/ca.crt'), '-purpose', 'sslserver', path.join(cp, 'pki/apiserver.crt')]).trim()).toBe(`${path.join(cp, 'pki/apiserver.crt')}: OK`);
    } finally {
      tmp.cleanup();
    }
  });
});
