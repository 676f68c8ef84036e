import { PkiState } from '../../src/state/pki-state';

const DAY = 86_400;

/**
 * The smallest PKI a state test needs: a ten-year CA and a one-year server certificate under it. Another
 * `caValidityDays` re-issues the CA, and so the leaf under it: a change that spans several entries.
 */
export function issueCaAndLeaf(state: PkiState, caValidityDays = 3650) {
  const ca = state.ensure({ slot: 'cluster/ca', keyAlgorithm: 'ecdsa-p256', spec: { subject: { commonName: 'kubernetes' }, ca: {}, validitySeconds: caValidityDays * DAY } });
  const leaf = state.ensure({
    slot: 'cluster/apiserver',
    keyAlgorithm: 'ecdsa-p256',
    spec: { subject: { commonName: 'kube-apiserver' }, extendedKeyUsage: ['serverAuth'], validitySeconds: 365 * DAY },
    issuer: { certificate: ca.certificate, privateKey: ca.privateKey, chain: [] },
  });
  return { ca, leaf };
}
