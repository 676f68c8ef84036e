/**
 * dist/PKI.md: the inventory as Markdown tables, one row per item, and the trust diagram as a Mermaid flowchart
 * (which GitHub and GitLab render in a pull request). The same report gives the same bytes: nothing of the
 * synth itself (no time, no host) is in it.
 *
 * The tables are written here rather than with markdown-table: that package is ESM-only (a construct cannot
 * load it synchronously), and it pads columns to one width, so one longer SAN would change every row of the
 * table. Unpadded rows make a changed certificate one changed line.
 */
import { X509Certificate } from 'node:crypto';
import { keyAlgorithmOf } from '../engine/keys';
import { Certificate } from '../engine/x509';
import { describeCertificate } from '../engine/annotations';
import { rfc3339Utc } from '../engine/time';
import { formatName, formatSans, PkiReport, publicKeyFingerprint, ReportCertificate, receiversOf } from './inventory';
import { nextPhase, phaseEffect } from './rotation';

/** The file's name in the app's output directory. */
export const PKI_REPORT_FILE = 'PKI.md';

/** A Markdown table; cells are escaped so that a value never breaks its row. */
function table(header: string[], rows: string[][]): string[] {
  // Most cells hold nothing to escape: tested once rather than replaced three times (thousands of rows).
  const cell = (value: string) => (value === '' ? '-' : !/[\\|\n]/.test(value) ? value : value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' '));
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)];
}

function section(title: string, intro: string, body: string[]): string[] {
  return body.length === 0 ? [] : [`## ${title}`, '', intro, '', ...body, ''];
}

/** What the report reads of a certificate besides its description. */
interface CertificateFacts {
  readonly keyAlgorithm: string;
  readonly commonName: string;
  readonly organizations: readonly string[];
  readonly selfSigned: boolean;
  readonly subjectDer: Buffer;
  readonly issuerDer: Buffer;
  readonly authorityKeyIdentifier?: Buffer;
  readonly subjectKeyIdentifier?: Buffer;
}

/**
 * By SHA-256 of the DER: the facts are a function of the bytes, and a synth that keeps thousands of certificates
 * would otherwise parse (and check the self-signature of) each of them again on every synth of the process.
 */
const facts = new Map<string, CertificateFacts>();

function factsOf(certificate: Certificate): CertificateFacts {
  const known = facts.get(certificate.fingerprintSha256);
  if (known) return known;
  const made: CertificateFacts = {
    // OpenSSL's parse of the certificate gives the key directly; the ASN.1 path would encode the SPKI again first.
    keyAlgorithm: keyAlgorithmOf(new X509Certificate(certificate.der).publicKey),
    commonName: certificate.subject.commonName,
    organizations: certificate.subject.organizations ?? [],
    selfSigned: certificate.isSelfSigned,
    subjectDer: certificate.subjectDer,
    issuerDer: certificate.issuerDer,
    authorityKeyIdentifier: certificate.authorityKeyIdentifier,
    subjectKeyIdentifier: certificate.subjectKeyIdentifier,
  };
  facts.set(certificate.fingerprintSha256, made);
  return made;
}

/** The certificate that issued `certificate` among `cas`: same name as its issuer, and its key identifier. */
export function issuerOf(certificate: Certificate, cas: ReportCertificate[]): ReportCertificate | undefined {
  const leaf = factsOf(certificate);
  if (leaf.selfSigned) return undefined;
  const aki = leaf.authorityKeyIdentifier;
  return cas.find((ca) => {
    if (ca.certificate === certificate) return false;
    const issuer = factsOf(ca.certificate);
    return issuer.subjectDer.equals(leaf.issuerDer) && (!aki || !issuer.subjectKeyIdentifier || aki.equals(issuer.subjectKeyIdentifier));
  });
}

/** The whole of dist/PKI.md. */
export function renderPkiReport(report: PkiReport): string {
  const receivers = receiversOf(report.nodePlans);
  const nodesOf = (c: ReportCertificate) => [...new Set([...receivers.bySlot(c.keySlot), ...receivers.byFingerprint(c.certificate.fingerprintSha256)])].join(', ');
  // The fields as the objects' reviewer annotations give them (openssl's formats), so PKI.md and the diff agree.
  const certificateRow = (c: ReportCertificate) => {
    const d = describeCertificate(c.certificate);
    return [c.name, d.subject, d.issuer, d.sans ?? '', factsOf(c.certificate).keyAlgorithm, d['not-before'], d['not-after'], nodesOf(c), d['sha256-fingerprint']];
  };
  const certificateHeader = (first: string) => [first, 'subject', 'issuer', 'SANs', 'key', 'not before', 'not after', 'nodes', 'SHA-256'];
  const lines = [
    '# PKI',
    '',
    'What this app\'s PKI is, written by `cdk8s synth` from the constructs and the PKI state. Review it in the pull',
    'request: one row per item, so a changed certificate, key or token is one changed line. Private keys and token',
    'secrets are never in it. Fingerprints are SHA-256 of the DER, as `openssl x509 -noout -fingerprint -sha256` prints them.',
    '',
    ...section(
      'Trust',
      `Solid arrows: a CA signs. Dotted arrows: a component verifies peers with a CA, through the flag or field named${
        report.rotations.length ? '; "trusted beside it": every verifier of a signing CA in a rotation trusts the other CA too' : ''
      }.`,
      ['```mermaid', ...trustDiagram(report), '```'],
    ),
    ...section(
      'Rotations',
      'CAs and keys in a rotation: the signing one and those trusted beside it (SHA-256 as in the tables below), what the phase did, and what declaring the next phase will do.',
      report.rotations.length
        ? table(
            ['authority', 'phase', 'signing', 'trusted only', 'this phase', 'next phase'],
            report.rotations.map((r) => [r.name, r.phase, r.signing, r.trustedOnly.join(', '), phaseEffect(r.kind, r.phase), nextPhase(r.kind, r.phase)]),
          )
        : [],
    ),
    ...section('Certificate authorities', 'Nodes: where the CA certificate or its key is written by `cdk8s-pki export-node`.', report.cas.length ? table(certificateHeader('CA'), report.cas.map(certificateRow)) : []),
    ...section('Certificates', 'Nodes: where the certificate is written by `cdk8s-pki export-node`; none when it is delivered otherwise (a Secret).', report.certificates.length ? table(certificateHeader('certificate'), report.certificates.map(certificateRow)) : []),
    ...section(
      'Kubeconfig identities',
      'The user is the client certificate\'s CN, the groups its O.',
      report.kubeconfigs.length
        ? table(
            ['kubeconfig', 'user', 'groups', 'issuer', 'key', 'not before', 'not after', 'nodes', 'SHA-256'],
            report.kubeconfigs.map((k) => {
              const d = describeCertificate(k.certificate);
              const f = factsOf(k.certificate);
              return [
                k.name,
                f.commonName,
                f.organizations.join(', '),
                d.issuer,
                f.keyAlgorithm,
                d['not-before'],
                d['not-after'],
                nodesOf(k),
                d['sha256-fingerprint'],
              ];
            }),
          )
        : [],
    ),
    ...section(
      'Keys',
      'Key pairs with no certificate. SHA-256: of the public key (SubjectPublicKeyInfo DER).',
      report.keys.length ? table(['key', 'algorithm', 'nodes', 'SHA-256'], report.keys.map((k) => [k.name, keyAlgorithmOf(k.publicKey), receivers.bySlot(k.keySlot).join(', '), publicKeyFingerprint(k.publicKey)])) : [],
    ),
    ...section(
      'Certificate signing requests',
      'Sent to the cluster\'s certificates API; the signer issues the certificate. SHA-256: of the public key.',
      report.csrs.length
        ? table(['request', 'signer', 'subject', 'SANs', 'key', 'SHA-256'], report.csrs.map((r) => [r.name, r.signerName, formatName(r.subject), formatSans(r.sans), keyAlgorithmOf(r.publicKey), publicKeyFingerprint(r.publicKey)]))
        : [],
    ),
    ...section(
      'Bootstrap tokens',
      'The token id is public; its secret is not shown.',
      report.tokens.length
        ? table(['token', 'id', 'expires', 'usages', 'groups', 'nodes'], report.tokens.map((t) => [t.name, t.tokenId, t.expiration ? rfc3339Utc(t.expiration) : 'never', t.usages.join(', '), t.groups.join(', '), receivers.bySlot(t.slot).join(', ')]))
        : [],
    ),
  ];
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}

/** Mermaid ids: letters, digits and underscores, made unique in order of first use. */
class MermaidIds {
  private readonly byKey = new Map<string, string>();
  private readonly taken = new Set<string>();

  /** The id of `key`, spelled after `readable`. */
  id(prefix: string, key: string, readable = key): string {
    const known = this.byKey.get(`${prefix}:${key}`);
    if (known) return known;
    const base = `${prefix}_${readable.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '')}`;
    let id = base;
    for (let n = 2; this.taken.has(id); n++) id = `${base}_${n}`;
    this.taken.add(id);
    this.byKey.set(`${prefix}:${key}`, id);
    return id;
  }
}

/** A quoted Mermaid label: `"` has no escape inside quotes but its entity. */
function label(...lines: string[]): string {
  return `"${lines.map((l) => l.replace(/"/g, '#quot;')).join('<br/>')}"`;
}

/**
 * The flowchart's lines: a hexagon per CA, a box per certificate (kubeadm's per-node copies of one certificate
 * share one) and a rounded box per kubeconfig, an arrow from each CA to what it signs, and a dotted arrow from
 * each component to the CA it trusts.
 */
export function trustDiagram(report: PkiReport): string[] {
  const ids = new MermaidIds();
  const caId = (ca: ReportCertificate) => ids.id('ca', ca.certificate.fingerprintSha256, ca.keySlot ?? factsOf(ca.certificate).commonName);
  const lines = ['flowchart LR'];
  const edges: string[] = [];
  for (const ca of report.cas) lines.push(`  ${caId(ca)}{{${label(`CA ${factsOf(ca.certificate).commonName}`, ca.name)}}}`);
  for (const ca of report.cas) {
    const issuer = issuerOf(ca.certificate, report.cas);
    if (issuer) edges.push(`  ${caId(issuer)} --> ${caId(ca)}`);
    const signer = ca.trustedBeside === undefined ? undefined : report.cas.find((c) => c.certificate.fingerprintSha256 === ca.trustedBeside);
    if (signer) edges.push(`  ${caId(signer)} -.->|${label('trusted beside it')}| ${caId(ca)}`);
  }
  const boxes = new Map<string, string>();
  const signs = new Set<string>();
  const leaves = (items: ReportCertificate[], prefix: string, open: string, close: string) => {
    const drawn = new Set<string>();
    for (const item of items) {
      const box = item.group?.id ?? item.name;
      const id = ids.id(prefix, box);
      boxes.set(box, id);
      if (!drawn.has(id)) lines.push(`  ${id}${open}${label(...(item.group ? item.group.label : [factsOf(item.certificate).commonName, item.name]))}${close}`);
      drawn.add(id);
      const issuer = issuerOf(item.certificate, report.cas);
      const edge = issuer && `  ${caId(issuer)} --> ${id}`;
      if (edge && !signs.has(edge)) edges.push(edge);
      if (edge) signs.add(edge);
    }
  };
  leaves(report.certificates, 'cert', '[', ']');
  leaves(report.kubeconfigs, 'kubeconfig', '([', '])');
  const byFingerprint = new Map(report.cas.map((ca) => [ca.certificate.fingerprintSha256, ca]));
  for (const trust of report.trust) {
    const ca = byFingerprint.get(trust.ca);
    if (!ca) continue;
    let id = trust.from === undefined ? undefined : boxes.get(trust.from);
    if (!id) {
      id = ids.id('cmp', `${trust.scope}_${trust.component}`);
      const node = `  ${id}[/${label(trust.component, trust.scope)}/]`;
      if (!lines.includes(node)) lines.push(node);
    }
    edges.push(`  ${id} -.->|${label(trust.via)}| ${caId(ca)}`);
  }
  return [...lines, ...edges];
}
