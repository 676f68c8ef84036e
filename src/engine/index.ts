// The X.509 engine: keys, certificates and CSRs over node:crypto and typed ASN.1. No cdk8s here.
export { SpecError, StateError, locateErrors } from './errors';
export * from './keys';
export * from './spec';
export * from './names';
export { Certificate, issueCertificate, IssueOptions, Signer, BACKDATE_SECONDS, canonicalIp } from './x509';
export { CertificateSigningRequest, createCsr, issueFromCsr, CsrProfile } from './csr';
export { toPem, pemBlocks, sha256Hex, rancherCaChecksum } from './pem';
export { Entropy, systemEntropy, seededEntropy } from './entropy';
