import { parse } from 'yaml';
import { RancherPrivateCa } from '../../examples/rancher-private-ca/main';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Chart } from 'cdk8s';
import { RancherIngressTLS, RancherServingCertificate } from '../../constructs';
import { RancherBroughtCertificate } from '../../examples/rancher-private-ca/from-pem';
import { EXAMPLE_CLOCK, synthExample } from '../support/example-app';
import { showsWhole, walkThrough } from '../support/example-readme';
import { expectValidManifests } from '../support/kubernetes-schema';
import { runOk } from '../support/programs';
import { applicationValues, exportedSecrets, objectNames, opensslSubjectAltName, opensslVerifyServed, secretValue, sha256sumOf, synthRancherExample } from '../support/example-checks';
import { pemCertificates } from '../support/tls-verify';

const HOSTNAME = 'rancher.example.internal';
/** What examples/rancher-private-ca/byo/make-demo-ca.sh made, kept here so no private key sits in an example. */
const BYO_DEMO_FILES = path.join(__dirname, '../fixtures/rancher-private-ca-byo');
// A day after the examples' clock: the certificates are checked as they are when first applied.
const VERIFY_AT = new Date(EXAMPLE_CLOCK().getTime() + 24 * 3600 * 1000);

const variants = [
  [
    'the CA in the PKI state (main.ts)',
    'rancher-private-ca',
    () => synthRancherExample((app) => new RancherPrivateCa(app, 'rancher-private-ca')),
    // Each ClusterCA publishes its trust bundle.
    ['ConfigMap cattle-system/root-ca-bundle', 'ConfigMap cattle-system/issuing-ca-bundle'],
  ],
  ['a certificate brought as PEM files (from-pem.ts)', 'rancher-private-ca-pem', () => synthRancherExample((app) => new RancherBroughtCertificate(app, 'rancher-private-ca-pem', { directory: BYO_DEMO_FILES })), []],
] as const;

describe.each(variants)('examples/rancher-private-ca, %s', (_variant, chartId, synth, bundles) => {
  const example = synth();
  // tls-rancher-ingress holds the key: synth leaves it out, `cdk8s-pki export-secrets` writes it.
  const ingressTls = exportedSecrets(example.state);
  const tlsCrt = secretValue(ingressTls, 'tls-rancher-ingress', 'tls.crt');
  const tlsKey = secretValue(ingressTls, 'tls-rancher-ingress', 'tls.key');
  const cacerts = secretValue(example.documents, 'tls-ca', 'cacerts.pem');

  test('synthesizes the manifests, PKI.md and the values file of the walk-through', () => {
    expect(Object.keys(example.files).sort()).toEqual(['PKI.md', `${chartId}-rancher-values.yaml`, `${chartId}.k8s.yaml`]);
    expect(example.files).toMatchSnapshot();
  });

  test('the manifests are Secret tls-ca and the Application (and the bundles of the CAs), valid against the Kubernetes schema and the Application CRD', () => {
    expect(objectNames(example.documents)).toEqual([...bundles, 'Secret cattle-system/tls-ca', 'Application argocd/rancher']);
    expectValidManifests(example.documents);
    expect(objectNames(ingressTls)).toEqual(['Secret cattle-system/tls-rancher-ingress']);
    expectValidManifests(ingressTls);
    expect(example.stderr).not.toMatch(/warning/);
  });

  test('the chart is told the CA is private, and agents trust that CA only', () => {
    const values = applicationValues(example.documents);
    expect(values).toEqual({ hostname: HOSTNAME, ingress: { tls: { source: 'secret', secretName: 'tls-rancher-ingress' } }, privateCA: true, tls: 'ingress', agentTLSMode: 'strict' });
    expect(parse(example.valuesFile)).toEqual(values);
  });

  test('openssl verifies the served chain for the hostname against the CA of tls-ca', () => {
    expect(opensslVerifyServed(tlsCrt, cacerts, HOSTNAME, VERIFY_AT)).toBe('<tmp>/leaf.pem: OK');
    // Against the root alone too: tls.crt carries the intermediate a browser that trusts only the root needs.
    expect(opensslVerifyServed(tlsCrt, pemCertificates(cacerts).at(-1)!, HOSTNAME, VERIFY_AT)).toBe('<tmp>/leaf.pem: OK');
    expect(opensslVerifyServed(tlsCrt, cacerts, 'rancher.example.com', VERIFY_AT)).toMatch(/hostname mismatch/);
  });

  test('the hostname is in the SANs; tls.crt is the certificate then the intermediate, cacerts.pem the intermediate then the root', () => {
    const served = pemCertificates(tlsCrt);
    const anchors = pemCertificates(cacerts);
    expect(opensslSubjectAltName(served[0])).toBe(`DNS:${HOSTNAME}`);
    expect(served).toHaveLength(2);
    expect(anchors).toHaveLength(2);
    expect(served[1]).toBe(anchors[0]);
    const subjectAndIssuer = (pem: string) => runOk('openssl', ['x509', '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253'], { input: pem }).trim().split('\n');
    const [rootSubject, rootIssuer] = subjectAndIssuer(anchors[1]);
    expect(rootSubject.replace('subject=', '')).toBe(rootIssuer.replace('issuer=', '')); // the root, self-issued, is not served
  });

  test('tls.key is the key of the served certificate', () => {
    const publicKeyOfCertificate = runOk('openssl', ['x509', '-noout', '-pubkey'], { input: tlsCrt });
    expect(runOk('openssl', ['pkey', '-pubout'], { input: tlsKey })).toBe(publicKeyOfCertificate);
  });

  test('CATTLE_CA_CHECKSUM is sha256sum of cacerts.pem as Rancher serves it at /cacerts, and heads the values file', () => {
    // Rancher serves the cacerts setting (the file trimmed) with one newline: the file already is that.
    expect(cacerts).toBe(`${cacerts.trim()}\n`);
    const checksum = sha256sumOf(cacerts);
    expect(checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(example.chart.rancher.caChecksum).toBe(checksum);
    expect(example.valuesFile).toContain(`# CATTLE_CA_CHECKSUM: ${checksum}\n`);
  });
});

describe('examples/rancher-private-ca, the walk-through', () => {
  test('shows main.ts and from-pem.ts whole', () => {
    expect(showsWhole('rancher-private-ca', 'main.ts')).toBe(true);
    expect(showsWhole('rancher-private-ca', 'from-pem.ts')).toBe(true);
  });

  test('quotes the checksum fixed by byo/cacerts.pem', () => {
    const byoCacerts = fs.readFileSync(path.join(BYO_DEMO_FILES, 'cacerts.pem'), 'utf8');
    expect(walkThrough('rancher-private-ca')).toContain(`# CATTLE_CA_CHECKSUM: ${sha256sumOf(byoCacerts)}\n`);
  });

  test('quotes the refusal of the brought files for a hostname they do not cover', () => {
    const byo = (file: string) => fs.readFileSync(path.join(BYO_DEMO_FILES, file), 'utf8');
    let outdir: string | undefined;
    const refusal = (() => {
      try {
        synthExample((app) => {
          outdir = app.outdir;
          new RancherIngressTLS(new Chart(app, 'rancher-private-ca-pem'), 'rancher', {
            hostname: 'rancher.example.com',
            mode: 'secret',
            certificate: RancherServingCertificate.fromPem({ certificateChainPem: byo('rancher.crt'), privateKeyPem: byo('rancher.key') }),
            cacertsPem: byo('cacerts.pem'),
            agentTLSMode: 'strict',
            version: '2.12.3',
          });
        });
      } catch (error) {
        return (error as Error).message;
      } finally {
        if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
      }
      throw new Error('synth accepted a certificate that does not cover the hostname');
    })();
    expect(walkThrough('rancher-private-ca')).toContain(`\ncdk8s-pki: ${refusal}\n`);
  });
});
