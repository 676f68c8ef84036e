// Every prop name of the constructs that check them (checkKnownProps): a prop misspelled in JavaScript or JSON is
// refused by name instead of ignored. `PropNames<T>` makes each list complete: a prop added to an interface and
// not here is a compile error.
import { PropNames } from '../src/engine/spec';
import type { BootstrapTokenProps } from './bootstrap-token';
import type { CertificateProps, ClusterIssuerProps, IssuerProps } from './cert-manager';
import type { KubeCertificateSigningRequestProps } from './certificate-signing-request';
import type { ClusterCAProps } from './cluster-ca';
import type { ControlPlanePkiProps, TlsBootstrapOptions } from './control-plane-pki';
import type { RancherIngressTLSProps } from './rancher-ingress-tls';
import type { TlsCertificateProps } from './tls-certificate';

export const CLUSTER_CA_PROPS: PropNames<ClusterCAProps> = {
  commonName: true, organizations: true, organizationalUnits: true, country: true, province: true, locality: true, dnsNames: true,
  keyAlgorithm: true, validity: true, renewBefore: true, pathLength: true, nameConstraints: true, issuer: true, existing: true,
  bundleName: true, bundleNamespace: true, state: true, stateSlot: true,
};

export const TLS_CERTIFICATE_PROPS: PropNames<TlsCertificateProps> = {
  ca: true, commonName: true, organizations: true, dnsNames: true, ipAddresses: true, usage: true, validity: true, renewBefore: true,
  keyAlgorithm: true, keyPolicy: true,
};

export const BOOTSTRAP_TOKEN_PROPS: PropNames<BootstrapTokenProps> = {
  token: true, ttl: true, expires: true, usages: true, groups: true, description: true, secretOutput: true, state: true, stateSlot: true,
};

export const CONTROL_PLANE_PKI_PROPS: PropNames<ControlPlanePkiProps> = { cluster: true, tlsBootstrap: true };

export const TLS_BOOTSTRAP_OPTIONS: PropNames<TlsBootstrapOptions> = {
  token: true, rbacPrefix: true, autoApprove: true, tokenAuthFile: true, serverTlsBootstrap: true, kubeletServingApprover: true,
};

export const CSR_PROPS: PropNames<KubeCertificateSigningRequestProps> = {
  signerName: true, commonName: true, organizations: true, dnsNames: true, ipAddresses: true, keyAlgorithm: true, csrPem: true,
  usages: true, expirationSeconds: true, name: true, approver: true, state: true, stateSlot: true,
};

export const CLUSTER_ISSUER_PROPS: PropNames<ClusterIssuerProps> = { name: true, selfSigned: true, ca: true, acme: true, syncWave: true };

export const ISSUER_PROPS: PropNames<IssuerProps> = { ...CLUSTER_ISSUER_PROPS, namespace: true };

export const CERTIFICATE_PROPS: PropNames<CertificateProps> = {
  issuer: true, name: true, namespace: true, secretName: true, secretTemplate: true, commonName: true, dnsNames: true, ipAddresses: true,
  uris: true, emailAddresses: true, subject: true, literalSubject: true, duration: true, renewBefore: true, renewBeforePercentage: true,
  isCA: true, usages: true, privateKey: true, syncWave: true,
};

export const RANCHER_INGRESS_TLS_PROPS: PropNames<RancherIngressTLSProps> = {
  hostname: true, allowHostnameChange: true, mode: true, email: true, environment: true, ingressClass: true, certificate: true,
  cacertsPem: true, agentTLSMode: true, version: true, repoURL: true, chart: true, project: true, destinationServer: true,
  applicationName: true, applicationNamespace: true, secretOutput: true,
};
