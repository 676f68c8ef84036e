// examples/service-certificate-csr: the synthesized request and RBAC (snapshot), and what its walk-through claims,
// checked with the real programs: openssl reads the request the manifest carries (self-signature, subject, SANs,
// key type); the approver's rules grant exactly what the API server asks of `kubectl certificate approve`; and a
// signer's certificate for the request, with the key the README names in .pki/, is a TLS Secret kubectl accepts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SERVICE, ServiceCertificate, SIGNER_NAME } from '../../examples/service-certificate-csr/main';
import { synthExample } from '../support/example-app';
import { expectValidManifests } from '../support/kubernetes-schema';
import { run, runOk, tempDir } from '../support/programs';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: { request: string; signerName: string; usages: string[] };
  rules?: Rule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { apiGroup?: string; kind: string; name: string }[];
}

const { app, state, files } = synthExample((a) => new ServiceCertificate(a, 'service-certificate'));
const manifests = files['service-certificate.k8s.yaml'] as Manifest[];
const scratch = tempDir('cdk8s-pki-csr-example-');
afterAll(() => {
  scratch.cleanup();
  fs.rmSync(app.outdir, { recursive: true, force: true });
});

const only = (kind: string) => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
};
const csr = only('CertificateSigningRequest');
const requestFile = scratch.file('server.csr', Buffer.from(csr.spec!.request, 'base64').toString('utf8'));
const opensslReq = (...args: string[]) => run('openssl', ['req', '-in', requestFile, '-noout', ...args]);

test('snapshot: the request, the approver role and its binding, and PKI.md', () => {
  expect(files).toMatchSnapshot();
  expectValidManifests(manifests);
  expect(manifests.map((m) => m.kind)).toEqual(['CertificateSigningRequest', 'ClusterRole', 'ClusterRoleBinding']);
});

test('the walk-through shows main.ts whole, as it is', () => {
  const dir = path.join(__dirname, '../../examples/service-certificate-csr');
  expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain(`\`\`\`ts\n${fs.readFileSync(path.join(dir, 'main.ts'), 'utf8')}\`\`\`\n`);
});

describe('the request in the manifest, read by openssl', () => {
  test('its self-signature verifies', () => {
    const result = opensslReq('-verify');
    expect([result.status, `${result.stdout}${result.stderr}`]).toEqual([0, expect.stringContaining('self-signature verify OK')]);
  });

  test('subject and SANs: the Service\'s DNS names, its cluster IP and its Pod\'s IP (the Kubernetes task\'s)', () => {
    expect(opensslReq('-subject', '-nameopt', 'RFC2253').stdout.trim()).toBe(`subject=CN=${SERVICE.name}.${SERVICE.namespace}.svc.cluster.local`);
    const text = opensslReq('-text').stdout;
    const sans = /X509v3 Subject Alternative Name:\s*\n\s*(.+)\n/.exec(text)![1].trim();
    expect(sans).toBe('DNS:my-svc.my-namespace.svc.cluster.local, DNS:my-svc.my-namespace.svc, DNS:my-svc.my-namespace, DNS:my-svc, IP Address:192.0.2.24, IP Address:10.0.34.2');
  });

  test('an ECDSA P-256 key, signed with SHA-256, as cfssl\'s {"algo": "ecdsa", "size": 256}', () => {
    const text = opensslReq('-text').stdout;
    expect(text).toMatch(/Public Key Algorithm: id-ecPublicKey/);
    expect(text).toMatch(/NIST CURVE: P-256/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
  });

  test('the signer and usages of the walk-through; no private key anywhere in the manifests', () => {
    expect(csr.metadata.name).toBe('my-svc.my-namespace');
    expect(csr.spec).toEqual({ request: expect.any(String), signerName: 'example.com/serving', usages: ['digital signature', 'server auth'] });
    expect(JSON.stringify(manifests)).not.toMatch(/PRIVATE KEY/);
  });
});

/**
 * Whether RBAC grants a request with these attributes, by the rule semantics of kubernetes pkg/apis/rbac/helpers.go
 * (VerbMatches, APIGroupMatches, ResourceMatches with `resource/subresource`, ResourceNameMatches; `*` matches
 * anything): the oracle, written from upstream rather than read from the construct.
 */
function allows(rules: Rule[], attributes: { verb: string; apiGroup: string; resource: string; subresource?: string; name?: string }): boolean {
  const resource = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
  return rules.some(
    (rule) =>
      (rule.verbs.includes(attributes.verb) || rule.verbs.includes('*')) &&
      (rule.apiGroups.includes(attributes.apiGroup) || rule.apiGroups.includes('*')) &&
      (rule.resources.includes(resource) || rule.resources.includes('*')) &&
      (!rule.resourceNames?.length || (attributes.name !== undefined && rule.resourceNames.includes(attributes.name))),
  );
}

describe('the approver\'s RBAC: what the API server asks of `kubectl certificate approve`', () => {
  const role = only('ClusterRole');
  const binding = only('ClusterRoleBinding');
  const group = 'certificates.k8s.io';
  /**
   * `kubectl certificate approve my-svc.my-namespace` GETs the request, then PUTs its approval subresource
   * (.../certificatesigningrequests/<name>/approval: verb update); the CertificateApproval admission plugin then
   * asks the authorizer for verb `approve` on `signers` (group certificates.k8s.io) named after spec.signerName,
   * or else `<domain>/*` (IsAuthorizedForSignerName).
   */
  const APPROVE = [
    { verb: 'get', apiGroup: group, resource: 'certificatesigningrequests', name: 'my-svc.my-namespace' },
    { verb: 'update', apiGroup: group, resource: 'certificatesigningrequests', subresource: 'approval', name: 'my-svc.my-namespace' },
    { verb: 'approve', apiGroup: group, resource: 'signers', name: SIGNER_NAME },
  ];

  test('the binding gives the role to the approvers\' group', () => {
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'csr-approvers' }]);
  });

  test('every check of an approval passes', () => {
    expect(APPROVE.map((attributes) => [attributes.verb, allows(role.rules!, attributes)])).toEqual(APPROVE.map((a) => [a.verb, true]));
  });

  test('and nothing more: no other signer (not the whole domain either), no signing, no creating or deleting requests', () => {
    const refused = [
      { verb: 'approve', apiGroup: group, resource: 'signers', name: 'kubernetes.io/kube-apiserver-client' },
      { verb: 'approve', apiGroup: group, resource: 'signers', name: 'example.com/*' },
      { verb: 'sign', apiGroup: group, resource: 'signers', name: SIGNER_NAME },
      { verb: 'update', apiGroup: group, resource: 'certificatesigningrequests', subresource: 'status', name: 'my-svc.my-namespace' },
      { verb: 'create', apiGroup: group, resource: 'certificatesigningrequests' },
      { verb: 'delete', apiGroup: group, resource: 'certificatesigningrequests', name: 'my-svc.my-namespace' },
    ];
    expect(refused.filter((attributes) => allows(role.rules!, attributes))).toEqual([]);
  });
});

describe('after approval: the signer\'s certificate and the key in .pki/ make the Secret', () => {
  // The README's key file, as the directory state lays it out: .pki/<slot>/key-<generation>.pem.
  const keyFile = scratch.file('server-key.pem', state.store.read('service-certificate/my-svc/key-1.pem')!.toString('utf8'));
  const caKey = scratch.file('ca-key.pem');
  const ca = scratch.file('ca.pem');
  const certificate = scratch.file('server.crt');

  beforeAll(() => {
    // The signer's part, as the walk-through plays it with openssl: its own CA, and the request's SANs copied.
    runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=My Example Signer', '-days', '30', '-keyout', caKey, '-out', ca]);
    const extensions = scratch.file('server.ext', 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
    runOk('openssl', ['x509', '-req', '-in', requestFile, '-CA', ca, '-CAkey', caKey, '-copy_extensions', 'copy', '-extfile', extensions, '-days', '30', '-out', certificate]);
  });

  test('the certificate serves the Service\'s name and cluster IP, under the signer\'s CA', () => {
    expect(runOk('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', ca, certificate]).trim()).toBe(`${certificate}: OK`);
    const checks = runOk('openssl', ['x509', '-in', certificate, '-noout', '-checkhost', 'my-svc.my-namespace.svc.cluster.local', '-checkip', '192.0.2.24']);
    expect(checks).toContain('Hostname my-svc.my-namespace.svc.cluster.local does match certificate');
    expect(checks).toContain('IP 192.0.2.24 does match certificate');
  });

  test('kubectl create secret tls takes it with the key from .pki/ (it refuses a key that is not the certificate\'s)', () => {
    const secret = runOk('kubectl', ['create', 'secret', 'tls', 'my-svc-tls', '--namespace', 'my-namespace', '--cert', certificate, '--key', keyFile, '--dry-run=client', '-o', 'json']);
    expect(JSON.parse(secret)).toMatchObject({ kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'my-svc-tls', namespace: 'my-namespace' } });
    const refused = run('kubectl', ['create', 'secret', 'tls', 'my-svc-tls', '--cert', certificate, '--key', caKey, '--dry-run=client', '-o', 'json']);
    expect([refused.status, refused.stderr.trim()]).toEqual([1, 'error: tls: private key does not match public key']);
  });
});
