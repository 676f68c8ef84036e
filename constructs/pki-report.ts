import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Names } from 'cdk8s';
import { IConstruct } from 'constructs';
import { parse } from 'yaml';
import { SpecError } from '../src/engine/errors';
import { pemBlocks, sha256Hex } from '../src/engine/pem';
import { CLUSTER_INFO_TRUST, EXTERNAL_TRUST, KUBECONFIG_CA_FIELD, KUBECONFIGS, TRUST } from '../src/kubeadm/catalog';
import { describeCertificate } from '../src/engine/annotations';
import { Certificate } from '../src/engine/x509';
import { PkiReport, publicKeyFingerprint, ReportCertificate, ReportRotation, ReportTrust } from '../src/report/inventory';
import { PKI_REPORT_FILE, renderPkiReport } from '../src/report/markdown';
import { NODE_REVIEW_DIR, nodeReviewFiles } from '../src/report/node-files';
import { describeFsError } from '../src/state/fs-errors';
import { PkiState } from '../src/state/pki-state';
import { BootstrapToken } from './bootstrap-token';
import { ClusterCaIssuer } from './cert-manager';
import { CertificateSigningRequest } from './certificate-signing-request';
import { ClusterCA } from './cluster-ca';
import { ClusterInfo } from './cluster-info';
import { ControlPlanePki } from './control-plane-pki';
import { KubeadmCertificate } from './kubeadm-certificates';
import { Kubeconfig } from './kubeconfig';
import { RancherIngressTLS } from './rancher-ingress-tls';
import { ServiceAccountKey } from './service-account-key';
import { SignedCertificate } from './signed-certificate';

/** A CA this app's CAs chain to without declaring it (an offline root, an existing CA's issuers). */
const OUTSIDE_THE_APP = '(outside the app)';

/** What the last commit of each app wrote beside the manifests, for `synthApp`. */
const written = new WeakMap<IConstruct, Record<string, string>>();

/**
 * Writes dist/PKI.md and the node review files after each successful commit of `state`, the app's PKI state:
 * bound once per app, when its first PKI construct asks for the state, so no app has to remember it.
 */
export function registerPkiReport(root: IConstruct, state: PkiState): void {
  state.onCommitted(() => writePkiOutputFiles(root));
}

/**
 * Writes PKI.md and the node review files into the app's output directory: after a commit, and under
 * `cdk8s-pki plan` into the plan's own output directory, so the plan lists them among the files that change.
 */
export function writePkiOutputFiles(root: IConstruct): void {
  const files = pkiOutputFiles(root);
  written.set(root, files);
  if (root instanceof App) writeFiles(root.outdir, files);
}

/** The files the app's last commit wrote beside the manifests (PKI.md, nodes/…), by path under the output directory. */
export function committedPkiOutputFiles(root: IConstruct): Record<string, string> {
  return written.get(root) ?? {};
}

/**
 * nodes/ is the report's own: brought to exactly the files given, so a removed node leaves no file behind. Only
 * what differs is written or removed: a synth that changes nothing writes nothing (removing the tree to write
 * it again took seconds per thousand nodes).
 */
function writeFiles(outdir: string, files: Record<string, string>): void {
  try {
    const existing = removeUnwanted(outdir, NODE_REVIEW_DIR, new Set(Object.keys(files)));
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(outdir, name);
      // What is under nodes/ the walk has seen; PKI.md is compared when it can be read.
      if ((existing.has(name) || !name.startsWith(`${NODE_REVIEW_DIR}/`)) && readText(file) === text) continue;
      const directory = path.posix.dirname(name);
      if (!existing.has(directory)) fs.mkdirSync(path.join(outdir, directory), { recursive: true });
      existing.add(directory);
      fs.writeFileSync(file, text);
    }
  } catch (err) {
    throw new SpecError('outdir', `cannot write the PKI report into ${outdir}: ${describeFsError(err)}`);
  }
}

/**
 * Removes whatever is under `outdir/relative` but the regular files of `wanted` and the directories that lead to
 * them; returns what is left (by name under `outdir`).
 */
function removeUnwanted(outdir: string, relative: string, wanted: ReadonlySet<string>): Set<string> {
  const leading = new Set<string>();
  for (const name of wanted) for (let slash = name.indexOf('/'); slash >= 0; slash = name.indexOf('/', slash + 1)) leading.add(name.slice(0, slash));
  const left = new Set<string>();
  const visit = (name: string, entry: fs.Dirent | fs.Stats): void => {
    const full = path.join(outdir, name);
    if (entry.isDirectory() && leading.has(name)) {
      left.add(name);
      for (const child of fs.readdirSync(full, { withFileTypes: true })) visit(`${name}/${child.name}`, child);
    } else if (entry.isFile() && wanted.has(name)) {
      left.add(name);
    } else {
      fs.rmSync(full, { recursive: true, force: true });
    }
  };
  const top = fs.lstatSync(path.join(outdir, relative), { throwIfNoEntry: false });
  if (top) visit(relative, top);
  return left;
}

/** The text of `file`; undefined when it cannot be read (writing it will say why, if that fails too). */
function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The outputs the report reads, per construct class: all are set once its constructor returned. */
const OUTPUTS: [(c: IConstruct) => boolean, string[]][] = [
  [(c) => c instanceof ClusterCA, ['certificate', 'chain']],
  [(c) => c instanceof SignedCertificate, ['certificate', 'keyReference']],
  [(c) => c instanceof Kubeconfig, ['content']],
  [(c) => c instanceof ControlPlanePki, ['nodePlans']],
  [(c) => c instanceof ServiceAccountKey, ['publicKeysPem', 'keyReference']],
  [(c) => c instanceof CertificateSigningRequest, ['request', 'signerName']],
  [(c) => c instanceof BootstrapToken, ['tokenId', 'stateSlot', 'usages', 'groups']],
  [(c) => c instanceof ClusterCaIssuer, ['ca', 'issuerRef']],
  [(c) => c instanceof ClusterInfo, ['kubeconfig']],
  [(c) => c instanceof RancherIngressTLS, ['values']],
];

/**
 * Whether `c`'s constructor returned: one that threw leaves the construct in the tree without its outputs, and
 * code that catches the error (a test) may still commit the state.
 */
function constructed(c: IConstruct): boolean {
  return OUTPUTS.every(([isKind, fields]) => !isKind(c) || fields.every((field) => (c as unknown as Record<string, unknown>)[field] !== undefined));
}

/** PKI.md and every cluster's node review files, by path under the output directory. */
export function pkiOutputFiles(root: IConstruct): Record<string, string> {
  const all = root.node.findAll().filter(constructed);
  const clusters = all.filter((c): c is ControlPlanePki => c instanceof ControlPlanePki);
  return { [PKI_REPORT_FILE]: renderPkiReport(collectReport(all, clusters)), ...clusterReviewFiles(clusters) };
}

function clusterReviewFiles(clusters: ControlPlanePki[]): Record<string, string> {
  const clustersOfNode = new Map<string, number>();
  for (const cluster of clusters) for (const plan of cluster.nodePlans) clustersOfNode.set(plan.node, (clustersOfNode.get(plan.node) ?? 0) + 1);
  const readable = clusters.map((cluster) => Names.toDnsLabel(cluster, { includeHash: false }));
  const files: Record<string, string> = {};
  clusters.forEach((cluster, i) => {
    // Two clusters whose paths read alike ("a/b-c", "a-b/c") get the hashed label, as cdk8s names objects.
    const alike = readable.some((other, j) => j !== i && other === readable[i]);
    const prefix = alike ? Names.toDnsLabel(cluster, { includeHash: true }) : readable[i];
    for (const plan of cluster.nodePlans) {
      const shared = clustersOfNode.get(plan.node)! > 1;
      const command = `cdk8s-pki export-node ${shared ? `${plan.cluster}/` : ''}${plan.node}`;
      Object.assign(files, nodeReviewFiles(plan, `${prefix}-${plan.node}`, command));
    }
  });
  return files;
}

/** The ControlPlanePki `c` belongs to, and the node it was made for (its parent's id, below the cluster). */
function clusterPart(c: IConstruct, clusters: ControlPlanePki[]): { cluster: ControlPlanePki; node?: string } | undefined {
  const cluster = clusters.find((cp) => c.node.scopes.includes(cp));
  if (!cluster) return undefined;
  const parent = c.node.scope!;
  return { cluster, node: parent === cluster ? undefined : parent.node.id };
}

/** Groups kubeadm's per-node copies of one catalog entry into one diagram box, labelled with their nodes. */
function grouped<T extends SignedCertificate>(items: T[], clusters: ControlPlanePki[], labelOf: (item: T) => string): ReportCertificate[] {
  const parts = items.map((item) => {
    const part = clusterPart(item, clusters);
    return { item, part, groupId: part && `${part.cluster.node.path}/${item.node.id}` };
  });
  const nodesOf = new Map<string, string[]>();
  for (const { part, groupId } of parts) {
    if (!groupId) continue;
    const nodes = nodesOf.get(groupId) ?? [];
    if (part!.node) nodes.push(part!.node);
    nodesOf.set(groupId, nodes);
  }
  // Joined once per group, not per item: the kubelet.conf group of a large cluster names every node.
  const where = new Map([...nodesOf].map(([groupId, nodes]) => [groupId, nodes.join(', ')]));
  return parts.map(({ item, part, groupId }) => {
    const base = { name: item.node.path, certificate: item.certificate, keySlot: item.keyReference.slot };
    if (!part || !groupId) return base;
    return { ...base, group: { id: groupId, label: [labelOf(item), where.get(groupId) || part.cluster.node.path] } };
  });
}

/** SHA-256 of a bundle's first certificate: the CA a client of the bundle is drawn trusting. */
function firstCertificate(bundlePem: string): string {
  const first = pemBlocks(bundlePem).find((block) => block.label === 'CERTIFICATE');
  return first ? sha256Hex(first.der) : '';
}

/** Every public key tokens are verified with (sa.pub), the signing one first. */
const publicKeysOf = (k: ServiceAccountKey) => pemBlocks(k.publicKeysPem).map((block) => crypto.createPublicKey({ key: block.der, format: 'der', type: 'spki' }));

/** A rotating CA's certificates that are trusted but do not sign (the signing one is `ca.certificate`). */
const trustedOnly = (ca: ClusterCA) => ca.trustedCertificates.slice(1);

/** The rotations of the app's CAs and service-account keys, signing certificate or key first. */
function collectRotations(all: IConstruct[]): ReportRotation[] {
  const rotations: ReportRotation[] = [];
  for (const c of all) {
    if (c instanceof ClusterCA && c.rotationPhase) {
      const fingerprint = (certificate: Certificate) => describeCertificate(certificate)['sha256-fingerprint'];
      rotations.push({ name: c.node.path, kind: 'certificate-authority', phase: c.rotationPhase, signing: fingerprint(c.certificate), trustedOnly: trustedOnly(c).map(fingerprint) });
    }
    if (c instanceof ServiceAccountKey && c.rotationPhase) {
      const [signing, ...verifying] = publicKeysOf(c).map(publicKeyFingerprint);
      rotations.push({ name: c.node.path, kind: 'key', phase: c.rotationPhase, signing, trustedOnly: verifying });
    }
  }
  return rotations;
}

function collectReport(all: IConstruct[], clusters: ControlPlanePki[]): PkiReport {
  const cas: ReportCertificate[] = all
    .filter((c): c is ClusterCA => c instanceof ClusterCA)
    .flatMap((ca) => [
      { name: ca.node.path, certificate: ca.certificate, keySlot: ca.keyReference?.slot },
      ...trustedOnly(ca).map((certificate) => ({ name: `${ca.node.path} (trusted only)`, certificate, keySlot: ca.keyReference?.slot, trustedBeside: ca.certificate.fingerprintSha256 })),
    ]);
  const outside = all
    .filter((c): c is ClusterCA => c instanceof ClusterCA)
    .flatMap((ca) => ca.chain)
    .filter((issuer, i, chain) => !cas.some((ca) => ca.certificate.fingerprintSha256 === issuer.fingerprintSha256) && chain.findIndex((c) => c.fingerprintSha256 === issuer.fingerprintSha256) === i);
  const signed = all.filter((c): c is SignedCertificate => c instanceof SignedCertificate);
  const csrs = all.filter((c): c is CertificateSigningRequest => c instanceof CertificateSigningRequest);
  const fingerprintOf = (ca: ClusterCA) => ca.certificate.fingerprintSha256;
  const trust: ReportTrust[] = [];
  const kubeconfigIds = new Map(Object.values(KUBECONFIGS).map((k) => [k.fileName, k.id]));
  for (const cluster of clusters) {
    const issuedKubeconfigs = new Set(cluster.kubeconfigs.map((k) => k.node.id));
    for (const row of TRUST) {
      if (row.when !== 'always' && !(row.when === 'tls-bootstrap' && cluster.joinToken)) continue;
      const kubeconfig = kubeconfigIds.get(row.component);
      if (kubeconfig && !issuedKubeconfigs.has(kubeconfig)) continue;
      trust.push({
        scope: cluster.node.path,
        component: row.component,
        via: row.via,
        ca: fingerprintOf(cluster.certificateAuthorities[row.ca]),
        ...(kubeconfig ? { from: `${cluster.node.path}/${kubeconfig}` } : {}),
      });
    }
  }
  for (const c of all) {
    if (c instanceof ClusterCaIssuer) {
      trust.push({ scope: c.node.path, component: `cert-manager ${c.issuerRef.kind} ${c.issuerRef.name}`, via: EXTERNAL_TRUST.certManagerCaIssuer.via, ca: fingerprintOf(c.ca) });
    }
    // A ControlPlanePki's kubeconfigs and cluster-info are in its catalog rows above; these stand alone.
    const standalone = !clusters.some((cluster) => c.node.scopes.includes(cluster));
    if (standalone && c instanceof Kubeconfig) {
      trust.push({ scope: c.node.path, component: c.node.id, via: KUBECONFIG_CA_FIELD, ca: firstCertificate(c.content.caPem), from: c.node.path });
    }
    if (standalone && c instanceof ClusterInfo) {
      const caData = (parse(c.kubeconfig) as { clusters: { cluster: Record<string, string> }[] }).clusters[0].cluster[KUBECONFIG_CA_FIELD];
      trust.push({ scope: c.node.path, ...CLUSTER_INFO_TRUST, ca: firstCertificate(Buffer.from(caData, 'base64').toString()) });
    }
    if (c instanceof RancherIngressTLS && c.caChecksum) {
      const pinned = all.find((ca): ca is ClusterCA => ca instanceof ClusterCA && ca.rancherChecksum === c.caChecksum);
      if (pinned) trust.push({ scope: c.node.path, component: EXTERNAL_TRUST.rancherAgents.component, via: EXTERNAL_TRUST.rancherAgents.via, ca: fingerprintOf(pinned) });
    }
  }
  return {
    cas: [...cas, ...outside.map((certificate) => ({ name: OUTSIDE_THE_APP, certificate }))],
    certificates: grouped(
      signed.filter((c) => !(c instanceof Kubeconfig)),
      clusters,
      (c) => (c instanceof KubeadmCertificate ? c.entry.id : c.node.id),
    ),
    kubeconfigs: grouped(
      signed.filter((c): c is Kubeconfig => c instanceof Kubeconfig),
      clusters,
      (c) => KUBECONFIGS[c.node.id as keyof typeof KUBECONFIGS]?.fileName ?? c.node.id,
    ),
    keys: [
      ...all
        .filter((c): c is ServiceAccountKey => c instanceof ServiceAccountKey)
        .flatMap((k) => publicKeysOf(k).map((publicKey, i) => ({ name: i === 0 ? k.node.path : `${k.node.path} (verifying only)`, publicKey, keySlot: k.keyReference.slot }))),
      ...csrs.flatMap((r) => (r.keyReference ? [{ name: r.node.path, publicKey: r.request.publicKey, keySlot: r.keyReference.slot }] : [])),
    ],
    csrs: csrs.map((r) => ({ name: r.node.path, signerName: r.signerName, subject: r.request.subject, sans: r.request.sans, publicKey: r.request.publicKey })),
    tokens: all
      .filter((c): c is BootstrapToken => c instanceof BootstrapToken)
      .map((t) => ({ name: t.node.path, tokenId: t.tokenId, slot: t.stateSlot, expiration: t.expiration, usages: [...t.usages], groups: [...t.groups] })),
    trust,
    rotations: collectRotations(all),
    nodePlans: clusters.flatMap((cluster) => cluster.nodePlans),
  };
}
