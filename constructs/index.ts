// The public API, name by name: the constructs, the state a test or an app binds, and the types their props
// and outputs use. Engine helpers (keys, PEM, X.509, CSRs) are under `engine`; kubeadm's catalog, the
// bootstrap-token, certificates-API and Rancher rules under their own namespaces.
import { installErrorReporter } from '../src/report';

// A bad prop under `cdk8s synth` prints `cdk8s-pki: path: field: reason`, not a stack trace.
installErrorReporter();

export { ClusterCA, ClusterCAProps, ClusterCABundleProps, ExistingClusterCAProps, OfflineRootCA, ICertificateAuthority, CertificateRequest, IssuedCertificate, DEFAULT_CA_VALIDITY } from './cluster-ca';
export { SignedCertificate, SignedCertificateOptions, SignedCertificateRequest, DEFAULT_CERTIFICATE_VALIDITY } from './signed-certificate';
export { TlsCertificate, TlsCertificateProps, TlsSecretOptions, TLS_USAGES } from './tls-certificate';
export {
  KubeadmCertificate,
  KubeadmCertificateProps,
  KubeadmCertificateOptions,
  ControlPlaneNodeProps,
  ApiServerCert,
  ApiServerCertProps,
  EtcdMemberCertProps,
  EtcdServerCert,
  EtcdPeerCert,
  ApiServerKubeletClientCert,
  ApiServerEtcdClientCert,
  FrontProxyClientCert,
  EtcdHealthcheckClientCert,
} from './kubeadm-certificates';
export { Kubeconfig, KubeconfigProps } from './kubeconfig';
export { ServiceAccountKey, ServiceAccountKeyProps } from './service-account-key';
export { ControlPlanePki, ControlPlanePkiProps, TlsBootstrapOptions, TokenAuthFileOptions } from './control-plane-pki';
export { BootstrapToken, BootstrapTokenProps } from './bootstrap-token';
export { NodeBootstrapRbac, NodeBootstrapRbacProps } from './node-bootstrap-rbac';
export { ClusterInfo, ClusterInfoProps } from './cluster-info';
export { CertificateSigningRequest, CertificateSigningRequestOptions, CertificateSigningRequestProps, CsrApprover, CsrFromPemProps } from './certificate-signing-request';
export { RancherIngressTLS, RancherIngressTLSProps, RancherServingCertificate } from './rancher-ingress-tls';
export { SecretOutput, useSecretOutput, PLAINTEXT_SECRET_ANNOTATION } from './secret-output';
export { usePkiState, pkiStateOf } from './state';
export { synthApp } from './testing';
export { PkiState, PkiStateOptions, KeyReference, PendingChange, SlotDecision, CaRotation, RotationPhase, ROTATION_PHASES, RotationDecision } from '../src/state/pki-state';
export { MemoryStore, DirectoryStore, StateStore } from '../src/state/store';
export { PostgresStore, PostgresStoreOptions } from '../src/state/postgres-store';
export { ENV_FROZEN, ENV_STATE, ENV_STATE_DIR } from '../src/state/environment';
export { SpecError, StateError } from '../src/engine/errors';
export { KeyAlgorithm } from '../src/engine/keys';
export { CertificateSpec, ExtendedKeyUsageName, NameConstraintsSpec } from '../src/engine/spec';
export { Certificate } from '../src/engine/x509';
export * as engine from '../src/engine';
export * as certManager from './cert-manager';
export * as kubeadm from '../src/kubeadm';
export * as bootstrap from '../src/bootstrap';
export * as certificatesApi from '../src/certificates-api';
export * as rancher from '../src/rancher';
export { reportErrors } from '../src/report';
