/**
 * What a CA rotation means for Rancher: the order of cacerts.pem and what the agents need per phase. No cdk8s here.
 *
 * Rancher pins the bytes of cacerts, not the set of CAs: CATTLE_CA_CHECKSUM is the SHA-256 of the setting
 * (rancher/rancher pkg/systemtemplate/import.go CAChecksum), and each agent's start script compares it with the hash of what
 * /v3/settings/cacerts serves, exiting on a mismatch (package/run.sh). Every checksum change therefore costs a
 * restart of the Rancher pods and a redeploy of every downstream cluster's agents. Trust itself does not depend
 * on the order (the agent loads the file into a pool of roots: cmd/agent/main.go rootCATransport), so cacerts
 * keeps the old CA first for the whole rotation rather than following the signing CA: the checksum then changes
 * twice (trust-both adds the new CA, drop-old removes the old one), not three times.
 */
import { Certificate } from '../engine/x509';
import { RotationPhase } from '../state/rotation-policy';
import { cacertsChecksumCommand } from './modes';
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

/**
 * cacerts.pem for a CA in rotation `phase` (undefined: none), whose trust bundle is `trustBundlePem` and whose
 * trusted certificates are `trusted`, signing first: the old CA first in every phase.
 */
export function rotationCacerts(trustBundlePem: string, trusted: readonly Certificate[], phase: RotationPhase | undefined): string {
  if (phase === undefined) return trustBundlePem;
  // The signing CA is listed first: the old one until issue-from-new, the new one from then on.
  return orderCacerts(trustBundlePem, phase === 'issue-from-new' ? [...trusted].reverse() : trusted);
}

/** The steps, in order, once cacerts changed (rancher-docs, "Updating a Private CA Certificate", steps 3 to 5). */
function agentSteps(hostname: string): string[] {
  return [
    `  1. once Secret tls-ca is applied, restart Rancher, which reads cacerts.pem at start: kubectl -n cattle-system rollout restart deploy/rancher`,
    `  2. check: ${cacertsChecksumCommand(hostname)} prints the checksum below`,
    `  3. redeploy each downstream cluster's agents with it (Rancher does not on its own):`,
    `     kubectl annotate clusters.management.cattle.io <cluster-id> io.cattle.agent.force.deploy=true`,
    `  4. Force Update each cluster in Continuous Delivery (fleet-agent's kubeconfig carries the CA)`,
    `  An agent that restarts before step 3 exits: "Configured cacerts checksum ... does not match given --ca-checksum".`,
  ];
}

/**
 * Header lines of the values file for the phase of the CA behind cacerts.pem (none before and after a rotation).
 * They depend on the phase only, so that declaring a phase again writes the same bytes.
 */
export function rotationNotes(phase: RotationPhase | undefined, hostname: string): string[] {
  switch (phase) {
    case undefined:
      return [];
    case 'trust-both':
      return [
        'CA rotation, phase trust-both: cacerts.pem holds the old CA, then the new one, so the checksum is not the one of before',
        '(after a rollback from issue-from-new it is the trust-both one again, unchanged). Before the next phase:',
        ...agentSteps(hostname),
      ];
    case 'issue-from-new':
      return [
        'CA rotation, phase issue-from-new: the new CA issues the served certificate; cacerts.pem keeps its trust-both bytes',
        '(the old CA stays first), so the checksum is unchanged and agents that run with it since trust-both need nothing.',
      ];
    case 'drop-old':
      return ['CA rotation, phase drop-old: cacerts.pem holds only the new CA, so the checksum changed again. Now:', ...agentSteps(hostname)];
  }
}
