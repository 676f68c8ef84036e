// What reaches dist/: no private key, no token secret, and no base64 of one, under the default policy (omit)
// and under the example app's (sealed). The needles come from the state itself, so a leak in any form the
// scanner knows is caught, whichever construct leaks it.
import * as crypto from 'node:crypto';
import { Chart, Testing } from 'cdk8s';
import { ControlPlanePki, PkiState, SecretOutput, usePkiState } from '../constructs';
import { REFERENCE_CLUSTER } from '../examples/main';
import { expectValidManifests } from './support/kubernetes-schema';
import { synthReferenceCluster } from './support/reference-cluster';

/** Every secret the state holds, in the forms a leak could take: raw, base64, and the key material's own base64. */
function needles(state: PkiState): string[] {
  const found: string[] = [];
  for (const name of state.store.list()) {
    const data = state.store.read(name)!.toString('utf8');
    if (/\/key-\d+\.pem$/.test(name)) {
      const key = crypto.createPrivateKey(data);
      const der = key.export({ type: 'pkcs8', format: 'der' });
      // A stretch of the key's own bytes, as it would appear inside any PEM or base64 encoding of it.
      found.push(der.subarray(-48).toString('base64'), der.subarray(-48).toString('hex'));
    }
    if (name.endsWith('/secret.json')) {
      const token = JSON.parse(data).value as string;
      const secretPart = token.split('.')[1];
      found.push(token, secretPart, Buffer.from(token).toString('base64'), Buffer.from(secretPart).toString('base64'));
    }
  }
  return found;
}

/** Every string value in the documents, and the base64-decoded form of each one that decodes to text. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') {
    const decoded = /^[A-Za-z0-9+/=\s]{16,}$/.test(value) ? Buffer.from(value, 'base64').toString('latin1') : '';
    return [value, decoded];
  }
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

function expectNoPrivateMaterial(documents: unknown[], state: PkiState): void {
  const texts = stringsOf(documents);
  const secrets = needles(state);
  const leaks = texts.filter((text) => /PRIVATE KEY-----/.test(text) || secrets.some((needle) => text.includes(needle)));
  expect(leaks).toEqual([]);
}

describe('no private material in dist/', () => {
  test('default policy (omit): the reference cluster with TLS bootstrapping', () => {
    const app = Testing.app();
    const state = usePkiState(app, PkiState.inMemory());
    new ControlPlanePki(new Chart(app, 'example'), 'pki', { cluster: REFERENCE_CLUSTER, tlsBootstrap: {} });
    const documents = app.charts.flatMap((chart) => Testing.synth(chart));
    state.commit();
    expect(needles(state).length).toBeGreaterThan(30); // 32 keys and a token: the scan has something to find
    expect(documents.map((d) => d.kind)).not.toContain('Secret');
    expectNoPrivateMaterial(documents, state);
  });

  test('the example app (sealed): SealedSecrets only, valid against the CRD schema', () => {
    const { app, state } = synthReferenceCluster();
    const documents = app.charts.flatMap((chart) => Testing.synth(chart));
    const sealed = documents.filter((d) => d.kind === 'SealedSecret');
    expect(sealed.map((d) => `${d.metadata.namespace}/${d.metadata.name}`).sort()).toEqual([
      'cattle-system/tls-rancher-ingress',
      'cert-manager/kubernetes-ca-key-pair',
      expect.stringMatching(/^kube-system\/bootstrap-token-[a-z0-9]{6}$/),
    ]);
    // The one plain Secret is public: Rancher's pinned CA.
    expect(documents.filter((d) => d.kind === 'Secret').map((d) => [d.metadata.name, Object.keys(d.data)])).toEqual([['tls-ca', ['cacerts.pem']]]);
    expectValidManifests(sealed);
    expectNoPrivateMaterial(documents, state);
  });

  test('the scanner finds a leak when there is one (plaintext policy)', () => {
    const app = Testing.app();
    const state = usePkiState(app, PkiState.inMemory());
    new ControlPlanePki(new Chart(app, 'example'), 'pki', { cluster: REFERENCE_CLUSTER, tlsBootstrap: { token: { secretOutput: SecretOutput.plaintext() } } });
    const documents = app.charts.flatMap((chart) => Testing.synth(chart));
    state.commit();
    expect(() => expectNoPrivateMaterial(documents, state)).toThrow();
  });
});
