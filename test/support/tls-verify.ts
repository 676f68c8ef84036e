// openssl verify of many leaves against one CA bundle in one process (the trust matrix makes a thousand
// verdicts, so one process per leaf and bundle would be far too many on a small machine), and the oracle its
// verdicts are compared with: which CA signed a leaf, read with node's X509Certificate, not with the engine.
import { X509Certificate } from 'node:crypto';
import { run } from './programs';

export type OpensslPurpose = 'sslserver' | 'sslclient';

export interface OpensslVerdict {
  readonly ok: boolean;
  /** openssl's reasons for a refusal ("unable to get local issuer certificate" …); empty when ok. */
  readonly errors: string[];
}

/** The PEM certificate blocks of `text`, in order. */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?-----END CERTIFICATE-----\r?\n?/g) ?? [];
}

/** Every certificate of a PEM bundle, parsed by node. */
export function parseBundle(text: string): X509Certificate[] {
  return pemCertificates(text).map((pem) => new X509Certificate(pem));
}

/**
 * `openssl verify -x509_strict -purpose <purpose> -CAfile <bundle> <leaf>...`: one verdict per leaf file, read
 * from openssl's per-file lines ("<file>: OK", or "error <file>: verification failed" after the reasons).
 * Output that names a file neither way throws, so a changed format cannot pass for a refusal.
 */
export function opensslVerifyMany(bundleFile: string, purpose: OpensslPurpose, leafFiles: readonly string[]): Map<string, OpensslVerdict> {
  const verdicts = new Map<string, OpensslVerdict>();
  if (leafFiles.length === 0) return verdicts;
  const result = run('openssl', ['verify', '-x509_strict', '-purpose', purpose, '-CAfile', bundleFile, ...leafFiles]);
  // openssl writes OK lines to stdout and the reasons to stderr; "error <file>: verification failed" goes to
  // stderr too, after that file's reasons, so the reasons are read in stderr's order.
  const ok = new Set(result.stdout.split('\n').flatMap((line) => (line.endsWith(': OK') ? [line.slice(0, -': OK'.length)] : [])));
  let reasons: string[] = [];
  const failed = new Map<string, string[]>();
  for (const line of result.stderr.split('\n')) {
    const reason = /^error \d+ at \d+ depth lookup: (.*)$/.exec(line);
    const verdict = /^error (.*): verification failed$/.exec(line);
    if (reason) reasons.push(reason[1]);
    else if (verdict) {
      failed.set(verdict[1], reasons);
      reasons = [];
    }
  }
  for (const file of leafFiles) {
    if (ok.has(file) === failed.has(file)) throw new Error(`openssl verify gave no single verdict for ${file}:\n${result.stdout}${result.stderr}`);
    verdicts.set(file, { ok: ok.has(file), errors: failed.get(file) ?? [] });
  }
  if ((result.status === 0) !== (failed.size === 0)) throw new Error(`openssl verify exited ${result.status} with ${failed.size} refusals:\n${result.stderr}`);
  return verdicts;
}

/** The one certificate of `authorities` that issued `leaf`: names chain (checkIssued) and its key verifies the signature. */
export function signerOf(leaf: X509Certificate, authorities: readonly X509Certificate[]): X509Certificate | undefined {
  const signers = authorities.filter((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  if (signers.length > 1) throw new Error(`${leaf.subject} verifies under ${signers.length} of the given CAs`);
  return signers[0];
}

/** Whether `bundle` holds `certificate` (byte for byte). */
export const holds = (bundle: readonly X509Certificate[], certificate: X509Certificate): boolean => bundle.some((c) => c.raw.equals(certificate.raw));
