/**
 * Checks of a brought serving certificate (Secret tls-rancher-ingress) against what Rancher's clients do with it:
 * browsers and kubectl match the hostname and build the chain up to a root they trust; Rancher's agents pin the
 * cacerts setting and check that the served chain reaches its last certificate. No cdk8s here.
 */
import * as tls from 'node:tls';
import { SpecError } from '../engine/errors';
import { privateKeyFromPem, samePublicKey } from '../engine/keys';
import { Certificate } from '../engine/x509';

/** A certificate brought for Rancher's Ingress, and the CA that verifies it, as they are checked. */
export interface ServingCertificateInput {
  /** Rancher's hostname: what clients ask for. */
  readonly hostname: string;
  /** tls.crt: the leaf, then its intermediates, no root. */
  readonly certificateChainPem: string;
  /** tls.key: the leaf's key (a credential). */
  readonly privateKeyPem: string;
  /** The uploaded CA (cacerts.pem): root, or intermediate then root. Absent: the CA must be a public one. */
  readonly cacertsPem?: string;
}

/**
 * Throws a SpecError (fields `certificateChainPem`, `privateKeyPem`, `cacertsPem`) when the certificate would
 * fail a client: a key that is not the certificate's, a hostname it does not cover, a chain out of order, a
 * root in tls.crt, a missing intermediate, or a private CA that is not uploaded.
 */
export function checkServingCertificate(input: ServingCertificateInput): void {
  const chain = Certificate.allFromPem(input.certificateChainPem, 'certificateChainPem');
  const cacerts = input.cacertsPem === undefined ? undefined : checkCacerts(input.cacertsPem);
  const leaf = chain[0];
  if (!samePublicKey(privateKeyFromPem(input.privateKeyPem), leaf.publicKey)) {
    throw new SpecError('privateKeyPem', `does not match the certificate ${nameOf(leaf)}: their public keys differ`);
  }
  const dnsNames = leaf.sans.dnsNames ?? [];
  if (!dnsNames.some((pattern) => dnsNameCovers(pattern, input.hostname))) {
    throw new SpecError(
      'certificateChainPem',
      `the certificate ${nameOf(leaf)} does not cover hostname "${input.hostname}" (its DNS names: ${dnsNames.length ? dnsNames.join(', ') : 'none'}; clients ignore the CN): ` +
        `browsers and agents would fail with "x509: certificate is valid for …, not ${input.hostname}"`,
    );
  }
  checkIssuedInOrder(chain, 'certificateChainPem', 'leaf first, then each intermediate');
  const top = chain[chain.length - 1];
  if (top.isSelfSigned) {
    throw new SpecError(`certificateChainPem[${chain.length - 1}]`, `${nameOf(top)} is self-signed: tls.crt holds the leaf then its intermediates, never the root (the root goes in cacertsPem)`);
  }
  if (cacerts) checkAnchoredInCacerts(top, cacerts);
  else checkAnchoredInPublicRoots(top);
}

/**
 * The certificates of an uploaded CA (cacerts.pem), refused unless PEM certificates in order: intermediate then
 * root. While a CA rotation is in progress it holds several CAs, each followed by its issuers (an issuer already
 * given is not repeated), so a chain ends at a root or at a certificate whose issuer came earlier, provided it
 * does not issue a later one before any earlier one (a root first, then its intermediate, is out of order).
 * The agent loads the whole file into its pool of roots (cmd/agent/main.go rootCATransport), so several chains work.
 */
export function checkCacerts(cacertsPem: string): Certificate[] {
  const cacerts = Certificate.allFromPem(cacertsPem, 'cacertsPem');
  const earlier = (i: number) => cacerts.slice(0, i);
  const endsChain = (i: number) => {
    const issuesOnlyLater = cacerts.slice(i + 1).some((later) => issuedBy(later, cacerts[i])) && !earlier(i).some((before) => issuedBy(before, cacerts[i]));
    return !issuesOnlyLater && (cacerts[i].isSelfSigned || earlier(i).some((before) => issuedBy(cacerts[i], before)));
  };
  cacerts.slice(1).forEach((parent, i) => {
    if (!endsChain(i) && !issuedBy(cacerts[i], parent)) {
      throw new SpecError(`cacertsPem[${i + 1}]`, `${nameOf(parent)} did not issue ${nameOf(cacerts[i])}: give the certificates in order, intermediate then root`);
    }
  });
  return cacerts;
}

/**
 * Whether a certificate DNS name covers `hostname`, as Go's crypto/x509 and browsers match: case-insensitive,
 * a trailing dot ignored, and a wildcard only as the whole leftmost label, standing for exactly one label.
 */
export function dnsNameCovers(pattern: string, hostname: string): boolean {
  const labels = (name: string) => name.toLowerCase().replace(/\.$/, '').split('.');
  const want = labels(hostname);
  const have = labels(pattern);
  if (want.length !== have.length || want.some((label) => label === '')) return false;
  return have.every((label, i) => label === want[i] || (i === 0 && label === '*'));
}

function checkIssuedInOrder(certificates: Certificate[], field: string, order: string): void {
  certificates.slice(1).forEach((parent, i) => {
    const child = certificates[i];
    if (!issuedBy(child, parent)) {
      throw new SpecError(`${field}[${i + 1}]`, `${nameOf(parent)} did not issue ${nameOf(child)}: give the certificates in order, ${order}`);
    }
  });
}

/**
 * The top of the served chain must be issued by the top of a chain of cacerts (its root): Rancher's agent
 * compares the issuer of the last certificate served with that of the last one in cacerts, and a client that
 * trusts only the root needs every intermediate served.
 */
function checkAnchoredInCacerts(top: Certificate, cacerts: Certificate[]): void {
  const anchor = cacerts.findIndex((ca) => issuedBy(top, ca));
  const above = anchor === -1 || cacerts[anchor].isSelfSigned ? -1 : cacerts.findIndex((ca) => issuedBy(cacerts[anchor], ca));
  if (anchor === -1) {
    throw new SpecError(
      'certificateChainPem',
      `does not verify up to cacertsPem: ${nameOf(top)} was issued by "${top.issuer.commonName}", which cacertsPem does not hold; ` +
        `give the CA that issued the certificate (root, or intermediate then root), and every intermediate after the leaf`,
    );
  }
  if (above !== -1) {
    throw new SpecError(
      'certificateChainPem',
      `misses the intermediate ${nameOf(cacerts[anchor])}: append it after ${nameOf(top)}; clients that trust only the root fail, ` +
        `and Rancher's agent reports "Certificate chain is not complete"`,
    );
  }
}

function checkAnchoredInPublicRoots(top: Certificate): void {
  if (publicRoots().some((root) => issuedBy(top, root))) return;
  throw new SpecError(
    'cacertsPem',
    `is required: ${nameOf(top)} was issued by "${top.issuer.commonName}", which is not a public root (Node's bundled Mozilla store). ` +
      `Without an uploaded CA the chart runs Rancher with --no-cacerts, CATTLE_CA_CHECKSUM is empty and agents fail with ` +
      `"x509: certificate signed by unknown authority". For a private CA give it as cacertsPem (root, or intermediate then root: ` +
      `privateCA=true and Secret tls-ca); for a public CA, add the missing intermediates to the chain`,
  );
}

let parsedPublicRoots: Certificate[] | undefined;

function publicRoots(): Certificate[] {
  parsedPublicRoots ??= tls.rootCertificates.map((pem) => Certificate.fromPem(pem));
  return parsedPublicRoots;
}

/** Whether `parent` issued `child`: same name and a signature its key verifies. */
export function issuedBy(child: Certificate, parent: Certificate): boolean {
  if (!child.issuerDer.equals(parent.subjectDer)) return false;
  try {
    return child.isSignedBy(parent.publicKey);
  } catch {
    // OpenSSL refuses some key and digest pairs outright (an Ed25519 key with a SHA-256 signature): not the issuer.
    return false;
  }
}

function nameOf(certificate: Certificate): string {
  return `"${certificate.subject.commonName}"`;
}
