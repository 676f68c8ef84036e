// The Kubernetes certificates API (certificates.k8s.io/v1) as data: what the API server, its admission plugins and
// the built-in signers accept in a CertificateSigningRequest. No cdk8s here.
export * from './csr-policy';
