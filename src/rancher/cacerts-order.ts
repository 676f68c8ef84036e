/**
 * The order of cacerts.pem while a CA rotation is in progress. No cdk8s here.
 *
 * Rancher pins the bytes of cacerts, not the set of CAs: CATTLE_CA_CHECKSUM is the SHA-256 of the setting
 * (pkg/systemtemplate/import.go CAChecksum), and each agent's start script compares it with the hash of what
 * /v3/settings/cacerts serves, exiting on a mismatch (package/run.sh). Every checksum change therefore costs a
 * restart of the Rancher pods and a redeploy of every downstream cluster's agents. Trust itself does not depend
 * on the order (the agent loads the file into a pool of roots: cmd/agent/main.go rootCATransport), so cacerts
 * keeps the old CA first for the whole rotation rather than following the signing CA: the checksum then changes
 * twice (trust-both adds the new CA, drop-old removes the old one), not three times.
 */
import { Certificate } from '../engine/x509';
import { issuedBy } from './serving-certificate';

/**
 * `bundlePem` (trusted CAs, each followed by its issuers) reordered so that the CAs of `oldestFirst` come in that
 * order, each still followed by its issuers; an issuer already written is not repeated. Returns `bundlePem` itself
 * when the order does not change, so a CA that is not rotating keeps its bytes.
 */
export function orderCacerts(bundlePem: string, oldestFirst: readonly Certificate[]): string {
  const bundle = Certificate.allFromPem(bundlePem, 'cacertsPem');
  const ordered: Certificate[] = [];
  const add = (certificate: Certificate) => {
    if (!ordered.some((c) => c.der.equals(certificate.der))) ordered.push(certificate);
  };
  for (const trusted of oldestFirst) {
    for (let c: Certificate | undefined = trusted; c; c = c.isSelfSigned ? undefined : bundle.find((parent) => issuedBy(c!, parent))) add(c);
  }
  bundle.forEach(add); // anything the walk did not reach keeps its place at the end
  const same = ordered.every((c, i) => c.der.equals(bundle[i].der));
  return same ? bundlePem : ordered.map((c) => c.pem).join('');
}

