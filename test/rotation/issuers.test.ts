// The issuers and trust bundles of a CA rotation, phase by phase, on the example app: the cert-manager
// ClusterCaIssuer's key pair (unsealed with a controller key of the test's own), the CA bundle ConfigMap and a
// trust-manager Bundle, Rancher's tls-ca, its served certificate and CATTLE_CA_CHECKSUM. Certificates are told
// apart by node's X509Certificate fingerprints; keys and chains are checked with openssl.
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import { Chart, Testing } from 'cdk8s';
import { certManager, ClusterCA } from '../../constructs';
import { PhaseRun, PhaseStep, synthPhases } from '../support/rotation-phases';
import { runOk, tempDir } from '../support/programs';
import { controller, unseal } from '../support/sealed-secrets-controller';

type Document = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; data?: Record<string, string>; spec?: any };
type Ca = 'old' | 'new';

/** The phase table of the rotation: who signs, what every bundle holds (signer first), and Rancher's cacerts (old first). */
const EXPECTED: Record<PhaseStep, { signer: Ca; trusted: Ca[]; cacerts: Ca[] }> = {
  'start': { signer: 'old', trusted: ['old'], cacerts: ['old'] },
  'trust-both': { signer: 'old', trusted: ['old', 'new'], cacerts: ['old', 'new'] },
  'issue-from-new': { signer: 'new', trusted: ['new', 'old'], cacerts: ['old', 'new'] },
  'drop-old': { signer: 'new', trusted: ['new'], cacerts: ['new'] },
  'rollback-to-trust-both': { signer: 'old', trusted: ['old', 'new'], cacerts: ['old', 'new'] },
  'rollback-to-start': { signer: 'old', trusted: ['old'], cacerts: ['old'] },
};

/** The cluster CA's bundle ConfigMap (kube-system) in the example. */
const BUNDLE_NAME = 'kubernetes-ca-bundle';

const FORWARD: PhaseStep[] = ['start', 'trust-both', 'issue-from-new', 'drop-old'];
const BACK: PhaseStep[] = ['start', 'trust-both', 'issue-from-new', 'rollback-to-trust-both', 'rollback-to-start'];

const pemBlocks = (text: string): string[] => text.match(/-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?-----END CERTIFICATE-----\r?\n?/g) ?? [];
const fingerprints = (text: string): string[] => pemBlocks(text).map((pem) => new X509Certificate(pem).fingerprint256);

const work = tempDir('cdk8s-pki-rotation-issuers-');
// The example seals to examples/sealed-secrets-controller.crt under the working directory: a controller made
// here takes its place, so the test can open what the example sealed.
fs.mkdirSync(work.file('examples'));
const sealing = controller(work.file('examples'), 'sealed-secrets-controller', ['-newkey', 'rsa:2048']);
const cwd = process.cwd();

const runs = {} as Record<'forward' | 'back', { run: PhaseRun; steps: PhaseStep[] }>;

beforeAll(() => {
  process.chdir(work.dir);
  try {
    runs.forward = { run: synthPhases(FORWARD), steps: FORWARD };
    runs.back = { run: synthPhases(BACK), steps: BACK };
  } finally {
    process.chdir(cwd);
  }
});

afterAll(() => {
  runs.forward?.run.cleanup();
  runs.back?.run.cleanup();
  work.cleanup();
});

function documentsOf(run: PhaseRun, step: PhaseStep): Document[] {
  return run.step(step).manifests as Document[];
}

function find(documents: Document[], kind: string, name: string): Document {
  const found = documents.find((doc) => doc.kind === kind && doc.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} among ${documents.map((d) => `${d.kind}/${d.metadata.name}`).join(', ')}`);
  return found;
}

/** The plaintext of each key of a (strict-scoped) SealedSecret, opened with the test's controller key. */
function unsealed(sealedSecret: Document): Record<string, string> {
  const keys = Object.keys(sealedSecret.spec.encryptedData);
  const label = `${sealedSecret.metadata.namespace}/${sealedSecret.metadata.name}`;
  const opened = unseal(sealing.key, keys.map((key) => ({ ciphertext: Buffer.from(sealedSecret.spec.encryptedData[key], 'base64'), label })));
  return Object.fromEntries(keys.map((key, i) => {
    if (opened[i].plaintext === undefined) throw new Error(`${key} of ${label} does not open: ${opened[i].error}`);
    return [key, opened[i].plaintext!];
  }));
}

function secretData(secret: Document, key: string): string {
  return Buffer.from(secret.data![key], 'base64').toString('utf8');
}

/** openssl's view of a key and a certificate: the same public key, or not. */
function sameKey(certificatePem: string, privateKeyPem: string): boolean {
  const tmp = tempDir();
  try {
    const fromCertificate = runOk('openssl', ['x509', '-noout', '-pubkey', '-in', tmp.file('c.pem', certificatePem)]);
    const fromKey = runOk('openssl', ['pkey', '-pubout', '-in', tmp.file('k.pem', privateKeyPem)]);
    return fromCertificate === fromKey;
  } finally {
    tmp.cleanup();
  }
}

/** CATTLE_CA_CHECKSUM as the shell computes it: ASCII whitespace trimmed, one newline, sha256sum. */
function shellChecksum(text: string): string {
  const tmp = tempDir();
  try {
    const script = 'export LC_ALL=C; shopt -s extglob; s="$(cat "$1"; printf x)"; s="${s%x}"; s="${s##+([[:space:]])}"; s="${s%%+([[:space:]])}"; printf "%s\\n" "$s" | sha256sum | cut -d" " -f1';
    return runOk('bash', ['-c', script, 'checksum', tmp.file('cacerts.pem', text)]).trim();
  } finally {
    tmp.cleanup();
  }
}

/** The old and the new CA by fingerprint: alone before the rotation, and the other one trusted beside it in trust-both. */
function casOf(cas: (step: PhaseStep) => string[]): Record<Ca, string> {
  const before = cas('start');
  const both = cas('trust-both');
  expect(before).toHaveLength(1);
  expect(new Set(both).size).toBe(2);
  expect(both).toContain(before[0]);
  return { old: before[0], new: both.find((ca) => ca !== before[0])! };
}

describe.each(['forward', 'back'] as const)('%s through the phases', (which) => {
  const stepsOf = () => runs[which].steps;
  const run = () => runs[which].run;
  const clusterCaBundle = (step: PhaseStep) => fingerprints(find(documentsOf(run(), step), 'ConfigMap', BUNDLE_NAME).data!['ca.crt']);

  test('the CA bundle ConfigMap and a trust-manager Bundle carry exactly the phase\'s CAs, signer first', () => {
    const cas = casOf(clusterCaBundle);
    for (const step of stepsOf()) {
      const expected = EXPECTED[step].trusted.map((ca) => cas[ca]);
      expect([step, clusterCaBundle(step)]).toEqual([step, expected]);
      // A Bundle distributing that CA, in a chart of its own: trust-manager reads its inLine PEM.
      const chart = new Chart(Testing.app(), 'trust');
      new certManager.TrustBundle(chart, 'bundle', { ca: run().step(step).chart.pki.certificateAuthorities.ca, name: 'cluster-ca' });
      const bundle = find(Testing.synth(chart) as Document[], 'Bundle', 'cluster-ca');
      expect([step, fingerprints(bundle.spec.sources[0].inLine)]).toEqual([step, expected]);
    }
  });

  test('the ClusterCaIssuer\'s Secret holds the signing CA of the phase and its key: tls.crt, ca.crt, tls.key', () => {
    const cas = casOf(clusterCaBundle);
    for (const step of stepsOf()) {
      const data = unsealed(find(documentsOf(run(), step), 'SealedSecret', 'kubernetes-ca-key-pair'));
      const signer = cas[EXPECTED[step].signer];
      expect([step, fingerprints(data['tls.crt'])]).toEqual([step, [signer]]);
      expect([step, fingerprints(data['ca.crt'])]).toEqual([step, [signer]]);
      expect([step, sameKey(data['tls.crt'], data['tls.key'])]).toEqual([step, true]);
    }
  });

  test('Rancher: tls-ca holds the ingress CAs old first, the served certificate verifies against it, the checksum follows the bytes', () => {
    const cacertsOf = (r: PhaseRun, step: PhaseStep) => secretData(find(documentsOf(r, step), 'Secret', 'tls-ca'), 'cacerts.pem');
    const cas = casOf((step) => fingerprints(cacertsOf(run(), step)));
    const checksums: string[] = [];
    for (const step of stepsOf()) {
      const documents = documentsOf(run(), step);
      const cacerts = cacertsOf(run(), step);
      expect([step, fingerprints(cacerts)]).toEqual([step, EXPECTED[step].cacerts.map((ca) => cas[ca])]);
      const rancher = run().step(step).chart.rancher;
      const checksum = shellChecksum(cacerts);
      expect([step, rancher.caChecksum]).toEqual([step, checksum]);
      expect([step, (run().step(step).chart.node.findChild('ingress-ca') as ClusterCA).rancherChecksum]).toEqual([step, checksum]);
      expect(rancher.valuesFile).toContain(`# CATTLE_CA_CHECKSUM: ${checksum}\n`);
      checksums.push(checksum);
      // What the Ingress serves was issued by the phase's signing CA, for the hostname: openssl verifies it
      // against that CA alone, and against cacerts.pem, as an agent that loaded it does.
      const served = unsealed(find(documents, 'SealedSecret', 'tls-rancher-ingress'));
      const signerPem = pemBlocks(cacerts).find((pem) => new X509Certificate(pem).fingerprint256 === cas[EXPECTED[step].signer])!;
      const tmp = tempDir();
      try {
        for (const trusted of [signerPem, cacerts]) {
          const verify = ['verify', '-CAfile', tmp.file('trusted.pem', trusted), '-verify_hostname', 'rancher.example.internal', tmp.file('tls.crt', served['tls.crt'])];
          expect([step, runOk('openssl', verify).trim()]).toEqual([step, `${tmp.file('tls.crt')}: OK`]);
        }
      } finally {
        tmp.cleanup();
      }
      expect([step, sameKey(served['tls.crt'], served['tls.key'])]).toEqual([step, true]);
    }
    // The checksum changes exactly when the set of ingress CAs does: at trust-both, drop-old and the rollback to the start.
    const changed = stepsOf().slice(1).filter((_, i) => checksums[i + 1] !== checksums[i]);
    expect(changed).toEqual(which === 'forward' ? ['trust-both', 'drop-old'] : ['trust-both', 'rollback-to-start']);
  });
});

describe('the Rancher values file', () => {
  const valuesFile = (step: PhaseStep) => runs.back.run.step(step).chart.rancher.valuesFile;

  test('a rollback writes the bytes of the phase it returns to: Secret tls-ca and the values file', () => {
    const tlsCa = (step: PhaseStep) => find(documentsOf(runs.back.run, step), 'Secret', 'tls-ca');
    expect(valuesFile('rollback-to-trust-both')).toBe(valuesFile('trust-both'));
    expect(tlsCa('rollback-to-trust-both')).toEqual(tlsCa('trust-both'));
    expect(valuesFile('rollback-to-start')).toBe(valuesFile('start'));
    expect(tlsCa('rollback-to-start')).toEqual(tlsCa('start'));
  });

  test('its header says, in the phases that change the checksum, what the agents need and in which order', () => {
    expect(valuesFile('start')).not.toContain('CA rotation');
    const trustBoth = valuesFile('trust-both');
    const steps = ['rollout restart deploy/rancher', '/v3/settings/cacerts | jq -r .value | sha256sum', 'io.cattle.agent.force.deploy=true', 'Force Update'];
    const at = steps.map((text) => trustBoth.indexOf(text));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(trustBoth.indexOf('io.cattle.agent.force.deploy')).toBeLessThan(trustBoth.indexOf('# CATTLE_CA_CHECKSUM:'));
    expect(valuesFile('issue-from-new')).toContain('the checksum is unchanged');
    expect(valuesFile('issue-from-new')).not.toContain('force.deploy');
    expect(runs.forward.run.step('drop-old').chart.rancher.valuesFile).toContain('io.cattle.agent.force.deploy=true');
  });
});
