// dist/PKI.md (inventory and trust diagram) and the node review files under dist/nodes/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import {
  BootstrapToken,
  certManager,
  ClusterCA,
  ClusterInfo,
  ControlPlanePki,
  Kubeconfig,
  OfflineRootCA,
  PkiState,
  RancherIngressTLS,
  RancherServingCertificate,
  synthApp,
  TlsCertificate,
  usePkiState,
} from '../../constructs';
import { generateKey, issueCertificate, privateKeyToPem, seededEntropy } from '../../src/engine';
import { MemoryStore } from '../../src/state/store';
import { CERTIFICATE_AUTHORITIES, CERTIFICATES, KUBECONFIGS, TRUST } from '../../src/kubeadm/catalog';
import { renderNode } from '../../src/kubeadm/node-bundle';
import { ExampleCluster, REFERENCE_CLUSTER } from '../../examples/main';
import { runOk, tempDir } from '../support/programs';
import { exportToTemp } from '../support/reference-cluster';

const CLOCK = () => new Date('2026-01-15T09:00:00Z');

/** The small app of the snapshot: one control-plane node and one worker joining by token, plus a CA of its own and a leaf. */
function smallApp(options: { webNames?: string[]; app?: App; clock?: () => Date } = {}) {
  const app = options.app ?? Testing.app();
  const state = usePkiState(app, PkiState.inMemory({ clock: options.clock ?? CLOCK, seed: 'pki-md' }));
  const chart = new Chart(app, 'small');
  new ControlPlanePki(chart, 'pki', {
    cluster: { controlPlaneEndpoint: 'api.example.internal:6443', nodes: [{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }, { name: 'worker-1', role: 'worker' }] },
    tlsBootstrap: {},
  });
  const ca = new ClusterCA(chart, 'ingress-ca', { commonName: 'ingress-ca' });
  new TlsCertificate(chart, 'web', { ca, commonName: 'web.example.com', dnsNames: options.webNames ?? ['web.example.com'] });
  return { app, state };
}

function pkiMd(options: { webNames?: string[] } = {}): { text: string; state: PkiState } {
  const { app, state } = smallApp(options);
  return { text: synthApp(app)['PKI.md'] as string, state };
}

/** The flowchart of PKI.md, parsed: every line is a node or an edge, or the test fails on it. */
function parseFlowchart(markdown: string) {
  const block = /```mermaid\n([\s\S]*?)\n```/.exec(markdown);
  expect(block).not.toBeNull();
  const [header, ...body] = block![1].split('\n');
  expect(header).toBe('flowchart LR');
  const nodes = new Map<string, string[]>();
  const edges: { from: string; to: string; label?: string }[] = [];
  const unparsed: string[] = [];
  for (const line of body) {
    const node = /^ {2}([A-Za-z0-9_]+)(?:\{\{"(.*)"\}\}|\[\/"(.*)"\/\]|\(\["(.*)"\]\)|\["(.*)"\])$/.exec(line);
    const signs = /^ {2}([A-Za-z0-9_]+) --> ([A-Za-z0-9_]+)$/.exec(line);
    const trusts = /^ {2}([A-Za-z0-9_]+) -\.->\|"([^"]*)"\| ([A-Za-z0-9_]+)$/.exec(line);
    if (node) {
      expect(nodes.has(node[1])).toBe(false); // ids are unique
      nodes.set(node[1], node.slice(2).find((l) => l !== undefined)!.split('<br/>'));
    } else if (signs) edges.push({ from: signs[1], to: signs[2] });
    else if (trusts) edges.push({ from: trusts[1], to: trusts[3], label: trusts[2] });
    else unparsed.push(line);
  }
  expect(unparsed).toEqual([]);
  return { nodes, edges };
}

describe('dist/PKI.md', () => {
  test('snapshot of the small app (fixed clock, seeded state); the same app gives the same bytes', () => {
    const first = pkiMd().text;
    expect(pkiMd().text).toBe(first);
    expect(first).toMatchSnapshot();
  });

  test('a SAN added to one certificate changes exactly one line, that certificate\'s row', () => {
    const before = pkiMd().text.split('\n');
    const after = pkiMd({ webNames: ['web.example.com', 'www.example.com'] }).text.split('\n');
    expect(after.length).toBe(before.length);
    const changed = before.map((_line, i) => i).filter((i) => before[i] !== after[i]);
    expect(changed.length).toBe(1);
    expect(after[changed[0]]).toMatch(/^\| small\/web \| CN=web\.example\.com \| CN=ingress-ca \| DNS:web\.example\.com, DNS:www\.example\.com \|/);
  });

  test('the trust diagram has every CA of the state, every signature and every catalog trust row, and no dangling id', () => {
    const { text, state } = pkiMd();
    const { nodes, edges } = parseFlowchart(text);
    const idOf = (match: (label: string[]) => boolean) => {
      const ids = [...nodes].filter(([, label]) => match(label)).map(([id]) => id);
      expect(ids.length).toBe(1);
      return ids[0];
    };
    for (const edge of edges) {
      expect(nodes.has(edge.from)).toBe(true);
      expect(nodes.has(edge.to)).toBe(true);
    }
    const inventory = state.inventory();
    const caNode = new Map(inventory.filter((e) => e.isCA).map((e) => [e.commonName, idOf((l) => l[0] === `CA ${e.commonName}` && l[1] === e.slot)]));
    expect([...caNode.keys()].sort()).toEqual(['etcd-ca', 'front-proxy-ca', 'ingress-ca', 'kubernetes']);

    // Each certificate of the state is drawn signed by its issuer: kubeadm's under their catalog name, others under their CN.
    const boxLabel = (slot: string, commonName: string) => {
      const id = slot.split('/').at(-1)!;
      if (id in CERTIFICATES) return id;
      if (id in KUBECONFIGS) return KUBECONFIGS[id as keyof typeof KUBECONFIGS].fileName;
      return commonName;
    };
    const signs = edges.filter((e) => e.label === undefined);
    const expectedSigns = new Set(inventory.filter((e) => !e.isCA).map((e) => `${caNode.get(e.issuer)} --> ${idOf((l) => l[0] === boxLabel(e.slot, e.commonName))}`));
    expect(new Set(signs.map((e) => `${e.from} --> ${e.to}`))).toEqual(expectedSigns);

    // Each trust row of the catalog (all apply: the cluster bootstraps workers by token) is one dotted edge.
    const trusts = edges.filter((e) => e.label !== undefined).map((e) => `${nodes.get(e.from)![0]} -[${e.label}]-> ${e.to}`);
    const expectedTrusts = TRUST.map((row) => `${row.component} -[${row.via}]-> ${caNode.get(CERTIFICATE_AUTHORITIES[row.ca].commonName)}`);
    expect(trusts.sort()).toEqual(expectedTrusts.sort());
  });

  test('constructs outside a ControlPlanePki: an offline root and its intermediate, a kubeconfig, cluster-info, a cert-manager CA issuer, Rancher\'s pinned CA', () => {
    const app = Testing.app();
    usePkiState(app, PkiState.inMemory({ clock: CLOCK, seed: 'pki-md' }));
    const chart = new Chart(app, 'parts');
    const rootKey = generateKey('ecdsa-p256');
    const root = issueCertificate({ subject: { commonName: 'offline-root' }, ca: {}, validitySeconds: 20 * 365 * 86400 }, rootKey, { privateKey: rootKey }, CLOCK());
    const intermediate = new ClusterCA(chart, 'intermediate', { commonName: 'intermediate', issuer: OfflineRootCA.fromPem({ certificatePem: root.pem, privateKeyPem: privateKeyToPem(rootKey) }) });
    new Kubeconfig(chart, 'ops', { ca: intermediate, server: 'https://api.example.com:6443', userName: 'ops', groups: ['ops'] });
    const token = new BootstrapToken(chart, 'token');
    new ClusterInfo(chart, 'cluster-info', { ca: intermediate, server: 'https://api.example.com:6443', tokens: [token] });
    new certManager.ClusterCaIssuer(chart, 'issuer', { ca: intermediate, name: 'intermediate' });
    const ingress = new ClusterCA(chart, 'ingress', { commonName: 'ingress' });
    new RancherIngressTLS(chart, 'rancher', { hostname: 'rancher.example.com', mode: 'secret', certificate: RancherServingCertificate.fromClusterCa(ingress), version: '2.12.3' });
    const text = synthApp(app)['PKI.md'] as string;
    const { nodes, edges } = parseFlowchart(text);
    const drawn = edges.map((e) => `${nodes.get(e.from)![0]} -[${e.label ?? 'signs'}]-> ${nodes.get(e.to)![0]}`);
    expect(drawn.sort()).toEqual(
      [
        `CA offline-root -[signs]-> CA intermediate`,
        `CA intermediate -[signs]-> ops`,
        `CA ingress -[signs]-> rancher.example.com`,
        `ops -[certificate-authority-data]-> CA intermediate`,
        `kubeadm join -[cluster-info (kube-public)]-> CA intermediate`,
        `cert-manager ClusterIssuer intermediate -[ca issuer: key pair Secret]-> CA intermediate`,
        `Rancher agents -[tls-ca, CATTLE_CA_CHECKSUM]-> CA ingress`,
      ].sort(),
    );
    expect(text).toContain('| (outside the app) | CN=offline-root | CN=offline-root |');
    expect(text).toContain('| parts/ops | ops | ops | CN=intermediate |');
    const expires = token.expiration ? token.expiration.toISOString().replace('.000', '') : 'never';
    expect(text).toContain(`| parts/token | ${token.tokenId} | ${expires} | authentication, signing |`);
  });

  test('the catalog\'s trust rows are what the nodes run: each flag or field names the CA\'s file in the review copies', () => {
    const files = synthApp(smallApp().app);
    for (const row of TRUST.filter((r) => r.via.startsWith('--') || r.via === 'clientCAFile')) {
      const file = row.component === 'kubelet' ? 'kubelet/config.yaml' : `manifests/${row.component}.yaml`;
      const [doc] = files[`nodes/small-pki-cp-1/${file}.review`] as any[];
      const caFile = `/etc/kubernetes/pki/${CERTIFICATE_AUTHORITIES[row.ca].baseName}.crt`;
      if (row.component === 'kubelet') expect(doc.authentication.x509.clientCAFile).toBe(caFile);
      else expect(doc.spec.containers[0].command).toContain(`${row.via}=${caFile}`);
    }
  });

  test('fingerprints, validity and SANs agree with openssl on the files export-node writes', () => {
    const { app, state } = smallApp({ clock: () => new Date() });
    const text = synthApp(app)['PKI.md'] as string;
    const exported = exportToTemp(state, 'cp-1');
    try {
      const row = (name: string) => text.split('\n').find((line) => line.startsWith(`| ${name} |`))!.split(' | ');
      for (const [name, file] of [['small/pki/cp-1/apiserver', 'pki/apiserver.crt'], ['small/pki/ca', 'pki/ca.crt'], ['small/pki/cp-1/etcd-peer', 'pki/etcd/peer.crt']]) {
        const cells = row(name);
        const openssl = runOk('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-enddate', '-ext', 'subjectAltName', '-in', exported.file(file)]);
        expect(openssl.toLowerCase()).toContain(`sha256 fingerprint=${cells[8].replace(/ \|$/, '').toLowerCase()}`);
        const endDate = /notAfter=(.*)/.exec(openssl)![1];
        expect(new Date(endDate).toISOString().replace('.000', '')).toBe(cells[6]);
        const sans = openssl.split('X509v3 Subject Alternative Name:')[1]?.trim() ?? '-';
        expect(cells[3]).toBe(sans);
      }
    } finally {
      exported.cleanup();
    }
  });

  test('holds no private key and no token secret, nor do the node review files', () => {
    const { app, state } = smallApp();
    const files = synthApp(app);
    const text = files['PKI.md'] as string;
    const token = state.secret(state.secretInventory()[0].slot);
    expect(text).toContain(`| ${token.split('.')[0]} |`); // the public id is there
    const written = Object.entries(files).filter(([file]) => file === 'PKI.md' || file.startsWith('nodes/')).map(([, content]) => JSON.stringify(content));
    expect(written.length).toBe(7);
    for (const content of written) {
      expect(content).not.toContain(token.split('.')[1]);
      expect(content).not.toMatch(/PRIVATE KEY/);
    }
  });
});

describe('the node review files', () => {
  test('each is the file export-node writes, after a comment saying whose it is and that it is not for kubectl apply', () => {
    const tmp = tempDir();
    try {
      const app = new App({ outdir: tmp.dir });
      const { state } = smallApp({ app });
      app.synth();
      for (const node of ['cp-1', 'worker-1']) {
        const rendered = renderNode(state, node).files.filter((f) => f.path.startsWith('manifests/') || f.path === 'kubelet/config.yaml');
        expect(rendered.length).toBe(node === 'cp-1' ? 5 : 1);
        for (const file of rendered) {
          const review = fs.readFileSync(path.join(tmp.dir, 'nodes', `small-pki-${node}`, `${file.path}.review`), 'utf8');
          expect(review).toBe(
            `# Node ${node}'s /etc/kubernetes/${file.path}, for review: \`cdk8s-pki export-node ${node}\` writes it to the node.\n# Not for kubectl apply.\n${file.data.toString()}`,
          );
        }
      }
    } finally {
      tmp.cleanup();
    }
  });

  test('the example app: dist/ holds PKI.md and nodes/; no node file is where kubectl apply, Argo CD or cdk8s synth --stdout read manifests', async () => {
    const tmp = tempDir();
    try {
      const app = new App({ outdir: tmp.dir });
      usePkiState(app, PkiState.inMemory());
      new ExampleCluster(app, 'example');
      app.synth();
      expect(fs.readdirSync(tmp.dir).sort()).toEqual(['PKI.md', 'example-rancher-values.yaml', 'example.k8s.yaml', 'nodes']);
      const nodeNames = REFERENCE_CLUSTER.nodes.map((n) => `example-pki-${n.name}`);
      expect(fs.readdirSync(path.join(tmp.dir, 'nodes')).sort()).toEqual(nodeNames.sort());
      const kinds = fs.readFileSync(path.join(tmp.dir, 'example.k8s.yaml'), 'utf8').split(/^---$/m).map((doc) => parse(doc)?.kind);
      expect(kinds).not.toContain('Pod');
      expect(kinds).not.toContain('KubeletConfiguration');
      expect(fs.readFileSync(path.join(tmp.dir, 'PKI.md'), 'utf8')).toContain('| example/ingress-ca | CN=example-ingress-ca |');
      // What kubectl apply -R -f dist/ and a recursive Argo CD directory source would read: none under nodes/.
      const all = fs.readdirSync(tmp.dir, { recursive: true, encoding: 'utf8' });
      expect(all.filter((f) => f.startsWith('nodes/') && /\.(ya?ml|json)$/.test(f))).toEqual([]);
      expect(all.filter((f) => f.startsWith('nodes/') && f.endsWith('.review')).length).toBe(3 * 5 + 2); // 3 control-plane nodes: 4 static Pods and a kubelet config each; 2 workers: a kubelet config each
      // cdk8s synth --stdout prints what cdk8s's own manifest finder returns (subdirectories included); the package
      // exports no path to it, so it is loaded by file.
      const util = path.join(path.dirname(require.resolve('cdk8s-cli/package.json')), 'lib/util.js');
      const { findManifests } = (await import(util)) as typeof import('cdk8s-cli/lib/util');
      expect((await findManifests(tmp.dir)).map((f) => path.relative(tmp.dir, f)).sort()).toEqual(['example-rancher-values.yaml', 'example.k8s.yaml']);
    } finally {
      tmp.cleanup();
    }
  });

  test('a node removed from the cluster leaves no review file behind', () => {
    const tmp = tempDir();
    try {
      const synth = (nodes: typeof REFERENCE_CLUSTER.nodes) => {
        const app = new App({ outdir: tmp.dir });
        usePkiState(app, PkiState.inMemory({ clock: CLOCK, seed: 'pki-md' }));
        new ControlPlanePki(new Chart(app, 'c'), 'pki', { cluster: { nodes } });
        app.synth();
        return fs.readdirSync(path.join(tmp.dir, 'nodes')).sort();
      };
      const cp = { name: 'cp-1', role: 'control-plane' as const, ip: '10.0.0.11' };
      expect(synth([cp, { name: 'worker-1', role: 'worker' }])).toEqual(['c-pki-cp-1', 'c-pki-worker-1']);
      expect(synth([cp])).toEqual(['c-pki-cp-1']);
    } finally {
      tmp.cleanup();
    }
  });

  test('a synth that changes nothing rewrites no file; a changed or stray entry under nodes/ is put right', () => {
    const tmp = tempDir();
    try {
      const state = PkiState.inMemory({ clock: CLOCK, seed: 'pki-md' });
      const synth = () => {
        const app = new App({ outdir: tmp.dir });
        usePkiState(app, state);
        new ControlPlanePki(new Chart(app, 'c'), 'pki', { cluster: { nodes: [{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }, { name: 'worker-1', role: 'worker' }, { name: 'worker-2', role: 'worker' }] } });
        app.synth();
      };
      const tree = () => {
        const files = new Map<string, string>();
        const walk = (dir: string) => {
          for (const entry of fs.readdirSync(path.join(tmp.dir, dir), { withFileTypes: true })) {
            if (entry.isDirectory()) walk(`${dir}/${entry.name}`);
            else files.set(`${dir}/${entry.name}`, fs.readFileSync(path.join(tmp.dir, dir, entry.name), 'utf8'));
          }
        };
        walk('nodes');
        files.set('PKI.md', fs.readFileSync(path.join(tmp.dir, 'PKI.md'), 'utf8'));
        return files;
      };
      synth();
      const first = tree();
      const longAgo = new Date('2001-01-01T00:00:00Z');
      for (const file of first.keys()) fs.utimesSync(path.join(tmp.dir, file), longAgo, longAgo);
      const changed = 'nodes/c-pki-worker-1/kubelet/config.yaml.review';
      fs.writeFileSync(path.join(tmp.dir, changed), 'edited by hand\n');
      fs.mkdirSync(path.join(tmp.dir, 'nodes/c-pki-worker-3/kubelet'), { recursive: true });
      fs.writeFileSync(path.join(tmp.dir, 'nodes/c-pki-worker-3/kubelet/config.yaml.review'), 'a node no longer planned\n');
      fs.writeFileSync(path.join(tmp.dir, 'nodes/c-pki-cp-1/manifests/notes.txt'), 'not a review file\n');
      fs.rmSync(path.join(tmp.dir, 'nodes/c-pki-worker-2/kubelet/config.yaml.review'));
      fs.mkdirSync(path.join(tmp.dir, 'nodes/c-pki-worker-2/kubelet/config.yaml.review'));

      synth();
      expect(tree()).toEqual(first);
      const rewritten = [...first.keys()].filter((file) => fs.statSync(path.join(tmp.dir, file)).mtime.getTime() !== longAgo.getTime());
      expect(rewritten.sort()).toEqual([changed, 'nodes/c-pki-worker-2/kubelet/config.yaml.review']);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('dist/PKI.md during a CA rotation', () => {
  /** The small cluster synthesized phase after phase on one seeded state, PKI.md and cp-1's tree per phase. */
  function phases(): Map<string, { text: string; caBundle: string[] }> {
    const store = new MemoryStore();
    const results = new Map<string, { text: string; caBundle: string[] }>();
    for (const phase of ['start', 'trust-both', 'issue-from-new', 'drop-old'] as const) {
      const app = Testing.app();
      const state = usePkiState(app, new PkiState({ store, clock: CLOCK, entropy: seededEntropy('pki-md') }));
      const cp = { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' } as const;
      new ControlPlanePki(new Chart(app, 'small'), 'pki', {
        cluster: { controlPlaneEndpoint: 'api.example.internal:6443', nodes: [cp], ...(phase === 'start' ? {} : { caRotation: { id: '2027', phase } }) },
      });
      const text = synthApp(app)['PKI.md'] as string;
      const exported = exportToTemp(state, 'cp-1');
      try {
        const bundle = fs.readFileSync(exported.file('pki/ca.crt'), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!;
        results.set(phase, { text, caBundle: bundle });
      } finally {
        exported.cleanup();
      }
    }
    return results;
  }
  const runs = phases();
  /** openssl's SHA-256 fingerprint of a certificate, as PKI.md prints it. */
  const opensslFingerprint = (pem: string) => runOk('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: pem }).trim().replace(/^sha256 Fingerprint=/i, '');
  const cells = (text: string, name: string) => text.split('\n').find((line) => line.startsWith(`| ${name} |`))?.slice(2, -2).split(' | ');

  test('before: no rotation section, nothing trusted only', () => {
    const { text } = runs.get('start')!;
    expect(text).not.toContain('## Rotations');
    expect(text).not.toContain('(trusted only)');
  });

  test.each([
    ['trust-both', 0, 1, 'issue-from-new: the new CA signs'],
    ['issue-from-new', 0, 1, 'drop-old: the old CA leaves every bundle'],
  ] as const)('%s: the signing CA and the one trusted beside it (as openssl reads pki/ca.crt), the phase and the next', (phase, signing, other, next) => {
    const { text, caBundle } = runs.get(phase)!;
    expect(caBundle).toHaveLength(2);
    const row = cells(text, 'small/pki/ca')!;
    // authority, phase, signing, trusted only, this phase, next phase (the Rotations table's row comes first)
    expect(row.slice(0, 4)).toEqual(['small/pki/ca', phase, opensslFingerprint(caBundle[signing]), opensslFingerprint(caBundle[other])]);
    expect(row[5].startsWith(next)).toBe(true);
    // Both CAs in the CA table, the trusted-only one named as such, with openssl's fingerprint.
    expect(cells(text, 'small/pki/ca (trusted only)')!.at(-1)).toBe(opensslFingerprint(caBundle[other]));
    // The service-account key: both public keys.
    expect(cells(text, 'small/pki/sa (verifying only)')).toBeDefined();
    expect(cells(text, 'small/pki/sa')![1]).toBe(phase);
    // The diagram parses, and links the signing CA to the other one.
    const { nodes, edges } = parseFlowchart(text);
    const idOf = (name: string) => [...nodes].find(([, label]) => label[1] === name)![0];
    expect(edges).toContainEqual({ from: idOf('small/pki/ca'), to: idOf('small/pki/ca (trusted only)'), label: 'trusted beside it' });
  });

  test('issue-from-new signs with the CA trust-both added', () => {
    expect(runs.get('issue-from-new')!.caBundle).toEqual([...runs.get('trust-both')!.caBundle].reverse());
  });

  test('drop-old: one CA, the phase, and that the rotation is finished', () => {
    const { text, caBundle } = runs.get('drop-old')!;
    expect(caBundle).toHaveLength(1);
    const row = cells(text, 'small/pki/ca')!;
    expect(row.slice(0, 4)).toEqual(['small/pki/ca', 'drop-old', opensslFingerprint(caBundle[0]), '-']);
    expect(row[5]).toMatch(/^none: the rotation is finished/);
    expect(text).not.toContain('(trusted only)');
    parseFlowchart(text);
  });
});
