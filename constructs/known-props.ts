// Every prop of the constructs that check them (checkKnownProps), with what it holds: a prop misspelled, or of the
// wrong kind, in JavaScript or JSON is refused by name instead of ignored or failing deep inside. `PropNames<T>`
// makes each list complete: a prop added to an interface and not here is a compile error.
import { PropKind, PropNames } from '../src/engine/spec';
import type { BootstrapTokenProps } from './bootstrap-token';
import type { CertificateProps, ClusterIssuerProps, IssuerProps } from './cert-manager';
import type { CertificateSigningRequestProps } from './certificate-signing-request';
import type { ClusterCAProps } from './cluster-ca';
import type { ControlPlanePkiProps, TlsBootstrapOptions, TokenAuthFileOptions } from './control-plane-pki';
import type { RancherIngressTLSProps } from './rancher-ingress-tls';
import type { TlsCertificateProps } from './tls-certificate';

// Objects of this library, known by a member only they have.
const CLUSTER_CA: PropKind = { has: 'issue', what: 'a ClusterCA' };
const CERTIFICATE_ISSUER: PropKind = { has: 'issue', what: 'a ClusterCA or an OfflineRootCA' };
const PKI_STATE: PropKind = { has: 'ensure', what: 'a PkiState' };
const SECRET_OUTPUT: PropKind = { has: 'policy', what: 'a SecretOutput (SecretOutput.omit(), .sealed(…), .plaintext())' };
const SERVING_CERTIFICATE: PropKind = { has: 'origin', what: 'a RancherServingCertificate (fromClusterCa or fromPem)' };

export const CLUSTER_CA_PROPS: PropNames<ClusterCAProps> = {
  commonName: 'string', organizations: 'strings', organizationalUnits: 'strings', country: 'string', province: 'string', locality: 'string',
  dnsNames: 'strings', keyAlgorithm: 'string', validity: 'duration', renewBefore: 'duration', pathLength: 'number', nameConstraints: 'object',
  issuer: CERTIFICATE_ISSUER, bundleName: 'string', bundleNamespace: 'string', state: PKI_STATE, stateSlot: 'string', rotation: 'object',
};

export const TLS_CERTIFICATE_PROPS: PropNames<TlsCertificateProps> = {
  ca: CLUSTER_CA, commonName: 'string', organizations: 'strings', dnsNames: 'strings', ipAddresses: 'strings', usage: 'string', validity: 'duration',
  renewBefore: 'duration', keyAlgorithm: 'string', keyPolicy: 'string', secret: 'object-or-false',
};

export const BOOTSTRAP_TOKEN_PROPS: PropNames<BootstrapTokenProps> = {
  token: 'string', ttl: 'duration', renewBefore: 'duration', expires: 'date-or-string', usages: 'strings', groups: 'strings', description: 'string',
  secretOutput: SECRET_OUTPUT, state: PKI_STATE, stateSlot: 'string',
};

export const CONTROL_PLANE_PKI_PROPS: PropNames<ControlPlanePkiProps> = { cluster: 'string-or-object', tlsBootstrap: 'object' };

export const TLS_BOOTSTRAP_OPTIONS: PropNames<TlsBootstrapOptions> = {
  token: 'object', rbacPrefix: 'string', autoApprove: 'boolean', tokenAuthFile: 'boolean-or-object', serverTlsBootstrap: 'boolean', kubeletServingApprover: 'object',
};

export const TOKEN_AUTH_FILE_OPTIONS: PropNames<TokenAuthFileOptions> = { user: 'string', uid: 'string' };

export const CSR_PROPS: PropNames<CertificateSigningRequestProps> = {
  signerName: 'string', commonName: 'string', organizations: 'strings', dnsNames: 'strings', ipAddresses: 'strings', keyAlgorithm: 'string',
  usages: 'strings', expirationSeconds: 'number-or-duration', name: 'string', approver: 'object', state: PKI_STATE, stateSlot: 'string',
};

export const CLUSTER_ISSUER_PROPS: PropNames<ClusterIssuerProps> = { name: 'string', selfSigned: 'boolean', ca: 'object', acme: 'object', syncWave: 'number' };

export const ISSUER_PROPS: PropNames<IssuerProps> = { ...CLUSTER_ISSUER_PROPS, namespace: 'string' };

export const CERTIFICATE_PROPS: PropNames<CertificateProps> = {
  issuer: 'object', name: 'string', namespace: 'string', secretName: 'string', secretTemplate: 'object', commonName: 'string', dnsNames: 'strings',
  ipAddresses: 'strings', uris: 'strings', emailAddresses: 'strings', subject: 'object', literalSubject: 'string', duration: 'duration',
  renewBefore: 'duration', renewBeforePercentage: 'number', isCA: 'boolean', usages: 'strings', privateKey: 'object', syncWave: 'number',
};

export const RANCHER_INGRESS_TLS_PROPS: PropNames<RancherIngressTLSProps> = {
  hostname: 'string', allowHostnameChange: 'boolean', mode: 'string', email: 'string', environment: 'string', ingressClass: 'string',
  certificate: SERVING_CERTIFICATE, cacertsPem: 'string', agentTLSMode: 'string', version: 'string', install: 'string', repoURL: 'string', chart: 'string',
  project: 'string', destinationServer: 'string', applicationName: 'string', applicationNamespace: 'string', secretOutput: SECRET_OUTPUT,
};
