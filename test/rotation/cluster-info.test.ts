// What `kubeadm join` reads in every phase: kube-public/cluster-info's CA data and its JWS, and the node plan's
// `--discovery-token-ca-cert-hash` values. Oracles: node's X509Certificate for the certificates, openssl for
// the HMAC and for the SPKI hashes kubeadm pins.
import * as crypto from 'node:crypto';
import { parse } from 'yaml';
import { parseToken } from '../../src/bootstrap/token';
import { readNodePlan } from '../../src/kubeadm/node-bundle';
import { runOk } from '../support/programs';
import { PhaseRun, PhaseStep, synthPhases } from '../support/rotation-phases';

const STEPS: PhaseStep[] = ['start', 'trust-both', 'issue-from-new', 'drop-old'];
let run: PhaseRun;
beforeAll(() => {
  run = synthPhases(STEPS);
});
afterAll(() => run?.cleanup());

const pemsOf = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
const fingerprints = (bundle: string) => pemsOf(bundle).map((pem) => new crypto.X509Certificate(pem).fingerprint256);
/** kubeadm's pin, computed by openssl: sha256 of the DER SubjectPublicKeyInfo. */
const opensslPin = (pem: string) => {
  const spki = runOk('sh', ['-c', 'openssl x509 -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -hex'], { input: pem });
  return `sha256:${spki.trim().split('= ')[1]}`;
};
const opensslHmac = (input: string, key: string) => Buffer.from(runOk('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `key:${key}`, '-hex'], { input }).trim().split('= ')[1], 'hex').toString('base64url');

describe.each(STEPS)('%s', (step) => {
  test("cluster-info carries the phase's cluster CAs, signed for the join token; the join plan pins each", () => {
    const { chart, manifests, state } = run.step(step);
    const ca = chart.pki.certificateAuthorities.ca;
    const expected = ca.trustedCertificates.map((c) => new crypto.X509Certificate(c.pem).fingerprint256);
    expect(expected).toHaveLength(step === 'trust-both' || step === 'issue-from-new' ? 2 : 1);

    const info = manifests.find((m) => (m as { kind: string; metadata: { name: string } }).kind === 'ConfigMap' && (m as { metadata: { name: string } }).metadata.name === 'cluster-info') as { data: Record<string, string> };
    const kubeconfig = parse(info.data.kubeconfig) as { clusters: { cluster: Record<string, string> }[] };
    const caData = Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    expect(fingerprints(caData)).toEqual(expected);

    const token = chart.pki.joinToken!.token;
    const [header, , signature] = info.data[`jws-kubeconfig-${parseToken(token).id}`].split('.');
    expect(signature).toBe(opensslHmac(`${header}.${Buffer.from(info.data.kubeconfig).toString('base64url')}`, parseToken(token).secret));

    const join = readNodePlan(state, 'worker-1').join!;
    expect([join.caCertHash, ...(join.additionalCaCertHashes ?? [])]).toEqual(pemsOf(caData).map(opensslPin));
  });
});
