/**
 * The PKI inventory of an app, as plain data: every CA, certificate, kubeconfig identity, bare key, CSR and
 * bootstrap token, which nodes receive each, and who trusts which CA. Collected from the constructs at synth
 * (constructs/pki-report.ts) and rendered by markdown.ts into dist/PKI.md. No cdk8s here.
 */
import * as crypto from 'node:crypto';
import { spkiDer } from '../engine/keys';
import { pemBlocks, sha256Hex } from '../engine/pem';
import { DistinguishedName, SubjectAltNames } from '../engine/spec';
import { Certificate } from '../engine/x509';
import { NodePlan } from '../kubeadm/node-bundle';
import { RotationPhase } from '../state/pki-state';

/** A certificate of the app (a CA, a leaf, a kubeconfig's client certificate). */
export interface ReportCertificate {
  /** The construct path; for an issuer outside the app, `(outside the app)`. */
  readonly name: string;
  readonly certificate: Certificate;
  /** The state slot of its key, when the key is in the state. */
  readonly keySlot?: string;
  /**
   * Certificates of one group share a box in the trust diagram: kubeadm's per-node copies of one catalog entry.
   * The label's lines: what the certificate is, then where.
   * @default - a box of its own
   */
  readonly group?: { readonly id: string; readonly label: readonly string[] };
  /**
   * For a CA that a rotation keeps trusted but that does not sign: the SHA-256 of the CA that signs in its
   * place, whose every verifier trusts this one too.
   * @default - the CA signs, or is in no rotation
   */
  readonly trustedBeside?: string;
}

/** A key pair with no certificate: the service-account key, a CSR's key. */
export interface ReportKey {
  readonly name: string;
  readonly publicKey: crypto.KeyObject;
  readonly keySlot: string;
}

/** A certificate request sent to the cluster's certificates API. */
export interface ReportCsr {
  readonly name: string;
  readonly signerName: string;
  readonly subject: DistinguishedName;
  readonly sans: SubjectAltNames;
  readonly publicKey: crypto.KeyObject;
}

/** A bootstrap token: its public id and expiration, never its secret. */
export interface ReportToken {
  readonly name: string;
  readonly tokenId: string;
  readonly slot: string;
  readonly expiration?: Date;
  readonly usages: string[];
  readonly groups: string[];
}

/** `component` (of `scope`: a cluster's or a construct's path) verifies peers with CA `ca` (its certificate's SHA-256), read through `via`. */
export interface ReportTrust {
  readonly scope: string;
  readonly component: string;
  readonly via: string;
  readonly ca: string;
  /**
   * The certificate or kubeconfig box (a group id or an item's name) the component is, when it is one.
   * @default - a box of the component's own
   */
  readonly from?: string;
}

/** A CA or service-account key in a rotation (drop-old included): which certificate (or key) signs, which are trusted only. */
export interface ReportRotation {
  /** The construct path of the ClusterCA or ServiceAccountKey. */
  readonly name: string;
  readonly kind: 'certificate-authority' | 'key';
  readonly phase: RotationPhase;
  /** SHA-256 (as the tables print it) of the signing CA certificate, or of the signing public key. */
  readonly signing: string;
  /** The same of each certificate or public key that is trusted (verifies) but does not sign. */
  readonly trustedOnly: string[];
}

export interface PkiReport {
  readonly cas: ReportCertificate[];
  readonly certificates: ReportCertificate[];
  readonly kubeconfigs: ReportCertificate[];
  readonly keys: ReportKey[];
  readonly csrs: ReportCsr[];
  readonly tokens: ReportToken[];
  readonly trust: ReportTrust[];
  /** The CAs and keys in a rotation. */
  readonly rotations: ReportRotation[];
  /** Every node plan of the app's clusters: who receives what. */
  readonly nodePlans: NodePlan[];
}

/** Which nodes receive a key or token slot, or a certificate (by SHA-256 of its DER), in the node plans. */
export interface Receivers {
  bySlot(slot: string | undefined): string[];
  byFingerprint(fingerprint: string): string[];
}

/**
 * The receivers of every planned file: keys and tokens by reference, certificates by the PEM text of the file.
 * Nodes are named `<node>`, or `<cluster>/<node>` when the plans come from more than one cluster.
 */
export function receiversOf(plans: NodePlan[]): Receivers {
  const clusters = new Set(plans.map((p) => p.cluster ?? ''));
  // Sets keep the order nodes were added in; a CA that every node receives would make an array's check quadratic.
  const slots = new Map<string, Set<string>>();
  const fingerprints = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, key: string, node: string) => {
    const nodes = map.get(key);
    if (nodes) nodes.add(node);
    else map.set(key, new Set([node]));
  };
  // Every node carries the same CA files: their text is decoded and hashed once.
  const certificatesIn = new Map<string, string[]>();
  const fingerprintsOf = (text: string): string[] => {
    let known = certificatesIn.get(text);
    if (!known) certificatesIn.set(text, (known = pemBlocks(text).flatMap((block) => (block.label === 'CERTIFICATE' ? [sha256Hex(block.der)] : []))));
    return known;
  };
  for (const plan of plans) {
    const node = clusters.size > 1 ? `${plan.cluster}/${plan.node}` : plan.node;
    for (const { content } of plan.files) {
      if ('key' in content) add(slots, content.key.slot, node);
      if ('tokenSlot' in content) add(slots, content.tokenSlot, node);
      if (content.kind === 'text') for (const fingerprint of fingerprintsOf(content.text)) add(fingerprints, fingerprint, node);
    }
  }
  const list = (nodes: Set<string> | undefined) => (nodes ? [...nodes] : []);
  return { bySlot: (slot) => (slot === undefined ? [] : list(slots.get(slot))), byFingerprint: (fingerprint) => list(fingerprints.get(fingerprint)) };
}

/** `CN=…, O=…, OU=…, L=…, ST=…, C=…` */
export function formatName(dn: DistinguishedName): string {
  const parts: [string, string | string[] | undefined][] = [
    ['CN', dn.commonName],
    ['O', dn.organizations],
    ['OU', dn.organizationalUnits],
    ['L', dn.locality],
    ['ST', dn.province],
    ['C', dn.country],
  ];
  return parts.flatMap(([attr, value]) => (value === undefined ? [] : [value].flat().map((v) => `${attr}=${v}`))).join(', ');
}

/** `DNS:…, IP Address:…, URI:…, email:…` (a CSR's SANs), in the certificate's order within each kind (as openssl prints them). */
export function formatSans(sans: SubjectAltNames): string {
  return [
    ...(sans.dnsNames ?? []).map((v) => `DNS:${v}`),
    ...(sans.ipAddresses ?? []).map((v) => `IP Address:${v}`),
    ...(sans.uris ?? []).map((v) => `URI:${v}`),
    ...(sans.emails ?? []).map((v) => `email:${v}`),
  ].join(', ');
}

/** As `openssl x509 -noout -fingerprint -sha256` prints it (without the prefix): upper-case hex pairs joined by colons. */
function colonHex(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(':');
}

/** SHA-256 of a public key's SubjectPublicKeyInfo, the fingerprint of a key with no certificate. */
export function publicKeyFingerprint(key: crypto.KeyObject): string {
  return colonHex(sha256Hex(spkiDer(key)));
}
