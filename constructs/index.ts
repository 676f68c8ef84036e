// The construct library, and the engine types its props and outputs use.
import { installErrorReporter } from '../src/report';

// A bad prop under `cdk8s synth` prints `cdk8s-pki: path: field: reason`, not a stack trace.
installErrorReporter();

export * from './cluster-ca';
export * from './tls-certificate';
export { usePkiState, pkiStateOf } from './state';
export { ENV_FROZEN, ENV_STATE_DIR } from '../src/state/environment';
export { PkiState, Credential, CredentialRequest, Issuer, PendingChange } from '../src/state/pki-state';
export { MemoryStore, DirectoryStore, StateStore } from '../src/state/store';
export * from '../src/engine';
export * from './kubeadm-certificates';
export * from './kubeconfig';
export * from './service-account-key';
export * from './control-plane-pki';
export * from './bootstrap-token';
export * from './node-bootstrap-rbac';
export * from './cluster-info';
export * from './secret-output';
export * from './certificate-signing-request';
export * from './rancher-ingress-tls';
export * as certManager from './cert-manager';
export * as kubeadm from '../src/kubeadm';
export * as bootstrap from '../src/bootstrap';
export * as certificatesApi from '../src/certificates-api';
export * as rancher from '../src/rancher';
export { reportErrors } from '../src/report';
