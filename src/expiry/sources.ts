/** What `check-expiration` checks: the state's certificates and tokens, or an exported /etc/kubernetes tree. */
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { SpecError } from '../engine/errors';
import { PkiState } from '../state/pki-state';
import { ExpiryItem } from './check-expiration';

/**
 * Every certificate of the state (kubeconfig identities included: they are certificate slots) and every
 * bootstrap token, named by slot. A leaf's CA is the slot of the one CA of the state with its issuer's common
 * name, else that name; a leaf whose CA is not in the state (`ClusterCA.fromExisting`) is externally managed.
 */
export function stateExpiryItems(state: PkiState): ExpiryItem[] {
  const certificates = state.inventory();
  const caSlots = (commonName: string) => certificates.filter((c) => c.isCA && c.commonName === commonName).map((c) => c.slot);
  const items: ExpiryItem[] = certificates.map((c) => {
    if (c.isCA) return { kind: 'certificate-authority', name: c.slot, source: c.slot, notAfter: c.notAfter, externallyManaged: false };
    const slots = caSlots(c.issuer);
    return { kind: 'certificate', name: c.slot, source: c.slot, notAfter: c.notAfter, caName: slots.length === 1 ? slots[0] : c.issuer, externallyManaged: slots.length === 0 };
  });
  for (const token of state.secretInventory()) items.push({ kind: 'token', name: token.slot, source: token.slot, ...(token.expiresAt ? { notAfter: token.expiresAt } : {}) });
  return items;
}

/** The certificate in `data` (PEM, first block, or DER); `where` and `field` name it in the error, which never quotes the content. */
function certificateOf(data: Buffer, where: string, field = ''): X509Certificate {
  try {
    return new X509Certificate(data);
  } catch {
    throw new SpecError(field, 'does not hold a PEM or DER certificate', where);
  }
}

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new SpecError('', `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, file);
  }
}

interface TreeCertificate {
  readonly name: string;
  readonly source: string;
  readonly certificate: X509Certificate;
}

/** pki/*.crt and pki/etcd/*.crt, named as kubeadm names them: `apiserver`, and `etcd-` before the etcd ones (`etcd-ca`, `etcd-server`). */
function pkiCertificates(dir: string): (TreeCertificate & { keyPresent: boolean })[] {
  const found: (TreeCertificate & { keyPresent: boolean })[] = [];
  for (const [sub, prefix] of [['pki', ''], ['pki/etcd', 'etcd-']] as const) {
    const folder = path.join(dir, sub);
    if (!fs.existsSync(folder)) continue;
    for (const file of fs.readdirSync(folder).filter((f) => f.endsWith('.crt')).sort()) {
      const full = path.join(folder, file);
      found.push({
        name: prefix + file.slice(0, -'.crt'.length),
        source: `${sub}/${file}`,
        certificate: certificateOf(readFile(full), full),
        keyPresent: fs.existsSync(full.slice(0, -'.crt'.length) + '.key'),
      });
    }
  }
  return found;
}

/**
 * The client certificates of the kubeconfig `file`: each user's `client-certificate-data`, or its
 * `client-certificate` file (a relative path from the kubeconfig's directory, as kubectl reads it). A file that
 * is not there gives a certificate without a date (`!MISSING!`). Named by the kubeconfig (`admin.conf`), with
 * `/<user>` when it has several.
 */
function kubeconfigCertificates(dir: string, file: string): (Omit<TreeCertificate, 'certificate'> & { certificate?: X509Certificate })[] {
  const full = path.join(dir, file);
  const document = parseDocument(readFile(full).toString('utf8'));
  // The parser's message quotes the text around the fault, which here may be a private key: only the line is said.
  if (document.errors.length > 0) throw new SpecError('', `is not YAML (line ${document.errors[0].linePos?.[0].line ?? '?'})`, full);
  let config: unknown;
  try {
    config = document.toJS(); // bounded alias expansion: a resource-exhaustion document is refused
  } catch {
    throw new SpecError('', 'is not YAML data a kubeconfig can be (its aliases expand too far)', full);
  }
  const users = typeof config === 'object' && config !== null ? (config as { users?: unknown }).users : undefined;
  if (users === undefined || users === null) return [];
  if (!Array.isArray(users)) throw new SpecError('users', 'must be a list of named users', full);
  const withCertificates = users.flatMap((entry: unknown, i) => {
    const { name, user } = (typeof entry === 'object' && entry !== null ? entry : {}) as { name?: unknown; user?: Record<string, unknown> };
    if (typeof user !== 'object' || user === null) return [];
    const data = user['client-certificate-data'];
    const reference = user['client-certificate'];
    if (data === undefined && reference === undefined) return [];
    return [{ i, userName: String(name ?? i), data, reference }];
  });
  return withCertificates.map(({ i, userName, data, reference }) => {
    const name = withCertificates.length === 1 ? file : `${file}/${userName}`;
    if (data !== undefined) {
      const field = `users[${i}].user.client-certificate-data`;
      if (typeof data !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(data)) throw new SpecError(field, 'must be base64', full);
      return { name, source: file, certificate: certificateOf(Buffer.from(data, 'base64'), full, field) };
    }
    const field = `users[${i}].user.client-certificate`;
    if (typeof reference !== 'string' || reference === '') throw new SpecError(field, 'must be the path of a certificate file', full);
    const target = path.resolve(path.dirname(full), reference);
    if (!fs.existsSync(target)) return { name, source: reference };
    return { name, source: reference, certificate: certificateOf(readFile(target), target) };
  });
}

/**
 * The certificates of an exported tree (a node's /etc/kubernetes, as `export-node` or kubeadm writes it):
 * CAs of pki/ and pki/etcd/ in the second table, their leaves and the kubeconfigs' client certificates in the
 * first. A leaf's CA is the tree's CA whose key signed it; as kubeadm says, a CA is externally managed when its
 * key is not beside it, and so is a certificate whose CA is (or is not in the tree).
 */
export function treeExpiryItems(dir: string): ExpiryItem[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new SpecError('--dir', `${dir} is not a directory`);
  const pki = pkiCertificates(dir);
  const kubeconfigs = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.conf') && fs.statSync(path.join(dir, f)).isFile())
    .sort()
    .flatMap((f) => kubeconfigCertificates(dir, f));
  if (pki.length === 0 && kubeconfigs.length === 0) throw new SpecError('--dir', `${dir} holds no pki/*.crt, pki/etcd/*.crt or *.conf with a client certificate: not a node's /etc/kubernetes`);
  const cas = pki.filter((c) => c.certificate.ca);
  const issuerOf = (certificate: X509Certificate) => cas.find((ca) => ca.certificate !== certificate && certificate.checkIssued(ca.certificate) && certificate.verify(ca.certificate.publicKey));
  const items: ExpiryItem[] = cas.map((ca) => ({ kind: 'certificate-authority', name: ca.name, source: ca.source, notAfter: new Date(ca.certificate.validTo), externallyManaged: !ca.keyPresent }));
  for (const leaf of [...pki.filter((c) => !c.certificate.ca), ...kubeconfigs]) {
    if (!leaf.certificate) {
      items.push({ kind: 'certificate', name: leaf.name, source: leaf.source });
      continue;
    }
    const ca = issuerOf(leaf.certificate);
    const issuerName = /(?:^|\n)CN=([^\n]*)/.exec(leaf.certificate.issuer)?.[1] ?? leaf.certificate.issuer;
    items.push({ kind: 'certificate', name: leaf.name, source: leaf.source, notAfter: new Date(leaf.certificate.validTo), caName: ca?.name ?? issuerName, externallyManaged: !ca || !ca.keyPresent });
  }
  return items;
}
