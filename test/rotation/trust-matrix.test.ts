// The trust matrix of a CA rotation, with the real programs: at each step (start, trust-both, issue-from-new,
// drop-old, and after each rollback) kubectl with every exported kubeconfig against a server holding that
// step's apiserver certificate and client-CA bundle, and curl on the API server's other edges (front-proxy-client,
// apiserver-kubelet-client, a Pod trusting --root-ca-file); the edges a rolling restart makes (a node on one
// step's files, its peer on the next step's) must all hold, and the ones that skip a phase (steps two or more
// apart) must be refused as the table says; and openssl verify of every leaf of every step against every step's
// bundles, its verdicts compared with which CA signed the leaf (node's X509Certificate) and with the phase table
// (tls-phases.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { PhaseRun, PhaseStep, synthPhases } from '../support/rotation-phases';
import { runOk, tempDir } from '../support/programs';
import { kubeletClientCaFile, manifestFlagFile } from '../support/tls-node';
import { ADJACENT, oldAndNew, OWN_STEPS, PHASE_TABLE, RunName, RUNS, tableTrusts, tlsVerdict } from '../support/tls-phases';
import { curlHttps, CurlTls, kubectlHealthz, kubectlOutcome, RecordingServer, SeenRequest, startRecordingServer } from '../support/tls-server';
import { holds, OpensslPurpose, opensslVerifyMany, parseBundle, signerOf } from '../support/tls-verify';

/** One step of one run: its label ("forward drop-old") and its nodes' exported trees. */
interface Step {
  readonly run: RunName;
  readonly step: PhaseStep;
  readonly label: string;
  /** The directory of `node`'s exported /etc/kubernetes. */
  exported(node: string): string;
  file(node: string, relative: string): string;
}

/** The pairs of forward steps two or more apart, in either order: what a node that skipped a restart meets. */
const APART: (readonly [PhaseStep, PhaseStep])[] = RUNS.forward.flatMap((a, i) => RUNS.forward.flatMap((b, j) => (Math.abs(i - j) >= 2 ? [[a, b] as const] : [])));

const CONTROL_PLANE = ['cp-1', 'cp-2', 'cp-3'];
const WORKERS = ['worker-1', 'worker-2'];

interface KubeconfigCase {
  readonly node: string;
  readonly file: string;
  /** The client certificate's subject the server must see; undefined for the bootstrap token. */
  readonly commonName?: string;
  readonly organizations?: string[];
}

/**
 * Who each exported kubeconfig is, as kubeadm makes them (kubeconfig.go, v1.31; control-plane.test.ts checks
 * this against the catalog); super-admin.conf only on the first control-plane node, where `kubeadm init` runs.
 */
const controlPlaneKubeconfigs = (node: string): KubeconfigCase[] => [
  { node, file: 'admin.conf', commonName: 'kubernetes-admin', organizations: ['kubeadm:cluster-admins'] },
  ...(node === CONTROL_PLANE[0] ? [{ node, file: 'super-admin.conf', commonName: 'kubernetes-super-admin', organizations: ['system:masters'] }] : []),
  { node, file: 'controller-manager.conf', commonName: 'system:kube-controller-manager', organizations: [] },
  { node, file: 'scheduler.conf', commonName: 'system:kube-scheduler', organizations: [] },
  { node, file: 'kubelet.conf', commonName: `system:node:${node}`, organizations: ['system:nodes'] },
];
const bootstrapKubeconfig = (node: string): KubeconfigCase => ({ node, file: 'bootstrap-kubelet.conf' });

/** Every kubeconfig of the cluster; the mixed-phase edges use cp-1's and worker-1's (the others differ only in name). */
const ALL_KUBECONFIGS: KubeconfigCase[] = [...CONTROL_PLANE.flatMap(controlPlaneKubeconfigs), ...WORKERS.map(bootstrapKubeconfig)];
const EDGE_KUBECONFIGS: KubeconfigCase[] = [...controlPlaneKubeconfigs('cp-1'), bootstrapKubeconfig('worker-1')];

/** cp-1's leaves, each with the purposes its peers check it for (kubeadm's certlist.go usages). */
const LEAVES: { name: string; file: string; authority: Authority; purposes: OpensslPurpose[] }[] = [
  { name: 'apiserver', file: 'pki/apiserver.crt', authority: 'ca', purposes: ['sslserver'] },
  { name: 'apiserver-kubelet-client', file: 'pki/apiserver-kubelet-client.crt', authority: 'ca', purposes: ['sslclient'] },
  { name: 'apiserver-etcd-client', file: 'pki/apiserver-etcd-client.crt', authority: 'etcd-ca', purposes: ['sslclient'] },
  { name: 'front-proxy-client', file: 'pki/front-proxy-client.crt', authority: 'front-proxy-ca', purposes: ['sslclient'] },
  { name: 'etcd-server', file: 'pki/etcd/server.crt', authority: 'etcd-ca', purposes: ['sslserver', 'sslclient'] },
  { name: 'etcd-peer', file: 'pki/etcd/peer.crt', authority: 'etcd-ca', purposes: ['sslserver', 'sslclient'] },
  { name: 'etcd-healthcheck-client', file: 'pki/etcd/healthcheck-client.crt', authority: 'etcd-ca', purposes: ['sslclient'] },
  ...controlPlaneKubeconfigs('cp-1').map((c) => ({ name: c.file, file: c.file, authority: 'ca' as const, purposes: ['sslclient'] as OpensslPurpose[] })),
];

/** The three CA bundles of a node, with the CA key kubeadm pairs with the bundle's first certificate. */
const BUNDLES = [
  { authority: 'ca', file: 'pki/ca.crt', key: 'pki/ca.key' },
  { authority: 'etcd-ca', file: 'pki/etcd/ca.crt', key: 'pki/etcd/ca.key' },
  { authority: 'front-proxy-ca', file: 'pki/front-proxy-ca.crt', key: 'pki/front-proxy-ca.key' },
] as const;
type Authority = (typeof BUNDLES)[number]['authority'];

const runs = new Map<RunName, PhaseRun>();
let scratch: ReturnType<typeof tempDir> | undefined;

beforeAll(() => {
  // No clock: the certificates are issued now, so kubectl and openssl find them valid.
  for (const [name, steps] of Object.entries(RUNS) as [RunName, readonly PhaseStep[]][]) runs.set(name, synthPhases([...steps]));
  scratch = tempDir('cdk8s-pki-trust-matrix-');
}, 120_000);

afterAll(() => {
  for (const run of runs.values()) run.cleanup();
  scratch?.cleanup();
});

function stepOf(run: RunName, step: PhaseStep): Step {
  const phaseRun = runs.get(run);
  if (!phaseRun) throw new Error(`the ${run} run was not synthesized`);
  const synthesized = phaseRun.step(step);
  return { run, step, label: `${run} ${step}`, exported: (node) => synthesized.exportNode(node), file: (node, relative) => path.join(synthesized.exportNode(node), relative) };
}

const scratchDir = () => {
  if (!scratch) throw new Error('no scratch directory');
  return scratch;
};

const read = (file: string) => fs.readFileSync(file, 'utf8');

/** The client certificate (or the token) and the CA data of a kubeconfig file. */
function kubeconfigParts(file: string): { caPem: string; certificatePem?: string; token?: string } {
  const config = parse(read(file)) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const decode = (data: string | undefined) => (data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8'));
  const user = config.users[0].user;
  return { caPem: decode(config.clusters[0].cluster['certificate-authority-data'])!, certificatePem: decode(user['client-certificate-data']), token: user.token };
}

/**
 * A step's API servers, from cp-1's kube-apiserver manifest: its --tls-cert-file and key, one authenticating
 * client certificates with its --client-ca-file (answering 401 to one it does not verify, as kube-apiserver
 * does), one asking none (for the bootstrap token).
 */
interface ApiServers {
  readonly clientCa: RecordingServer;
  readonly token: RecordingServer;
}

const servers = new Map<string, ApiServers>();

async function serversOf(step: Step): Promise<ApiServers> {
  const known = servers.get(step.label);
  if (known) return known;
  const flagFile = (flag: string) => read(manifestFlagFile(step.exported('cp-1'), 'kube-apiserver', flag));
  const [cert, key] = [flagFile('tls-cert-file'), flagFile('tls-private-key-file')];
  const started = { clientCa: await startRecordingServer({ cert, key, clientCa: flagFile('client-ca-file'), unverifiedClient: 'unauthorized' }), token: await startRecordingServer({ cert, key }) };
  servers.set(step.label, started);
  return started;
}

afterAll(async () => {
  for (const s of servers.values()) {
    await s.clientCa.close();
    await s.token.close();
  }
});

/** kubectl with `kubeconfig` against the right server of `servers`, and what that server saw meanwhile. */
async function healthz(kubeconfig: string, c: KubeconfigCase, on: ApiServers) {
  const server = c.commonName === undefined ? on.token : on.clientCa;
  const mark = server.seen.length;
  const refusedMark = server.refused.length;
  const result = await kubectlHealthz(kubeconfig, server.port, scratchDir().file('kubectl-cache'));
  return { result, seen: server.seen.slice(mark), refused: server.refused.slice(refusedMark) };
}

/** What the server must see from each case: the certificate's subject, or the Bearer token in the kubeconfig. */
function expectedIdentity(c: KubeconfigCase, kubeconfig: string) {
  if (c.commonName === undefined) return { authorization: `Bearer ${kubeconfigParts(kubeconfig).token}` };
  return { commonName: c.commonName, organizations: c.organizations };
}

/**
 * Runs every case's kubeconfig of `client` against the servers of `server`, one kubectl at a time (a server's
 * record tells clients apart only by order), and returns, per case, kubectl's exit and output and the identities
 * the server saw: the shape the tests compare with the expected one, so a failure shows every case at once.
 */
async function matrix(cases: KubeconfigCase[], client: Step, server: Step) {
  const on = await serversOf(server);
  const results: Record<string, unknown> = {};
  const expected: Record<string, unknown> = {};
  for (const c of cases) {
    const kubeconfig = client.file(c.node, c.file);
    const { result, seen } = await healthz(kubeconfig, c, on);
    const key = `${c.node} ${c.file}`;
    // kubectl may ask for /version first; whatever it sent, it sent as this one identity.
    results[key] = { status: result.status, stdout: result.stdout, stderr: result.stderr, seen: [...new Set(seen.map(({ method: _m, url: _u, ...who }) => JSON.stringify(who)))] };
    expected[key] = { status: 0, stdout: 'ok', stderr: '', seen: [JSON.stringify(expectedIdentity(c, kubeconfig))] };
  }
  return { results, expected };
}

describe('the phase table holds in the exported files', () => {
  test.each(Object.keys(RUNS) as RunName[])('%s run: every bundle is the table\'s, signing CA first, and pki/*.key is the first certificate\'s key', (run) => {
    const steps = RUNS[run].map((step) => stepOf(run, step));
    const found: Record<string, unknown> = {};
    const table: Record<string, unknown> = {};
    for (const bundle of BUNDLES) {
      const cas = oldAndNew(parseBundle(read(steps[0].file('cp-1', bundle.file))), parseBundle(read(steps[1].file('cp-1', bundle.file))));
      const name = (c: X509Certificate) => (c.raw.equals(cas.old.raw) ? 'old' : c.raw.equals(cas.new.raw) ? 'new' : c.subject);
      for (const step of steps) {
        for (const node of CONTROL_PLANE) {
          const certificates = parseBundle(read(step.file(node, bundle.file)));
          found[`${step.step} ${node} ${bundle.file}`] = { bundle: certificates.map(name), keyPairsWithFirst: certificates[0].checkPrivateKey(createPrivateKey(read(step.file(node, bundle.key)))) };
          table[`${step.step} ${node} ${bundle.file}`] = { bundle: [...PHASE_TABLE[step.step].trusted], keyPairsWithFirst: true };
        }
        if (bundle.authority === 'ca') {
          for (const node of WORKERS) {
            found[`${step.step} ${node} ${bundle.file}`] = parseBundle(read(step.file(node, bundle.file))).map(name);
            table[`${step.step} ${node} ${bundle.file}`] = [...PHASE_TABLE[step.step].trusted];
          }
        }
      }
    }
    expect(found).toEqual(table);
  });

  test.each(OWN_STEPS)('%s %s: every kubeconfig embeds pki/ca.crt of its node, byte for byte', (run, stepName) => {
    const step = stepOf(run, stepName);
    const mismatched = ALL_KUBECONFIGS.filter((c) => kubeconfigParts(step.file(c.node, c.file)).caPem !== read(step.file(c.node, 'pki/ca.crt')));
    expect(mismatched).toEqual([]);
  });
});

describe('kubectl with every kubeconfig of a step, against the apiserver certificate and client-CA bundle of that step', () => {
  test.each(OWN_STEPS)('%s %s', async (run, stepName) => {
    const step = stepOf(run, stepName);
    const { results, expected } = await matrix(ALL_KUBECONFIGS, step, step);
    expect(results).toEqual(expected);
  }, 60_000);
});

describe('a rolling restart: kubeconfigs of one step against the server of the next, and back', () => {
  test.each(ADJACENT.flatMap(([run, a, b]) => [[run, a, b] as const, [run, b, a] as const]))('%s run: kubeconfigs of %s, server of %s', async (run, client, server) => {
    const { results, expected } = await matrix(EDGE_KUBECONFIGS, stepOf(run, client), stepOf(run, server));
    expect(results).toEqual(expected);
  }, 60_000);
});

describe('skipping a phase is refused: kubeconfigs of one step against the server of a step two or more away', () => {
  test.each(APART)('kubeconfigs of %s against the server of %s: refused as the table says, nothing served', async (client, server) => {
    const found: Record<string, unknown> = {};
    const table: Record<string, unknown> = {};
    for (const c of EDGE_KUBECONFIGS) {
      const { result, seen, refused } = await healthz(stepOf('forward', client).file(c.node, c.file), c, await serversOf(stepOf('forward', server)));
      found[`${c.node} ${c.file}`] = kubectlOutcome(result, seen, refused);
      table[`${c.node} ${c.file}`] = tlsVerdict(client, server, c.commonName !== undefined);
    }
    expect(found).toEqual(table);
    // The bootstrap token gets through only where its kubeconfig trusts the server; every client certificate is refused.
    expect(Object.entries(table).filter(([name, verdict]) => !name.endsWith('bootstrap-kubelet.conf') && verdict === 'ok')).toEqual([]);
  }, 60_000);
});

/**
 * The other TLS edges of the API server, with curl. As a client: front-proxy-client (--proxy-client-cert-file) to
 * an aggregated API server, which trusts what kube-apiserver's --requestheader-client-ca-file holds, and
 * apiserver-kubelet-client (--kubelet-client-certificate) to worker-1's kubelet, which trusts its clientCAFile;
 * those servers' own certificates are not in this PKI (the kubelet's is self-signed by default, and kubeadm sets
 * no --kubelet-certificate-authority), so they serve a throwaway one that curl does not check: only the client
 * certificate is under test there. As a server: a Pod's client, which trusts its ServiceAccount's ca.crt, what
 * kube-controller-manager's --root-ca-file holds, and sends a token.
 */
describe('the other edges of the API server, with curl: front-proxy-client, apiserver-kubelet-client, a Pod trusting --root-ca-file', () => {
  interface CurlEdge {
    readonly name: string;
    /** How curl, on the files of `step`, checks the server and who it is. */
    tls(step: Step): CurlTls;
    server(step: Step): Promise<RecordingServer>;
    /** The name curl asks for (a SAN of the served certificate, where curl checks it). */
    readonly hostname: string;
    /** What the server must see of the client. */
    readonly identity: unknown;
    /** Who may refuse on this edge: the server (it checks the client certificate), or curl (it checks the server's; exit 60). */
    readonly refusedBy: 'server' | 'client';
  }
  const apiserverFlag = (step: Step, flag: string) => manifestFlagFile(step.exported('cp-1'), 'kube-apiserver', flag);
  const subject = (r: SeenRequest) => [r.commonName, r.organizations];

  let throwaway: { cert: string; key: string } | undefined;
  const edgeServers = new Map<string, RecordingServer>();

  /** A server with the throwaway certificate that requires a client certificate of `clientCa`, one per edge and step. */
  async function throwawayServer(label: string, clientCa: string): Promise<RecordingServer> {
    if (!edgeServers.has(label)) {
      if (!throwaway) throw new Error('no throwaway serving certificate');
      edgeServers.set(label, await startRecordingServer({ ...throwaway, clientCa: read(clientCa), unverifiedClient: 'unauthorized' }));
    }
    return edgeServers.get(label)!;
  }

  const EDGES: CurlEdge[] = [
    {
      name: 'front-proxy-client → aggregated API server',
      tls: (step) => ({ insecure: true, cert: apiserverFlag(step, 'proxy-client-cert-file'), key: apiserverFlag(step, 'proxy-client-key-file') }),
      server: (step) => throwawayServer(`aggregated ${step.label}`, apiserverFlag(step, 'requestheader-client-ca-file')),
      hostname: 'localhost',
      identity: ['front-proxy-client', []],
      refusedBy: 'server',
    },
    {
      name: 'apiserver-kubelet-client → worker-1 kubelet',
      tls: (step) => ({ insecure: true, cert: apiserverFlag(step, 'kubelet-client-certificate'), key: apiserverFlag(step, 'kubelet-client-key') }),
      server: (step) => throwawayServer(`kubelet ${step.label}`, kubeletClientCaFile(step.exported('worker-1'))),
      hostname: 'localhost',
      identity: ['kube-apiserver-kubelet-client', ['kubeadm:cluster-admins']],
      refusedBy: 'server',
    },
    {
      name: 'Pod trusting --root-ca-file → kube-apiserver',
      tls: (step) => ({ cacert: manifestFlagFile(step.exported('cp-1'), 'kube-controller-manager', 'root-ca-file') }),
      server: async (step) => (await serversOf(step)).token,
      hostname: 'kubernetes',
      identity: 'no client certificate',
      refusedBy: 'client',
    },
  ];

  beforeAll(() => {
    const dir = scratchDir();
    const [cert, key] = [dir.file('throwaway.crt'), dir.file('throwaway.key')];
    runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=throwaway', '-days', '1', '-keyout', key, '-out', cert]);
    throwaway = { cert: read(cert), key: read(key) };
  });

  afterAll(async () => {
    for (const server of edgeServers.values()) await server.close();
  });

  /** Every edge with `client`'s files against the server of `server`: curl's exit and output, whom the server saw, what it refused. */
  async function edges(client: Step, server: Step) {
    const results: Record<string, { status: number | null; stdout: string; seen: unknown[]; refused: string[] }> = {};
    for (const edge of EDGES) {
      const on = await edge.server(server);
      const [seenMark, refusedMark] = [on.seen.length, on.refused.length];
      const result = await curlHttps(edge.tls(client), edge.hostname, on.port, '/healthz');
      results[edge.name] = {
        status: result.status,
        stdout: result.stdout,
        seen: on.seen.slice(seenMark).map((r) => (r.commonName === undefined ? 'no client certificate' : subject(r))),
        refused: on.refused.slice(refusedMark),
      };
    }
    return results;
  }

  const accepted = Object.fromEntries(EDGES.map((edge) => [edge.name, { status: 0, stdout: 'ok', seen: [edge.identity], refused: [] }]));

  test.each(OWN_STEPS)('%s %s: accepted', async (run, step) => {
    expect(await edges(stepOf(run, step), stepOf(run, step))).toEqual(accepted);
  });

  test.each(ADJACENT.flatMap(([run, a, b]) => [[run, a, b] as const, [run, b, a] as const]))('%s run: client of %s, server of %s: accepted', async (run, client, server) => {
    expect(await edges(stepOf(run, client), stepOf(run, server))).toEqual(accepted);
  });

  test.each(APART)('client of %s, server of %s: refused as the table says', async (client, server) => {
    const results = await edges(stepOf('forward', client), stepOf('forward', server));
    // Refused by the server: a 401 (curl exits 0 without --fail), and the server says why; refused by curl: exit
    // 60, and nothing reaches the server.
    const expectedOf = (edge: CurlEdge) => {
      if (edge.refusedBy === 'server') return tableTrusts(PHASE_TABLE[client].signs, server) ? accepted[edge.name] : { status: 0, stdout: 'Unauthorized', seen: [], refused: ['UNABLE_TO_VERIFY_LEAF_SIGNATURE'] };
      return tableTrusts(PHASE_TABLE[server].signs, client) ? accepted[edge.name] : { status: 60, stdout: '', seen: [], refused: [] };
    };
    expect(results).toEqual(Object.fromEntries(EDGES.map((edge) => [edge.name, expectedOf(edge)])));
  });
});

describe('openssl verify of every leaf of every step against every bundle of every step', () => {
  test.each(Object.keys(RUNS) as RunName[])('%s run: openssl agrees with which CA signed each leaf, and with the phase table', (run) => {
    const steps = RUNS[run].map((step) => stepOf(run, step));
    const dir = scratchDir();
    // Each leaf alone in a file (a kubeconfig's client certificate taken out of it), named by step and leaf.
    const leaves = steps.flatMap((step) =>
      LEAVES.map((leaf) => {
        const pem = leaf.file.endsWith('.conf') ? kubeconfigParts(step.file('cp-1', leaf.file)).certificatePem! : read(step.file('cp-1', leaf.file));
        return { ...leaf, step: step.step, path: dir.file(`${run}/${step.step}/${leaf.name}.pem`, pem), certificate: new X509Certificate(pem) };
      }),
    );
    const bundles = steps.flatMap((step) => BUNDLES.map((bundle) => ({ ...bundle, step: step.step, path: step.file('cp-1', bundle.file), content: read(step.file('cp-1', bundle.file)) })));
    const generations = Object.fromEntries(
      BUNDLES.map(({ authority, file }) => [authority, oldAndNew(parseBundle(read(steps[0].file('cp-1', file))), parseBundle(read(steps[1].file('cp-1', file))))]),
    ) as Record<Authority, ReturnType<typeof oldAndNew>>;
    const authorities = Object.values(generations).flatMap((g) => [g.old, g.new]);
    // The CAs are self-signed roots, so a leaf verifies exactly when the bundle holds the CA that signed it.
    expect(authorities.filter((ca) => !(ca.ca && ca.checkIssued(ca) && ca.verify(ca.publicKey))).map((ca) => ca.subject)).toEqual([]);

    // Which CA signed each leaf, by signature: the table's "signs" column, under the leaf's own authority.
    const signers = new Map(leaves.map((leaf) => [leaf, signerOf(leaf.certificate, authorities)]));
    const generationOf = (ca: X509Certificate | undefined) =>
      Object.entries(generations).flatMap(([authority, g]) => (ca?.raw.equals(g.old.raw) ? [`${authority} old`] : ca?.raw.equals(g.new.raw) ? [`${authority} new`] : []))[0] ?? 'none';
    expect(Object.fromEntries(leaves.map((leaf) => [`${leaf.step} ${leaf.name}`, generationOf(signers.get(leaf))]))).toEqual(
      Object.fromEntries(leaves.map((leaf) => [`${leaf.step} ${leaf.name}`, `${leaf.authority} ${PHASE_TABLE[leaf.step].signs}`])),
    );

    const actual: Record<string, string> = {};
    const bySignature: Record<string, string> = {};
    const byTable: Record<string, string> = {};
    const reasons = new Set<string>();
    // One openssl process per distinct bundle and purpose (a rolled-back step's bundles repeat an earlier step's).
    const byContent = new Map<string, typeof bundles>();
    for (const b of bundles) byContent.set(b.content, [...(byContent.get(b.content) ?? []), b]);
    for (const same of byContent.values()) {
      const held = parseBundle(same[0].content);
      for (const purpose of ['sslserver', 'sslclient'] as const) {
        const checked = leaves.filter((leaf) => leaf.purposes.includes(purpose));
        const verdicts = opensslVerifyMany(same[0].path, purpose, checked.map((leaf) => leaf.path));
        for (const bundle of same) {
          for (const leaf of checked) {
            const key = `${leaf.step} ${leaf.name} (${purpose}) | ${bundle.step} ${bundle.file}`;
            const verdict = verdicts.get(leaf.path)!;
            verdict.errors.forEach((e) => reasons.add(e));
            actual[key] = verdict.ok ? 'OK' : 'refused';
            const signer = signers.get(leaf);
            bySignature[key] = signer && holds(held, signer) ? 'OK' : 'refused';
            byTable[key] = leaf.authority === bundle.authority && tableTrusts(PHASE_TABLE[leaf.step].signs, bundle.step) ? 'OK' : 'refused';
          }
        }
      }
    }
    expect(actual).toEqual(bySignature);
    expect(actual).toEqual(byTable);
    // openssl refused for want of the signing CA, never for a purpose, a time or a strictness check.
    expect([...reasons]).toEqual(['unable to get local issuer certificate']);
    // In particular: the drop-old bundles refuse every leaf of the old CAs (start's), and the start bundles every leaf of the new ones.
    if (run === 'forward') {
      const skipping = Object.entries(actual).filter(([key]) => /^start .* \| drop-old /.test(key) || /^drop-old .* \| start /.test(key));
      expect(skipping.length).toBeGreaterThan(0);
      expect(skipping.filter(([, verdict]) => verdict !== 'refused')).toEqual([]);
    }
  });
});
