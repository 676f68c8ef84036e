import * as crypto from 'node:crypto';
import { Chart, Duration, Testing } from 'cdk8s';
import { CertificateSigningRequest, CertificateSigningRequestProps, CsrFromPemProps } from '../../constructs/certificate-signing-request';
import { usePkiState } from '../../constructs/state';
import { KubernetesKeyUsage } from '../../src/certificates-api';
import { KEY_ALGORITHMS } from '../../src/engine';
import { PkiState } from '../../src/state/pki-state';
import { expectValidManifests } from '../support/kubernetes-schema';
import { run, runOk, tempDir } from '../support/programs';

const FIXED_CLOCK = () => new Date('2026-01-15T09:00:00Z');
const files = tempDir();
afterAll(() => files.cleanup());

const KUBELET_SERVING: CertificateSigningRequestProps = {
  signerName: 'kubernetes.io/kubelet-serving',
  commonName: 'system:node:worker-1',
  organizations: ['system:nodes'],
  dnsNames: ['worker-1'],
  ipAddresses: ['10.0.0.21', 'fd00::21'],
};

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; rules?: any; roleRef?: any; subjects?: any };

/** One chart "example" holding one request "csr", synthesized against `state`. */
function synth(props: CertificateSigningRequestProps | CsrFromPemProps, state: PkiState = PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'csr-test' })) {
  const app = Testing.app();
  usePkiState(app, state);
  const chart = new Chart(app, 'example');
  const csr = 'csrPem' in props ? CertificateSigningRequest.fromCsrPem(chart, 'csr', props) : new CertificateSigningRequest(chart, 'csr', props);
  const manifests = Testing.synth(chart) as Manifest[];
  return { csr, manifests, state, request: requestOf(manifests) };
}

function requestOf(manifests: Manifest[]): string {
  const objects = manifests.filter((m) => m.kind === 'CertificateSigningRequest');
  expect(objects).toHaveLength(1);
  return Buffer.from(objects[0].spec.request, 'base64').toString('utf8');
}

let fileCount = 0;
function opensslReq(pem: string, args: string[]) {
  return run('openssl', ['req', '-in', files.file(`req-${++fileCount}.csr`, pem), '-noout', ...args]);
}

/** The subject as openssl prints it (`subject=O = system:nodes, CN = system:node:worker-1`), as [attribute, value] pairs in order. */
function opensslSubject(pem: string): [string, string][] {
  const line = opensslReq(pem, ['-subject']).stdout.trim();
  expect(line).toMatch(/^subject=/);
  return line
    .slice('subject='.length)
    .split(/, (?=[A-Za-z]+ = )/)
    .map((part) => part.split(' = ') as [string, string]);
}

/** The SANs openssl reads from the request's extensionRequest (`DNS:worker-1`, `IP Address:10.0.0.21` …). */
function opensslSans(pem: string): string[] {
  const text = opensslReq(pem, ['-text']).stdout;
  const match = /X509v3 Subject Alternative Name:\s*\n\s*(.+)\n/.exec(text);
  return match ? match[1].trim().split(', ') : [];
}

function opensslVerifies(pem: string): boolean {
  const result = opensslReq(pem, ['-verify']);
  return result.status === 0 && /self-signature verify OK/.test(result.stdout + result.stderr);
}

/** A key and request made by openssl itself, as a user would bring them. */
function opensslCsr(subject: string, sans?: string): string {
  const keyPath = files.file(`user-${++fileCount}.key`);
  runOk('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  return runOk('openssl', ['req', '-new', '-key', keyPath, '-subj', subject, ...(sans ? ['-addext', `subjectAltName=${sans}`] : [])]);
}

function armor(der: Buffer): string {
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe('a request for a key kept in the state', () => {
  test('openssl verifies its self-signature and reads the subject and SANs the construct asked for', () => {
    const { request } = synth(KUBELET_SERVING);
    expect(opensslVerifies(request)).toBe(true);
    expect(opensslSubject(request)).toEqual([
      ['O', 'system:nodes'],
      ['CN', 'system:node:worker-1'],
    ]);
    expect(opensslSans(request)).toEqual(['DNS:worker-1', 'IP Address:10.0.0.21', 'IP Address:FD00:0:0:0:0:0:0:21']);
  });

  test('carries the public half of the key in the state, and no private key reaches the manifests', () => {
    const { csr, manifests, state, request } = synth(KUBELET_SERVING);
    const stateKey = state.privateKey(csr.keyReference!.slot, csr.keyReference!.generation);
    expect(csr.keyReference).toEqual({ slot: 'example/csr', generation: 1 });
    const requestKey = runOk('openssl', ['req', '-in', files.file(`pub-${++fileCount}.csr`, request), '-noout', '-pubkey']);
    expect(requestKey).toBe(crypto.createPublicKey(stateKey).export({ type: 'spki', format: 'pem' }));
    expect(JSON.stringify(manifests)).not.toMatch(/PRIVATE KEY/);
    // Synth committed the key and its record to the state, and nothing else.
    expect(state.store.list()).toEqual(['example/csr/key-1.pem', 'example/csr/key.json']);
  });

  test('spec: the signer, its default usages, expirationSeconds from a Duration, a name from the construct path', () => {
    const { manifests, csr } = synth({ ...KUBELET_SERVING, expirationSeconds: Duration.hours(24) });
    const object = manifests.find((m) => m.kind === 'CertificateSigningRequest')!;
    expect(object.apiVersion).toBe('certificates.k8s.io/v1');
    expect(object.spec).toEqual({
      request: expect.any(String),
      signerName: 'kubernetes.io/kubelet-serving',
      usages: ['digital signature', 'server auth'],
      expirationSeconds: 86400,
    });
    expect(object.metadata.name).toMatch(/^example-csr-[0-9a-f]{8}$/);
    expect(csr.name).toBe(object.metadata.name);
    expectValidManifests(manifests);
  });

  test('a name given as a prop is the object name', () => {
    const { manifests, csr } = synth({ ...KUBELET_SERVING, name: 'worker-1-serving' });
    expect(manifests[0].metadata.name).toBe('worker-1-serving');
    expect(csr.name).toBe('worker-1-serving');
  });

  test.each([
    ['kubernetes.io/kube-apiserver-client', { commonName: 'jane', organizations: ['developers'] }, ['digital signature', 'client auth']],
    ['kubernetes.io/kube-apiserver-client-kubelet', { commonName: 'system:node:worker-1', organizations: ['system:nodes'] }, ['digital signature', 'client auth']],
  ])('%s defaults its usages to %#', (signerName, names, usages) => {
    const { manifests } = synth({ signerName, ...names });
    expect(manifests[0].spec.usages).toEqual(usages);
    expectValidManifests(manifests);
  });

  test.each(KEY_ALGORITHMS.filter((a) => a !== 'rsa-3072' && a !== 'rsa-4096'))('a %s key: openssl verifies the request', (keyAlgorithm) => {
    // Unseeded: a seeded RSA key takes seconds to derive, and the system generator is what production uses.
    const { request } = synth({ ...KUBELET_SERVING, keyAlgorithm }, PkiState.inMemory());
    expect(opensslVerifies(request)).toBe(true);
    expect(opensslReq(request, ['-text']).stdout).toMatch(keyAlgorithm === 'ed25519' ? /Public Key Algorithm: ED25519/ : keyAlgorithm.startsWith('rsa') ? /Public-Key: \(2048 bit\)/ : /Public Key Algorithm: id-ecPublicKey/);
  });

  test('a custom signer takes the usages it is given, and the generic checks only', () => {
    const { manifests, request } = synth({ signerName: 'example.com/my-signer', commonName: 'anything', dnsNames: ['svc.example.com'], usages: ['digital signature', 'server auth', 'client auth'] });
    expect(manifests[0].spec.signerName).toBe('example.com/my-signer');
    expect(manifests[0].spec.usages).toEqual(['digital signature', 'server auth', 'client auth']);
    expect(opensslSubject(request)).toEqual([['CN', 'anything']]);
    expectValidManifests(manifests);
  });
});

describe('a request made elsewhere (fromCsrPem)', () => {
  test('is accepted and carried byte for byte, with no key in the state', () => {
    const pem = opensslCsr('/O=system:nodes/CN=system:node:cp-1', 'DNS:cp-1,IP:10.0.0.11');
    const { csr, request, manifests, state } = synth({ signerName: 'kubernetes.io/kubelet-serving', csrPem: pem });
    expect(request).toBe(pem);
    expect(csr.keyReference).toBeUndefined();
    expect(state.store.list()).toEqual([]);
    expectValidManifests(manifests);
  });

  test('a request whose signature was tampered with is refused, naming csrPem', () => {
    const pem = opensslCsr('/CN=jane');
    const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der[der.length - 3] ^= 0x01; // the signature is the request's last field
    const tampered = armor(der);
    expect(opensslVerifies(tampered)).toBe(false); // openssl agrees it is broken
    expect(() => synth({ signerName: 'kubernetes.io/kube-apiserver-client', csrPem: tampered })).toThrow(
      'example/csr: csrPem: is not signed by the key it carries (its self-signature does not verify), so the API server would reject it',
    );
  });

  test('the signer rules apply to the request it carries, named under csrPem', () => {
    const pem = opensslCsr('/O=system:nodes/CN=system:node:cp-1', 'DNS:cp-1');
    expect(() => synth({ signerName: 'kubernetes.io/kube-apiserver-client-kubelet', csrPem: pem })).toThrow(
      /^example\/csr: csrPem\.sans\.dnsNames: the kube-apiserver-client-kubelet signer never signs a request with SANs \(DNS names here: cp-1\)/,
    );
  });

  test('an email SAN, which the kubelet-serving signer never signs, is refused', () => {
    const pem = opensslCsr('/O=system:nodes/CN=system:node:cp-1', 'DNS:cp-1,email:ops@example.com');
    expect(() => synth({ signerName: 'kubernetes.io/kubelet-serving', csrPem: pem })).toThrow(
      /^example\/csr: csrPem\.sans\.emails: the kubelet-serving signer never signs a request with email addresses \(got ops@example\.com\)/,
    );
  });

  test('a private key pasted along with the request is refused', () => {
    const keyPem = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => synth({ signerName: 'kubernetes.io/kube-apiserver-client', csrPem: opensslCsr('/CN=jane') + keyPem })).toThrow(
      'example/csr: csrPem: holds a PRIVATE KEY block: a private key never goes into a manifest; give the request alone',
    );
  });

  test('props that describe a state key do not type-check with a request brought, nor does a state key without a CN', () => {
    const chart = new Chart(Testing.app(), 'types');
    usePkiState(chart, PkiState.inMemory({ clock: FIXED_CLOCK }));
    // @ts-expect-error commonName is the brought request's own
    const brought = CertificateSigningRequest.fromCsrPem(chart, 'brought', { signerName: 'kubernetes.io/kube-apiserver-client', csrPem: opensslCsr('/CN=jane'), commonName: 'john' });
    expect(brought.request.subject.commonName).toBe('jane');
    // @ts-expect-error a key kept in the state needs its subject CN
    expect(() => new CertificateSigningRequest(chart, 'no-cn', { signerName: 'kubernetes.io/kube-apiserver-client' })).toThrow('types/no-cn: commonName: is required');
  });
});

describe('requests the cluster would reject or never sign fail synth, naming the construct path and the prop', () => {
  const cases: [string, CertificateSigningRequestProps, string | RegExp][] = [
    [
      'kubelet-serving without a DNS or IP SAN',
      { ...KUBELET_SERVING, dnsNames: undefined, ipAddresses: undefined },
      'example/csr: dnsNames: the kubelet-serving signer needs at least one DNS name or IP address SAN; once approved, kube-controller-manager would mark the request Failed (SignerValidationFailure) instead of signing it',
    ],
    [
      'client-kubelet with a CN outside system:node:',
      { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', commonName: 'worker-1', organizations: ['system:nodes'] },
      /^example\/csr: commonName: the kube-apiserver-client-kubelet signer only signs a CN that begins with "system:node:" \(got "worker-1"\)/,
    ],
    [
      'client-kubelet with a group other than exactly system:nodes',
      { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', commonName: 'system:node:worker-1', organizations: ['system:nodes', 'extra'] },
      /^example\/csr: organizations: the kube-apiserver-client-kubelet signer only signs a subject whose O is exactly \["system:nodes"\]/,
    ],
    [
      'client-kubelet with a DNS SAN',
      { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', commonName: 'system:node:worker-1', organizations: ['system:nodes'], dnsNames: ['worker-1'] },
      /^example\/csr: dnsNames: the kube-apiserver-client-kubelet signer never signs a request with SANs/,
    ],
    [
      'client-kubelet with an IP SAN',
      { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', commonName: 'system:node:worker-1', organizations: ['system:nodes'], ipAddresses: ['10.0.0.21'] },
      /^example\/csr: ipAddresses: the kube-apiserver-client-kubelet signer never signs a request with SANs \(IP addresses here: 10\.0\.0\.21\)/,
    ],
    [
      'client-kubelet with usages the signer does not sign',
      { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', commonName: 'system:node:worker-1', organizations: ['system:nodes'], usages: ['client auth'] },
      /^example\/csr: usages: the kube-apiserver-client-kubelet signer only signs usages exactly \{digital signature, client auth\} or \{digital signature, key encipherment, client auth\} \(got \{client auth\}\)/,
    ],
    [
      'system:masters on kube-apiserver-client',
      { signerName: 'kubernetes.io/kube-apiserver-client', commonName: 'root', organizations: ['admins', 'system:masters'] },
      "example/csr: organizations[1]: the API server's CertificateSubjectRestriction admission plugin rejects the create: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed",
    ],
    [
      'server auth on kube-apiserver-client',
      { signerName: 'kubernetes.io/kube-apiserver-client', commonName: 'jane', usages: ['digital signature', 'server auth'] },
      /^example\/csr: usages\[1\]: the kube-apiserver-client signer only signs usages among \{digital signature, key encipherment, client auth\} \(got "server auth"\)/,
    ],
    [
      'the legacy-unknown signer',
      { signerName: 'kubernetes.io/legacy-unknown', commonName: 'jane', usages: ['client auth'] },
      'example/csr: signerName: the API server rejects the create: the legacy signerName is not allowed via this API version (certificates.k8s.io/v1)',
    ],
    [
      'a kubernetes.io signer that does not exist',
      { signerName: 'kubernetes.io/kubelet-client', commonName: 'jane', usages: ['client auth'] },
      /^example\/csr: signerName: no built-in signer is named "kubernetes\.io\/kubelet-client".*nothing would ever sign the request$/,
    ],
    [
      'expirationSeconds under 600',
      { ...KUBELET_SERVING, expirationSeconds: 599 },
      'example/csr: expirationSeconds: the API server rejects the create: may not specify a duration less than 600 seconds (10 minutes) (got 599)',
    ],
    ['an expiration Duration under 600 seconds', { ...KUBELET_SERVING, expirationSeconds: Duration.minutes(5) }, /^example\/csr: expirationSeconds: .*less than 600 seconds.*\(got 300\)$/],
    [
      'a duplicate usage',
      { signerName: 'example.com/my-signer', commonName: 'jane', usages: ['digital signature', 'client auth', 'client auth'] },
      'example/csr: usages[2]: the API server rejects the create: "client auth" is a duplicate',
    ],
    [
      'an unknown usage',
      { signerName: 'example.com/my-signer', commonName: 'jane', usages: ['digital signature', 'client authentication' as KubernetesKeyUsage] },
      /^example\/csr: usages\[1\]: the API server rejects the create: "client authentication" is not a key usage it knows/,
    ],
    ['no usages for a custom signer', { signerName: 'example.com/my-signer', commonName: 'jane' }, /^example\/csr: usages: is required for the custom signer example\.com\/my-signer/],
    [
      'a signerName without a path',
      { signerName: 'my-signer', commonName: 'jane', usages: ['client auth'] },
      `example/csr: signerName: the API server rejects the create: "my-signer" must be a fully qualified domain and path of the form 'example.com/signer-name'`,
    ],
    [
      'a signerName whose domain is not qualified',
      { signerName: 'example/my-signer', commonName: 'jane', usages: ['client auth'] },
      /^example\/csr: signerName: the API server rejects the create: "example\/my-signer": the domain must have at least two segments/,
    ],
    [
      'a signerName with two slashes',
      { signerName: 'example.com/my/signer', commonName: 'jane', usages: ['client auth'] },
      /^example\/csr: signerName: the API server rejects the create: "example\.com\/my\/signer" must be a fully qualified domain and path/,
    ],
    [
      'a signerName with capitals',
      { signerName: 'Example.com/signer', commonName: 'jane', usages: ['client auth'] },
      /^example\/csr: signerName: .*domain label "Example" is not a lower-case RFC 1123 label/,
    ],
    ['an invalid DNS SAN', { ...KUBELET_SERVING, dnsNames: ['Worker_1'] }, /^example\/csr: dnsNames\[0\]: "Worker_1" is not a valid DNS name/],
    ['a name that is not a DNS subdomain', { ...KUBELET_SERVING, name: 'My CSR' }, 'example/csr: name: "My CSR" is not a lower-case RFC 1123 subdomain'],
  ];

  test.each(cases)('%s', (_, props, message) => {
    const state = PkiState.inMemory();
    expect(() => synth(props, state)).toThrow(message);
    // Refused before a key is drawn: nothing is left to be written to the state.
    expect(state.pendingChanges()).toEqual([]);
  });

  test('the same props with the rule satisfied synthesize (each case above fails for its stated reason only)', () => {
    expect(() => synth({ ...KUBELET_SERVING, expirationSeconds: 600 })).not.toThrow();
    expect(() => synth({ signerName: 'kubernetes.io/kube-apiserver-client-kubelet', commonName: 'system:node:worker-1', organizations: ['system:nodes'], usages: ['digital signature', 'key encipherment', 'client auth'] })).not.toThrow();
    expect(() => synth({ signerName: 'kubernetes.io/kube-apiserver-client', commonName: 'root', organizations: ['admins'] })).not.toThrow();
    expect(() => synth({ signerName: 'example.com/my-signer', commonName: 'jane', usages: ['digital signature', 'client auth'] })).not.toThrow();
  });
});

describe('stable output', () => {
  /** Every entry of the state with its bytes. */
  const stateContents = (state: PkiState) => Object.fromEntries(state.store.list().map((name) => [name, state.store.read(name)!.toString('base64')]));

  function synthTwice(state: PkiState, props: CertificateSigningRequestProps = KUBELET_SERVING) {
    const first = synth(props, state);
    state.commit();
    const afterFirst = stateContents(state);
    const second = synth(props, state);
    state.commit();
    return { first, second, stateChanged: JSON.stringify(stateContents(state)) !== JSON.stringify(afterFirst) };
  }

  test.each([
    ['seeded', () => PkiState.inMemory({ clock: FIXED_CLOCK, seed: 'stable' })],
    ['unseeded', () => PkiState.inMemory()],
  ])('two synths with the same %s state give byte-identical manifests and write nothing new', (_, makeState) => {
    const { first, second, stateChanged } = synthTwice(makeState());
    expect(JSON.stringify(second.manifests)).toBe(JSON.stringify(first.manifests));
    expect(stateChanged).toBe(false);
    expect(second.csr.keyReference).toEqual(first.csr.keyReference);
    // Another state holds another key, so the comparison above can tell keys apart.
    expect(synth(KUBELET_SERVING, PkiState.inMemory()).request).not.toBe(first.request);
  });

  test.each(['ecdsa-p384', 'ed25519', 'rsa-2048'] as const)('a %s key in an unseeded state gives the same request on every synth', (keyAlgorithm) => {
    const { first, second } = synthTwice(PkiState.inMemory(), { ...KUBELET_SERVING, keyAlgorithm });
    expect(second.request).toBe(first.request);
  });

  test('a changed SAN keeps the key and makes a new object under a new name (the API server ignores spec changes)', () => {
    const state = PkiState.inMemory();
    const { first } = synthTwice(state);
    const changed = synth({ ...KUBELET_SERVING, dnsNames: ['worker-1', 'worker-1.example.internal'] }, state);
    expect(changed.csr.name).not.toBe(first.csr.name);
    expect(changed.csr.name.replace(/-[0-9a-f]{8}$/, '')).toBe(first.csr.name.replace(/-[0-9a-f]{8}$/, ''));
    const publicKey = (pem: string) => runOk('openssl', ['req', '-in', files.file(`pk-${++fileCount}.csr`, pem), '-noout', '-pubkey']);
    expect(publicKey(changed.request)).toBe(publicKey(first.request));
    expect(opensslSans(changed.request)).toContain('DNS:worker-1.example.internal');
  });

  test('snapshot (fixed clock, seeded state)', () => {
    const { manifests } = synth({ ...KUBELET_SERVING, expirationSeconds: Duration.days(30), approver: { kind: 'Group', name: 'node-approvers' } });
    expect(manifests).toMatchSnapshot();
  });
});

describe('approver RBAC', () => {
  test('a ClusterRole as the Kubernetes documentation shows, scoped to this signer, bound to the approver', () => {
    const { manifests } = synth({ ...KUBELET_SERVING, approver: { kind: 'ServiceAccount', name: 'csr-approver', namespace: 'kube-system' } });
    expect(manifests.map((m) => m.kind)).toEqual(['CertificateSigningRequest', 'ClusterRole', 'ClusterRoleBinding']);
    const [, role, binding] = manifests;
    expect(role.apiVersion).toBe('rbac.authorization.k8s.io/v1');
    expect(role.rules).toEqual([
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
      { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['kubernetes.io/kubelet-serving'], verbs: ['approve'] },
    ]);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'csr-approver', namespace: 'kube-system' }]);
    expectValidManifests(manifests);
  });

  test.each(['User', 'Group'] as const)('a %s subject carries the RBAC apiGroup and no namespace', (kind) => {
    const { manifests } = synth({ ...KUBELET_SERVING, approver: { kind, name: 'ops' } });
    expect(manifests[2].subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind, name: 'ops' }]);
    expectValidManifests(manifests);
  });

  test('without an approver there is no RBAC', () => {
    expect(synth(KUBELET_SERVING).manifests.map((m) => m.kind)).toEqual(['CertificateSigningRequest']);
  });

  test.each([
    [{ kind: 'ServiceAccount', name: 'approver' }, 'example/csr: approver.namespace: is required for a ServiceAccount'],
    [{ kind: 'User', name: 'jane', namespace: 'default' }, 'example/csr: approver.namespace: applies to a ServiceAccount only (a User is cluster-wide)'],
    [{ kind: 'Robot', name: 'r2' }, 'example/csr: approver.kind: must be User, Group or ServiceAccount (got "Robot")'],
  ])('an invalid approver %j is refused', (approver, message) => {
    expect(() => synth({ ...KUBELET_SERVING, approver: approver as CertificateSigningRequestProps['approver'] })).toThrow(message);
  });
});
