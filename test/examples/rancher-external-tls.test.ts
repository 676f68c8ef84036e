import * as path from 'node:path';
import { parse } from 'yaml';
import { RancherExternalTls } from '../../examples/rancher-external-tls/main';
import { EXAMPLE_CLOCK } from '../support/example-app';
import { showsWhole } from '../support/example-readme';
import { expectValidManifests } from '../support/kubernetes-schema';
import { runOk, tempDir } from '../support/programs';
import { applicationValues, exportedSecrets, objectNames, opensslSubjectAltName, opensslVerifyServed, secretValue, sha256sumOf, synthRancherExample, withExportedSecrets } from '../support/example-checks';
import { curlHttps, startRecordingServer } from '../support/tls-server';
import { pemCertificates } from '../support/tls-verify';

const HOSTNAME = 'rancher.example.internal';
const VERIFY_AT = new Date(EXAMPLE_CLOCK().getTime() + 24 * 3600 * 1000);

describe('examples/rancher-external-tls', () => {
  const example = synthRancherExample((app) => new RancherExternalTls(app, 'rancher-external-tls'));
  const front = exportedSecrets(example.state);
  const cacerts = secretValue(example.documents, 'tls-ca', 'cacerts.pem');

  test('synthesizes the manifests, PKI.md and the values file of the walk-through', () => {
    expect(Object.keys(example.files).sort()).toEqual(['PKI.md', 'rancher-external-tls-rancher-values.yaml', 'rancher-external-tls.k8s.yaml']);
    expect(example.files).toMatchSnapshot();
    expect(showsWhole('rancher-external-tls', 'main.ts')).toBe(true);
  });

  test("the manifests (the CA's bundle, tls-ca, the Application) and the front's exported Secret validate against their schemas", () => {
    expect(objectNames(example.documents)).toEqual([
      'ConfigMap cattle-system/front-ca-bundle',
      'Secret cattle-system/tls-ca',
      'Application argocd/rancher',
    ]);
    expectValidManifests(example.documents);
    expect(objectNames(front)).toEqual(['Secret rancher-front/rancher-front-tls']);
    expectValidManifests(front);
    expect(example.stderr).not.toMatch(/warning/);
  });

  test('the chart ends no TLS (no Ingress TLS source), is told the CA is private, and agents trust it only', () => {
    const values = applicationValues(example.documents);
    expect(values).toEqual({ hostname: HOSTNAME, privateCA: true, tls: 'external', agentTLSMode: 'strict' });
    expect(parse(example.valuesFile)).toEqual(values);
  });

  test("openssl verifies the front's certificate for the hostname against the CA of tls-ca; the hostname is in its SANs", () => {
    const tlsCrt = secretValue(front, 'rancher-front-tls', 'tls.crt');
    expect(opensslVerifyServed(tlsCrt, cacerts, HOSTNAME, VERIFY_AT)).toBe('<tmp>/leaf.pem: OK');
    expect(opensslVerifyServed(tlsCrt, cacerts, 'rancher.example.com', VERIFY_AT)).toMatch(/hostname mismatch/);
    expect(opensslSubjectAltName(pemCertificates(tlsCrt)[0])).toBe(`DNS:${HOSTNAME}`);
  });

  test('CATTLE_CA_CHECKSUM is sha256sum of cacerts.pem as Rancher serves it at /cacerts, and heads the values file', () => {
    expect(cacerts).toBe(`${cacerts.trim()}\n`);
    const checksum = sha256sumOf(cacerts);
    expect(example.chart.rancher.caChecksum).toBe(checksum);
    expect(example.valuesFile).toContain(`# CATTLE_CA_CHECKSUM: ${checksum}\n`);
  });

  test("the walk-through's commands make the front's PEM files, and curl trusting cacerts.pem accepts a front serving them", async () => {
    // Issued now, so that curl, which checks validity against the real clock, takes them.
    const now = synthRancherExample((app) => new RancherExternalTls(app, 'rancher-external-tls'), { clock: () => new Date(), seed: 'issued-now' });
    const tmp = tempDir('cdk8s-pki-front-');
    try {
      // As the walk-through: take tls.crt and tls.key out of the exported Secret with sed and base64.
      const { crt, key } = withExportedSecrets(now.state, (dir) => {
        const file = path.join(dir, 'rancher-front.rancher-front-tls.yaml');
        const take = (key: string) => runOk('sh', ['-c', `sed -n 's/^  ${key.replace('.', '\\.')}: //p' "$1" | base64 -d`, 'take', file]);
        return { crt: take('tls.crt'), key: take('tls.key') };
      });
      expect(crt).toBe(secretValue(exportedSecrets(now.state), 'rancher-front-tls', 'tls.crt'));
      const server = await startRecordingServer({ cert: crt, key, body: 'pong' });
      try {
        const trusted = await curlHttps({ cacert: tmp.file('cacerts.pem', secretValue(now.documents, 'tls-ca', 'cacerts.pem')) }, HOSTNAME, server.port);
        expect(trusted).toMatchObject({ status: 0, stdout: 'pong' });
        // The control: the CA of the other synth (another seed, so another key) is refused.
        const otherCa = await curlHttps({ cacert: tmp.file('other.pem', cacerts) }, HOSTNAME, server.port);
        expect(otherCa.status).toBe(60);
      } finally {
        await server.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
