import stableStringify from 'fast-json-stable-stringify';
import { Duration, Names } from 'cdk8s';
import {
  KubeCertificateSigningRequest as CertificateSigningRequestObject,
  KubeClusterRole,
  KubeClusterRoleBinding,
} from 'cdk8s-plus-28/lib/imports/k8s';
import { Construct } from 'constructs';
import {
  approverRules,
  checkCertificateSigningRequest,
  checkSignerName,
  defaultUsagesFor,
  KubernetesKeyUsage,
  readCertificateSigningRequestPem,
  RequestedNames,
} from '../src/certificates-api/csr-policy';
import { CertificateSigningRequest as ParsedCsr, createCsr } from '../src/engine/csr';
import { locateErrors, SpecError } from '../src/engine/errors';
import { DEFAULT_KEY_ALGORITHM, KeyAlgorithm } from '../src/engine/keys';
import { sha256Hex } from '../src/engine/pem';
import { isDns1123Label, isDns1123Subdomain } from '../src/engine/names';
import { checkKnownProps, validateCertificateSpec } from '../src/engine/spec';
import { checkKeyAlgorithm, KeyReference, PkiState } from '../src/state/pki-state';
import { pkiStateOf, slotOf } from './state';
import { CSR_PROPS } from './known-props';

/** Who may approve the request: an RBAC subject. */
export interface CsrApprover {
  /** The RBAC subject kind of the approver. */
  readonly kind: 'User' | 'Group' | 'ServiceAccount';
  /** The user, group or ServiceAccount name. */
  readonly name: string;
  /** The ServiceAccount's namespace: required for a ServiceAccount, refused for a User or Group. @default - none */
  readonly namespace?: string;
}

/** What every CertificateSigningRequest takes, whether its key is kept in the state or the request is brought. */
export interface CertificateSigningRequestOptions {
  /**
   * spec.signerName: a built-in signer (`kubernetes.io/kube-apiserver-client`, `kubernetes.io/kube-apiserver-client-kubelet`,
   * `kubernetes.io/kubelet-serving`), whose rules are enforced at synth, or a custom `domain/path` signer, for which only
   * the API server's own checks apply. Changing it makes a new request.
   */
  readonly signerName: string;
  /**
   * spec.usages. Changing them makes a new request.
   * @default - the smallest set the built-in signer accepts (client signers: digital signature, client auth;
   * kubelet-serving: digital signature, server auth); required for a custom signer
   */
  readonly usages?: KubernetesKeyUsage[];
  /**
   * spec.expirationSeconds: the requested lifetime, at least 600 seconds. kube-controller-manager issues for the
   * smaller of this and its --cluster-signing-duration (8760h by default). Changing it makes a new request.
   * @default - the signer decides
   */
  readonly expirationSeconds?: number | Duration;
  /**
   * metadata.name. The API server ignores spec changes to an existing CertificateSigningRequest, so with a fixed
   * name a changed request never reaches the cluster until the old object is deleted.
   * @default - derived from the construct path and a digest of the spec: stable while the request is unchanged,
   * and a new object (the old one pruned) when it changes
   */
  readonly name?: string;
  /**
   * A subject allowed to approve requests for this signer: gets a ClusterRole (get/list/watch requests, update
   * their approval, `approve` on this signer only) and a ClusterRoleBinding. Metadata only.
   * @default - none
   */
  readonly approver?: CsrApprover;
}

/** A request for a key made and kept in the state, which never leaves it. */
export interface CertificateSigningRequestProps extends CertificateSigningRequestOptions {
  /**
   * The requested subject CN. Changing it makes a new request with the same key.
   */
  readonly commonName: string;
  /** Subject O values (Kubernetes groups). Changing them makes a new request, same key. @default - none */
  readonly organizations?: string[];
  /** DNS SANs. Changing them makes a new request, same key. @default - none */
  readonly dnsNames?: string[];
  /** IP SANs. Changing them makes a new request, same key. @default - none */
  readonly ipAddresses?: string[];
  /**
   * The key type. Made once and kept in the state; a different value later is refused rather than replacing the
   * key.
   * @default - "ecdsa-p256"
   */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** The state that keeps the key. @default - the app's state (see `pkiStateOf`) */
  readonly state?: PkiState;
  /** Where in the state the key lives. Changing it makes a new key. @default - derived from the construct path */
  readonly stateSlot?: string;
}

/** A request made elsewhere (`CertificateSigningRequest.fromCsrPem`). */
export interface CsrFromPemProps extends CertificateSigningRequestOptions {
  /**
   * PEM `CERTIFICATE REQUEST`, whose key stays with whoever made it: parsed, its self-signature verified, and
   * carried unchanged. Its subject, SANs and key are its own.
   */
  readonly csrPem: string;
}

/** Marks the construction `fromCsrPem` asks for; not part of the props a user passes. */
const BROUGHT = Symbol('request brought as PEM');

/** Request fields → the props they come from, so errors name the prop. */
const KEY_PROP_FIELDS = {
  'subject.commonName': 'commonName',
  'subject.organizations': 'organizations',
  'sans': 'dnsNames', // "needs a DNS or IP SAN": dnsNames is where one usually goes
  'sans.dnsNames': 'dnsNames',
  'sans.ipAddresses': 'ipAddresses',
  'slot': 'stateSlot',
};
const PEM_PROP_FIELDS = { subject: 'csrPem.subject', sans: 'csrPem.sans', request: 'csrPem' };

/**
 * A certificates.k8s.io/v1 CertificateSigningRequest, checked at synth against what the API server, its admission
 * plugins and the built-in signers would do with it, so a request that would be rejected on create, or approved
 * and then marked Failed, never reaches the cluster. Either the key is kept in the state (only the request is
 * synthesized) or a request made elsewhere is carried (`fromCsrPem`). The request bytes are the same on every synth while the key,
 * subject and SANs are unchanged.
 *
 * kube-controller-manager deletes a CertificateSigningRequest an hour after it is approved, denied or failed (24
 * hours while pending), so a tool that keeps re-applying the manifest re-creates it; read the issued certificate
 * before then.
 */
export class CertificateSigningRequest extends Construct {
  /** Carries a request made elsewhere; no key of it is in the state. */
  static fromCsrPem(scope: Construct, id: string, props: CsrFromPemProps): CertificateSigningRequest {
    const { csrPem, ...options } = props;
    return new CertificateSigningRequest(scope, id, { ...options, [BROUGHT]: csrPem } as unknown as CertificateSigningRequestProps);
  }

  /** The request as synthesized (spec.request, before base64). */
  readonly requestPem: string;
  /** The PKCS#10 request, parsed: its subject, SANs and public key. */
  readonly request: ParsedCsr;
  /** `spec.signerName`. */
  readonly signerName: string;
  /** `spec.usages`, as the API server takes them. */
  readonly usages: KubernetesKeyUsage[];
  /** `spec.expirationSeconds`, when asked for. */
  readonly expirationSeconds?: number;
  /** metadata.name of the CertificateSigningRequest. */
  readonly name: string;
  /** The certificates.k8s.io/v1 CertificateSigningRequest object. */
  readonly resource: CertificateSigningRequestObject;
  /** Where the key lives in the state; absent for a request brought as `csrPem`. */
  readonly keyReference?: KeyReference;
  /** With an `approver`: the ClusterRole granting `approve` on this signer. */
  readonly approverRole?: KubeClusterRole;
  /** With an `approver`: its ClusterRoleBinding to the approver. */
  readonly approverBinding?: KubeClusterRoleBinding;

  constructor(scope: Construct, id: string, props: CertificateSigningRequestProps) {
    super(scope, id);
    locateErrors(this.node.path, () => checkKnownProps(props, CSR_PROPS));
    const where = this.node.path;
    const common = locateErrors(where, () => {
      checkSignerName(props.signerName);
      const usages = props.usages ?? defaultUsagesFor(props.signerName);
      if (usages === undefined) {
        throw new SpecError('usages', `is required for the custom signer ${props.signerName}: only the built-in signers have a default`);
      }
      const expirationSeconds = props.expirationSeconds instanceof Duration ? props.expirationSeconds.toSeconds({ integral: false }) : props.expirationSeconds;
      if (props.approver) checkApprover(props.approver);
      if (props.name !== undefined && !isDns1123Subdomain(props.name)) {
        throw new SpecError('name', `${JSON.stringify(props.name)} is not a lower-case RFC 1123 subdomain`);
      }
      return { signerName: props.signerName, usages: [...usages], expirationSeconds };
    });
    this.signerName = common.signerName;
    this.usages = common.usages;
    this.expirationSeconds = common.expirationSeconds;

    const brought = (props as { [BROUGHT]?: string })[BROUGHT];
    if (brought !== undefined) {
      this.request = locateErrors(where, () => this.fromPem(brought), PEM_PROP_FIELDS);
    } else {
      const made = locateErrors(where, () => this.fromStateKey(props), KEY_PROP_FIELDS);
      this.request = made.request;
      this.keyReference = made.keyReference;
    }
    this.requestPem = this.request.pem;

    const spec = {
      request: Buffer.from(this.requestPem).toString('base64'),
      signerName: this.signerName,
      usages: this.usages,
      ...(this.expirationSeconds === undefined ? {} : { expirationSeconds: this.expirationSeconds }),
    };
    this.name = props.name ?? defaultName(this, spec);
    this.resource = new CertificateSigningRequestObject(this, 'Resource', { metadata: { name: this.name }, spec });

    if (props.approver) {
      this.approverRole = new KubeClusterRole(this, 'ApproverRole', { rules: approverRules(this.signerName) });
      this.approverBinding = new KubeClusterRoleBinding(this, 'ApproverBinding', {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: this.approverRole.name },
        subjects: [
          props.approver.kind === 'ServiceAccount'
            ? { kind: 'ServiceAccount', name: props.approver.name, namespace: props.approver.namespace }
            : { apiGroup: 'rbac.authorization.k8s.io', kind: props.approver.kind, name: props.approver.name },
        ],
      });
    }
  }

  private fromPem(csrPem: string): ParsedCsr {
    const request = readCertificateSigningRequestPem(csrPem, 'csrPem');
    checkCertificateSigningRequest({ signerName: this.signerName, usages: this.usages, expirationSeconds: this.expirationSeconds, csr: request });
    return request;
  }

  private fromStateKey(props: CertificateSigningRequestProps): { request: ParsedCsr; keyReference: KeyReference } {
    const keyAlgorithm = props.keyAlgorithm ?? DEFAULT_KEY_ALGORITHM;
    checkKeyAlgorithm(keyAlgorithm);
    const names: RequestedNames = {
      subject: { commonName: props.commonName, ...(props.organizations && { organizations: props.organizations }) },
      sans: { ...(props.dnsNames && { dnsNames: props.dnsNames }), ...(props.ipAddresses && { ipAddresses: props.ipAddresses }) },
    };
    // Everything is checked before a key is drawn, so a refused request leaves nothing staged in the state.
    validateCertificateSpec({ ...names, validitySeconds: 3600 });
    checkCertificateSigningRequest({ signerName: this.signerName, usages: this.usages, expirationSeconds: this.expirationSeconds, csr: names });
    const state = props.state ?? pkiStateOf(this);
    const slot = props.stateSlot ?? slotOf(this);
    const key = state.ensureKey(slot, keyAlgorithm);
    // A deterministic signature: the request in the manifest changes only when its key or names do.
    return { request: createCsr(names, key.privateKey, { deterministicSignature: true }), keyReference: { slot, generation: key.generation } };
  }
}

function checkApprover(approver: CsrApprover): void {
  if (!['User', 'Group', 'ServiceAccount'].includes(approver.kind)) {
    throw new SpecError('approver.kind', `must be User, Group or ServiceAccount (got ${JSON.stringify(approver.kind)})`);
  }
  if (typeof approver.name !== 'string' || approver.name.length === 0) throw new SpecError('approver.name', 'is required');
  if (approver.kind === 'ServiceAccount') {
    if (!isDns1123Subdomain(approver.name)) throw new SpecError('approver.name', `${JSON.stringify(approver.name)} is not a valid ServiceAccount name (a lower-case RFC 1123 subdomain)`);
    if (approver.namespace === undefined) throw new SpecError('approver.namespace', 'is required for a ServiceAccount');
    if (!isDns1123Label(approver.namespace)) throw new SpecError('approver.namespace', `${JSON.stringify(approver.namespace)} is not a valid namespace (a lower-case RFC 1123 label)`);
  } else if (approver.namespace !== undefined) {
    throw new SpecError('approver.namespace', `applies to a ServiceAccount only (a ${approver.kind} is cluster-wide)`);
  }
}

/** The construct path as a DNS label and a digest of the path and spec: a changed request is a new object. */
function defaultName(scope: Construct, spec: object): string {
  const digest = sha256Hex(stableStringify({ path: scope.node.path, spec })).slice(0, 8);
  return `${Names.toDnsLabel(scope, { includeHash: false, maxLen: 54 })}-${digest}`;
}
