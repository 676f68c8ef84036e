// Issuance benchmark: prints and writes bench/results/issue.md. Run with `npm run bench:issue`.
//
// Everything runs in one process, in the order printed. The cold series come first and nothing is
// warmed up before them: their first iteration (the "1st" column) carries first-call costs, and is
// included in the statistics. Module loading happens before any timing starts.
import * as crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as forge from 'node-forge';
import { CertificateSpec, ExtendedKeyUsageName, generateKey, issueCertificate, systemEntropy } from '../src/engine';
import { Credential, Issuer, PkiState } from '../src/state/pki-state';
import { ms, pairRatio, repeat, Row, Stats, stats, statsTable, table, TargetCheck, targetsTable, timed, writeResults } from './measure';

const DAY = 86400;
const PAYLOAD = crypto.randomBytes(400); // about the size of a leaf's TBSCertificate
const KUBEADM_RUNS = 5;
const FORGE_RUNS = 20;

type BenchAlgorithm = 'ecdsa-p256' | 'rsa-2048';
interface Series {
  readonly algorithm: BenchAlgorithm;
  readonly label: string;
  /** Leaves in the cold, raw and issuance-only series. */
  readonly leaves: number;
}
const SERIES: Series[] = [
  { algorithm: 'ecdsa-p256', label: 'ECDSA P-256', leaves: 100 },
  { algorithm: 'rsa-2048', label: 'RSA-2048', leaves: 20 },
];

// ---------------------------------------------------------------------------------------------
// What is issued

function leafSpec(i: number): CertificateSpec {
  return {
    subject: { commonName: `leaf-${i}` },
    sans: { dnsNames: [`leaf-${i}.bench.svc.cluster.local`], ipAddresses: [`10.0.${i >> 8}.${i & 255}`] },
    extendedKeyUsage: ['serverAuth'],
    validitySeconds: 365 * DAY,
  };
}

const caSpec = (commonName: string): CertificateSpec => ({ subject: { commonName }, ca: {}, validitySeconds: 3650 * DAY });
const issuerOf = (ca: Credential): Issuer => ({ certificate: ca.certificate, privateKey: ca.privateKey, chain: ca.chain });

function rawKeyPair(algorithm: BenchAlgorithm): crypto.KeyPairKeyObjectResult {
  return algorithm === 'rsa-2048'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** kubeadm's certificates: three CAs, then the 7 leaf certificates and 4 kubeconfig client certificates. */
const KUBEADM_CAS = { kubernetes: 'kubernetes', etcd: 'etcd-ca', frontProxy: 'front-proxy-ca' } as const;
const KUBEADM_LEAVES: { slot: string; ca: keyof typeof KUBEADM_CAS; cn: string; o?: string; eku: ExtendedKeyUsageName[]; dns?: string[] }[] = [
  { slot: 'apiserver', ca: 'kubernetes', cn: 'kube-apiserver', eku: ['serverAuth'], dns: ['cp-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'] },
  { slot: 'apiserver-kubelet-client', ca: 'kubernetes', cn: 'kube-apiserver-kubelet-client', o: 'kubeadm:cluster-admins', eku: ['clientAuth'] },
  { slot: 'admin', ca: 'kubernetes', cn: 'kubernetes-admin', o: 'kubeadm:cluster-admins', eku: ['clientAuth'] },
  { slot: 'controller-manager', ca: 'kubernetes', cn: 'system:kube-controller-manager', eku: ['clientAuth'] },
  { slot: 'scheduler', ca: 'kubernetes', cn: 'system:kube-scheduler', eku: ['clientAuth'] },
  { slot: 'kubelet', ca: 'kubernetes', cn: 'system:node:cp-1', o: 'system:nodes', eku: ['clientAuth'] },
  { slot: 'apiserver-etcd-client', ca: 'etcd', cn: 'kube-apiserver-etcd-client', eku: ['clientAuth'] },
  { slot: 'etcd-server', ca: 'etcd', cn: 'cp-1', eku: ['serverAuth', 'clientAuth'], dns: ['cp-1', 'localhost'] },
  { slot: 'etcd-peer', ca: 'etcd', cn: 'cp-1', eku: ['serverAuth', 'clientAuth'], dns: ['cp-1', 'localhost'] },
  { slot: 'etcd-healthcheck-client', ca: 'etcd', cn: 'kube-etcd-healthcheck-client', eku: ['clientAuth'] },
  { slot: 'front-proxy-client', ca: 'frontProxy', cn: 'front-proxy-client', eku: ['clientAuth'] },
];

const KUBEADM_SET_SIZE = Object.keys(KUBEADM_CAS).length + KUBEADM_LEAVES.length;

function ensureKubeadmSet(state: PkiState, keyAlgorithm: BenchAlgorithm): void {
  const cas = Object.fromEntries(
    Object.entries(KUBEADM_CAS).map(([name, cn]) => [name, issuerOf(state.ensure({ slot: `kubeadm/${name}-ca`, keyAlgorithm, spec: caSpec(cn) }))]),
  ) as Record<keyof typeof KUBEADM_CAS, Issuer>;
  for (const leaf of KUBEADM_LEAVES) {
    state.ensure({
      slot: `kubeadm/${leaf.slot}`,
      keyAlgorithm,
      issuer: cas[leaf.ca],
      spec: {
        subject: { commonName: leaf.cn, ...(leaf.o ? { organizations: [leaf.o] } : {}) },
        sans: leaf.dns ? { dnsNames: leaf.dns, ipAddresses: ['10.96.0.1', '192.168.0.10'] } : undefined,
        extendedKeyUsage: leaf.eku,
        validitySeconds: 365 * DAY,
      },
    });
  }
}

/** node-forge building and signing one RSA leaf under `ca`, to PEM (its whole path, as the engine's). */
function forgeIssue(i: number, subject: forge.pki.rsa.KeyPair, ca: { keys: forge.pki.rsa.KeyPair; keyId: string }): string {
  const spec = leafSpec(i);
  const cert = forge.pki.createCertificate();
  const now = Date.now();
  cert.publicKey = subject.publicKey;
  cert.serialNumber = `40${crypto.randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(now - 300_000);
  cert.validity.notAfter = new Date(now + spec.validitySeconds * 1000);
  cert.setSubject([{ name: 'commonName', value: spec.subject.commonName }]);
  cert.setIssuer([{ name: 'commonName', value: 'bench-forge-ca' }]);
  cert.setExtensions([
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'basicConstraints', critical: true, cA: false },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.keyId },
    { name: 'subjectAltName', altNames: [...spec.sans!.dnsNames!.map((value) => ({ type: 2, value })), ...spec.sans!.ipAddresses!.map((ip) => ({ type: 7, ip }))] },
  ]);
  cert.sign(ca.keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

// ---------------------------------------------------------------------------------------------
// The run

const rows: Row[] = [];
const record = (label: string, samples: number[]): Stats => {
  const s = stats(samples);
  rows.push({ label, stats: s });
  return s;
};

/** Runs `phase` for each series in turn, keyed by algorithm. */
function perSeries<T>(phase: (series: Series) => T): Record<BenchAlgorithm, T> {
  return Object.fromEntries(SERIES.map((series) => [series.algorithm, phase(series)])) as Record<BenchAlgorithm, T>;
}

// Key generation inside ensure() is timed too (ensure() takes its keys from systemEntropy), so that the
// engine's overhead can be paired per certificate instead of subtracting two independent keygen series:
// RSA key generation varies far more from one key to the next than the overhead itself.
let keygenMs = 0;
const systemKey = systemEntropy.key;
systemEntropy.key = (label, algorithm) => {
  const start = performance.now();
  const key = systemKey(label, algorithm);
  keygenMs += performance.now() - start;
  return key;
};

// 1. Cold: a fresh state per algorithm, its root CA, then the leaves through ensure() (keygen + issue + stage).
const cold = perSeries(({ algorithm, label, leaves }) => {
  const state = PkiState.inMemory();
  let ca: Credential | undefined;
  record(`cold ensure: ${label} root CA (self-signed)`, repeat(1, () => (ca = state.ensure({ slot: 'bench/ca', keyAlgorithm: algorithm, spec: caSpec(`bench-${algorithm}-ca`) }))));
  const issuer = issuerOf(ca!);
  const keygen: number[] = [];
  const samples = repeat(leaves, (i) => {
    const before = keygenMs;
    state.ensure({ slot: `bench/leaf-${i}`, keyAlgorithm: algorithm, spec: leafSpec(i), issuer });
    keygen.push(keygenMs - before);
  });
  const ensure = record(`cold ensure: ${label} leaf under ${label} CA`, samples);
  record(`cold ensure: ${label} leaf, its key generation`, keygen);
  const beyondKeygen = record(`cold ensure: ${label} leaf, the rest (paired: ensure − its keygen)`, samples.map((t, i) => t - keygen[i]));
  return { ca: ca!, ensure, beyondKeygen };
});

// 2. Raw node:crypto, same counts: a key pair plus one signature by a same-algorithm CA key; then the signature alone.
const raw = perSeries(({ algorithm, label, leaves }) => {
  const caKey = rawKeyPair(algorithm).privateKey;
  const keygenAndSign = record(
    `raw node:crypto: ${label} generateKeyPairSync + sign 400 B`,
    repeat(leaves, () => {
      rawKeyPair(algorithm);
      crypto.sign('sha256', PAYLOAD, caKey);
    }),
  );
  const sign = record(`raw node:crypto: ${label} sign 400 B only`, repeat(leaves, () => crypto.sign('sha256', PAYLOAD, caKey)));
  return { keygenAndSign, sign };
});

// 3. Issuance only: subject keys generated beforehand, issueCertificate under the cold series' CA.
const issueOnly = perSeries(({ algorithm, label, leaves }) => {
  const keys = Array.from({ length: leaves }, () => generateKey(algorithm));
  const signer = { certificate: cold[algorithm].ca.certificate, privateKey: cold[algorithm].ca.privateKey };
  const now = new Date();
  return record(`issueCertificate only: ${label} leaf (key pre-generated)`, repeat(leaves, (i) => issueCertificate(leafSpec(i), keys[i], signer, now)));
});

// 4. node-forge: one RSA-2048 leaf built, signed (SHA-256) and PEM-encoded per iteration; keys pre-generated.
const forgeCa = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
const forgeSubject = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
const forgeCaKeyId = forge.pki.getPublicKeyFingerprint(forgeCa.publicKey, { type: 'SubjectPublicKeyInfo' }).getBytes();
let forgePem = '';
const forgeStats = record(
  'node-forge: RSA-2048 leaf build + sign + PEM (keys pre-generated)',
  repeat(FORGE_RUNS, (i) => (forgePem = forgeIssue(i, forgeSubject, { keys: forgeCa, keyId: forgeCaKeyId }))),
);

// 5. kubeadm-shaped set through ensure: a fresh state each run, 3 CAs + 11 leaves; the figure is per set.
const kubeadm = perSeries(({ algorithm, label }) =>
  record(
    `kubeadm set (3 CAs + 11 leaves): ${label}, total per set`,
    Array.from({ length: KUBEADM_RUNS }, () => {
      const state = PkiState.inMemory();
      return timed(() => ensureKubeadmSet(state, algorithm));
    }),
  ),
);

// 6. Per certificate against the node:crypto floor, in pairs (so the machine's drift cancels): one cold ensure() of
// a leaf in a fresh slot, then a raw key pair plus one signature by a same-algorithm CA key.
const floor: TargetCheck[] = SERIES.map(({ algorithm, label, leaves }) => {
  const state = PkiState.inMemory();
  const issuer = issuerOf(state.ensure({ slot: 'bench/ca', keyAlgorithm: algorithm, spec: caSpec(`bench-floor-${algorithm}-ca`) }));
  const caKey = rawKeyPair(algorithm).privateKey;
  const engine: number[] = [];
  const rawFloor: number[] = [];
  for (let i = 0; i < leaves; i++) {
    engine.push(timed(() => state.ensure({ slot: `bench/leaf-${i}`, keyAlgorithm: algorithm, spec: leafSpec(i), issuer })));
    rawFloor.push(
      timed(() => {
        rawKeyPair(algorithm);
        crypto.sign('sha256', PAYLOAD, caKey);
      }),
    );
  }
  return { target: `per certificate, in process, ${label} (bench:issue)`, compared: 'cold ensure() of a leaf / raw generateKeyPairSync + one sign', ratio: pairRatio(engine, rawFloor), limit: 3 };
});

// Sanity: what was timed is a certificate that verifies.
const forgeCert = new crypto.X509Certificate(forgePem);
if (!forgeCert.verify(crypto.createPublicKey(forge.pki.publicKeyToPem(forgeCa.publicKey)))) throw new Error('node-forge certificate does not verify');
for (const { algorithm } of SERIES) {
  const { ca } = cold[algorithm];
  const leaf = issueCertificate(leafSpec(0), generateKey(algorithm), { certificate: ca.certificate, privateKey: ca.privateKey }, new Date());
  if (!new crypto.X509Certificate(leaf.der).verify(ca.certificate.publicKey)) throw new Error(`${algorithm} certificate does not verify`);
}

// ---------------------------------------------------------------------------------------------
// Output

/** a − b over means, and over medians (an approximation). */
const delta = (a: Stats, b: Stats) => `${ms(a.mean - b.mean)} / ${ms(a.p50 - b.p50)}`;
const derived = table(
  ['Derived (ms per certificate, mean / p50)', ...SERIES.map((s) => s.label)],
  [
    ['engine overhead, unpaired: cold ensure − raw (keygen + sign)', ...SERIES.map(({ algorithm: a }) => delta(cold[a].ensure, raw[a].keygenAndSign))],
    ['engine overhead, paired: (cold ensure − its keygen) − raw sign', ...SERIES.map(({ algorithm: a }) => delta(cold[a].beyondKeygen, raw[a].sign))],
    ['of which ASN.1 + checks: issueCertificate − raw sign', ...SERIES.map(({ algorithm: a }) => delta(issueOnly[a], raw[a].sign))],
    ['of which state: (cold ensure − its keygen) − issueCertificate', ...SERIES.map(({ algorithm: a }) => delta(cold[a].beyondKeygen, issueOnly[a]))],
    [`kubeadm set, per certificate (total / ${KUBEADM_SET_SIZE})`, ...SERIES.map(({ algorithm: a }) => `${ms(kubeadm[a].mean / KUBEADM_SET_SIZE)} / ${ms(kubeadm[a].p50 / KUBEADM_SET_SIZE)}`)],
  ],
);
const [rsaIssue, rsaSign] = [issueOnly['rsa-2048'], raw['rsa-2048'].sign];
const forgeLine =
  `node-forge RSA-2048 leaf: p50 ${ms(forgeStats.p50)} ms, vs ${ms(rsaIssue.p50)} ms for issueCertificate (×${(forgeStats.p50 / rsaIssue.p50).toFixed(1)}) ` +
  `and ${ms(rsaSign.p50)} ms for a native RSA-2048 signature (×${(forgeStats.p50 / rsaSign.p50).toFixed(0)}).`;
writeResults('issue', [statsTable('Measurement (ms; per certificate unless said)', rows), derived, forgeLine, targetsTable(floor)].join('\n\n'), floor);
