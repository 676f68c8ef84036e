import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiObject, App, Duration, Names } from 'cdk8s';
import { Construct } from 'constructs';
import type { Application } from '../imports/argoproj.io';
import { certificateAnnotations } from '../src/engine/annotations';
import { locateErrors, SpecError } from '../src/engine/errors';
import { KeyAlgorithm } from '../src/engine/keys';
import { describeFsError } from '../src/state/fs-errors';
import {
  AgentTlsMode,
  CA_SECRET,
  CACERTS_KEY,
  checkRancherTlsSpec,
  INGRESS_TLS_SECRET,
  LetsEncryptEnvironment,
  planRancherTls,
  RANCHER_NAMESPACE,
  RANCHER_STABLE_REPOSITORY,
  RancherHelmValues,
  RancherInstall,
  RancherTlsMode,
  recordHostname,
  renderValuesFile,
  rotationNotes,
  ServingCertificateInput,
} from '../src/rancher';
import { PlannedContent, renderContent } from '../src/content/planned-content';
import { ClusterCA, ICertificateAuthority } from './cluster-ca';
import { emitSecret, SecretOutput } from './secret-output';
import { pkiStateOf, slotOf } from './state';
import { TlsCertificate } from './tls-certificate';
import { RotationPhase } from '../src/state/rotation-policy';
import { checkKnownProps } from '../src/engine/spec';
import { RANCHER_INGRESS_TLS_PROPS } from './known-props';
import { checkRancherInstall, recordSingleNodePlan } from '../src/rancher/single-node';

type ServingCertificateSource =
  | { readonly kind: 'cluster-ca'; readonly ca: ICertificateAuthority; readonly validity?: Duration; readonly keyAlgorithm?: KeyAlgorithm }
  | { readonly kind: 'pem'; readonly certificateChainPem: string; readonly privateKeyPem: string };

/** The certificate Rancher's Ingress serves in `secret` mode (Secret tls-rancher-ingress). */
export class RancherServingCertificate {
  /**
   * Issued by `ca` for the hostname (CN and DNS name, serverAuth), its key kept in the state. tls.crt is the
   * certificate then the CA's intermediates; the CA's trust bundle (the CA, then its issuers) is uploaded as
   * cacerts.pem. `validity` defaults to 8760h, `keyAlgorithm` to "ecdsa-p256"; changing either, or the hostname,
   * re-issues the certificate (same key unless the algorithm changes).
   */
  static fromClusterCa(ca: ICertificateAuthority, options: { readonly validity?: Duration; readonly keyAlgorithm?: KeyAlgorithm } = {}): RancherServingCertificate {
    return new RancherServingCertificate({ kind: 'cluster-ca', ca, ...options });
  }

  /**
   * Brought as PEM: the certificate followed by its intermediates (no root), and its key. When its CA is
   * private, give the CA as the construct's `cacertsPem`.
   */
  static fromPem(props: { readonly certificateChainPem: string; readonly privateKeyPem: string }): RancherServingCertificate {
    return new RancherServingCertificate({ kind: 'pem', ...props });
  }

  /** Where the certificate comes from: issued by a CA of the app, or brought as PEM. */
  readonly origin: ServingCertificateSource['kind'];

  private constructor(source: ServingCertificateSource) {
    this.origin = source.kind;
    SOURCES.set(this, source);
  }
}

// Kept beside the instances rather than on them: a brought key must not be reachable as a property.
const SOURCES = new WeakMap<RancherServingCertificate, ServingCertificateSource>();

/** The Rancher hostname, TLS mode and its inputs, and the chart the Argo CD Application installs. */
export interface RancherIngressTLSProps {
  /**
   * The DNS name Rancher is reached at (chart value `hostname`). Rancher cannot be renamed after install: the
   * hostname is recorded in the state, and changing it fails synth unless `allowHostnameChange` is set.
   */
  readonly hostname: string;
  /** Accept a hostname other than the recorded one, for a deliberate reinstall or migration. @default - false */
  readonly allowHostnameChange?: boolean;
  /**
   * Who provides the Ingress certificate: `rancher` (Rancher's own CA through cert-manager), `letsEncrypt`
   * (cert-manager's ACME issuer), `secret` (brought: `certificate`), or `external` (TLS ends in front of Rancher).
   * Changing it changes the chart values, and usually the CA agents pin: after a CATTLE_CA_CHECKSUM change, agents
   * of registered clusters need the `io.cattle.agent.force.deploy=true` annotation to pick up the new CA.
   * @default - "rancher"
   */
  readonly mode?: RancherTlsMode;
  /** `letsEncrypt` mode: the ACME account email (chart value `letsEncrypt.email`). Required in that mode. @default - none */
  readonly email?: string;
  /** `letsEncrypt` mode: the ACME server. @default - "production" */
  readonly environment?: LetsEncryptEnvironment;
  /** `letsEncrypt` mode: the ingress class of the HTTP-01 solver (`letsEncrypt.ingress.class`). @default - none: the cluster's default */
  readonly ingressClass?: string;
  /** `secret` mode: the certificate served for `hostname`. Required in that mode. @default - none */
  readonly certificate?: RancherServingCertificate;
  /**
   * The CA agents pin, uploaded as Secret tls-ca (key cacerts.pem) with `privateCA: true`: root, or intermediate
   * then root. For `secret` mode with a PEM certificate from a private CA, for `external` when the front's CA is
   * private, and for `letsEncrypt` when agents are strict or the environment is staging. Its exact bytes decide
   * CATTLE_CA_CHECKSUM, so changing them changes the checksum (see `mode`); Rancher reads it only when its pods
   * start. With `RancherServingCertificate.fromClusterCa` it comes from the CA: during the CA's rotation, the CAs
   * of the phase with the old one first, so the checksum changes at trust-both and drop-old only
   * (docs/rotation.md), and the values file's header says what the agents need in each phase.
   * @default - none: a public CA, and Rancher runs with --no-cacerts
   */
  readonly cacertsPem?: string;
  /**
   * How agents verify Rancher (chart value `agentTLSMode`): `strict` trusts only the cacerts setting,
   * `system-store` also the agent's system trust store. Once set through Helm, it can only be changed through Helm.
   * @default - unset: Rancher's default (strict on new 2.9+ installs, system-store kept on upgrades)
   */
  readonly agentTLSMode?: AgentTlsMode;
  /** The chart version to install (the Application's targetRevision). Changing it upgrades Rancher at the next sync. */
  readonly version: string;
  /**
   * How Rancher is installed: `helm`, the chart into a Kubernetes cluster (the Application below), or `docker`,
   * one container on a Docker host (`docker run rancher/rancher:v<version>`, Rancher's single-node install).
   * With `docker`, synth also records in the state what `cdk8s-pki export-rancher` writes for the container
   * (cert.pem, key.pem, cacerts.pem per `mode`) and the `docker run` line it prints; the synth summary and
   * `cdk8s-pki plan` say to export again when that changes (a re-issued certificate, a new CA). The Helm objects
   * are synthesized in both cases, so that the construct's members are the same: a docker install applies none
   * of them. Changing it re-issues nothing.
   * @default - "helm"
   */
  readonly install?: RancherInstall;
  /** The Helm repository. Changing it makes Argo CD fetch the chart from there. @default - "https://releases.rancher.com/server-charts/stable" */
  readonly repoURL?: string;
  /** The chart's name in the repository. @default - "rancher" */
  readonly chart?: string;
  /** The Argo CD project of the Application. @default - "default" */
  readonly project?: string;
  /**
   * The cluster Argo CD installs Rancher into. Changing it installs Rancher in another cluster.
   * @default - "https://kubernetes.default.svc" (Argo CD's own cluster)
   */
  readonly destinationServer?: string;
  /** The Application's name. Changing it makes a new Application; the old one is left to prune. @default - "rancher" */
  readonly applicationName?: string;
  /** Argo CD's namespace, where the Application lives. @default - "argocd" */
  readonly applicationNamespace?: string;
  /**
   * What becomes of Secret tls-rancher-ingress in `secret` mode (it holds the key): left out (`cdk8s-pki
   * export-secrets` writes it), sealed, or plaintext by explicit choice. Secret tls-ca is public and always written.
   * @default - the app's policy (`useSecretOutput`), omit unless set
   */
  readonly secretOutput?: SecretOutput;
}

/** Where the served-certificate checks' fields come from, so errors name the prop. */
const SERVED_PROP_FIELDS = {
  certificateChainPem: 'certificate.certificateChainPem',
  privateKeyPem: 'certificate.privateKeyPem',
};

/**
 * Rancher's Ingress TLS: the rancher chart's TLS values, the Secrets Rancher expects in cattle-system
 * (tls-rancher-ingress when brought, tls-ca when a CA is uploaded), an Argo CD Application installing the chart
 * with those values, and the CATTLE_CA_CHECKSUM agents will be given. Synth also writes the values as a Helm
 * values file beside the manifests (`valuesFileName`), headed by the checksum. The Secrets belong in the cluster
 * before Rancher starts: Rancher reads tls-ca only at pod start. For a single-node Rancher (`docker run`), set
 * `install: 'docker'`: `cdk8s-pki export-rancher` then writes the files its container mounts from the same spec,
 * and prints its command.
 */
export class RancherIngressTLS extends Construct {
  /** The chart values that decide TLS, as the Application carries them. */
  readonly values: RancherHelmValues;
  /** CATTLE_CA_CHECKSUM: hex SHA-256 of the uploaded CA; "" under --no-cacerts; undefined when Rancher makes its CA at install. */
  readonly caChecksum?: string;
  /** Why `caChecksum` is what it is, or how to read it after install. */
  readonly caChecksumReason: string;
  /** The certificate issued from a ClusterCA in `secret` mode. */
  readonly servingCertificate?: TlsCertificate;
  /** Secret tls-rancher-ingress (or its SealedSecret), when the secret output policy writes one. */
  readonly ingressTlsSecret?: ApiObject;
  /** Secret tls-ca, when a CA is uploaded. */
  readonly caSecret?: ApiObject;
  /** The Argo CD Application installing the Rancher chart into cattle-system with the synthesized values. */
  readonly application: Application;
  /** The values file synth writes into the app's output directory. */
  readonly valuesFileName: string;
  /** Its content. */
  readonly valuesFile: string;

  constructor(scope: Construct, id: string, props: RancherIngressTLSProps) {
    super(scope, id);
    locateErrors(this.node.path, () => checkKnownProps(props, RANCHER_INGRESS_TLS_PROPS));
    const { spec, install } = locateErrors(this.node.path, () => {
      if (typeof props.version !== 'string' || props.version.trim() === '') throw new SpecError('version', 'is required: the chart version to install');
      const installedBy = checkRancherInstall(props.install);
      const checked = checkRancherTlsSpec(props);
      if (props.certificate && SOURCES.get(props.certificate)!.kind === 'cluster-ca' && props.cacertsPem !== undefined) {
        throw new SpecError('cacertsPem', 'comes from the ClusterCA of RancherServingCertificate.fromClusterCa; leave it out');
      }
      recordHostname(pkiStateOf(this), slotOf(this), checked.hostname, props.allowHostnameChange ?? false);
      return { spec: checked, install: installedBy };
    });
    const served = props.certificate && this.serve(props.certificate, spec.hostname, props.cacertsPem);
    this.servingCertificate = served?.issued;
    const plan = locateErrors(this.node.path, () => planRancherTls(spec, served?.input), SERVED_PROP_FIELDS);
    for (const warning of plan.warnings) process.stderr.write(`cdk8s-pki: warning: ${this.node.path}: ${warning}\n`);
    this.values = plan.values;
    // Only on request: a document recorded for every install would change the state of an app that did not.
    if (install === 'docker') {
      recordSingleNodePlan(pkiStateOf(this), slotOf(this), {
        construct: this.node.path,
        hostname: spec.hostname,
        mode: spec.mode,
        version: props.version,
        ...(served && { certificate: { chainPem: served.input.certificateChainPem, key: served.key } }),
        ...(plan.cacertsPem !== undefined && { cacertsPem: plan.cacertsPem }),
      });
    }
    this.caChecksum = plan.caChecksum;
    this.caChecksumReason = plan.caChecksumReason;

    if (served) {
      this.ingressTlsSecret = emitSecret(
        this,
        'ingress-tls',
        { name: INGRESS_TLS_SECRET, namespace: RANCHER_NAMESPACE, type: 'kubernetes.io/tls', data: { 'tls.crt': { kind: 'text', text: served.input.certificateChainPem }, 'tls.key': served.key } },
        props.secretOutput,
      );
    }
    if (plan.cacertsPem !== undefined) {
      // Public material, so not subject to the secret output policy; `data`, so that the bytes the checksum is
      // computed over are the bytes mounted.
      this.caSecret = new ApiObject(this, 'tls-ca', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: CA_SECRET, namespace: RANCHER_NAMESPACE, annotations: certificateAnnotations([{ name: CACERTS_KEY, pem: plan.cacertsPem }]) },
        type: 'Opaque',
        data: { [CACERTS_KEY]: Buffer.from(plan.cacertsPem).toString('base64') },
      });
    }

    const repoURL = props.repoURL ?? RANCHER_STABLE_REPOSITORY;
    const chart = props.chart ?? 'rancher';
    const applicationName = props.applicationName ?? 'rancher';
    const applicationNamespace = props.applicationNamespace ?? 'argocd';
    // The Argo CD CRD import is required here, by the one construct that makes an Application.
    const { Application: ArgoApplication } = require('../imports/argoproj.io') as typeof import('../imports/argoproj.io');
    this.application = new ArgoApplication(this, 'application', {
      metadata: { name: applicationName, namespace: applicationNamespace },
      spec: {
        project: props.project ?? 'default',
        source: {
          repoUrl: repoURL,
          chart,
          targetRevision: props.version,
          // Rancher's docs install release "rancher"; the Issuer and Service names follow it.
          helm: { releaseName: 'rancher', valuesObject: plan.values },
        },
        destination: { server: props.destinationServer ?? 'https://kubernetes.default.svc', namespace: RANCHER_NAMESPACE },
        syncPolicy: { syncOptions: ['CreateNamespace=true'] },
      },
    });

    this.valuesFileName = `${Names.toDnsLabel(this, { includeHash: false })}-values.yaml`;
    this.valuesFile = renderValuesFile(plan, [
      `Helm values of chart ${chart} ${props.version} (${repoURL}), release rancher in namespace ${RANCHER_NAMESPACE}, from ${this.node.path}.`,
      `Argo CD Application ${applicationNamespace}/${applicationName} installs the chart with these values (spec.source.helm.valuesObject).`,
      ...rotationNotes(served?.rotationPhase, spec.hostname),
    ]);
    // cdk8s writes nothing but manifests. The state runs this once its commit succeeded (inside App.synth(),
    // before the manifests are written), so the file never carries a checksum of a CA the state does not hold.
    pkiStateOf(this).onCommitted(() => this.writeValuesFile());
  }

  private serve(
    certificate: RancherServingCertificate,
    hostname: string,
    cacertsPem: string | undefined,
  ): { input: Omit<ServingCertificateInput, 'hostname'>; key: PlannedContent; issued?: TlsCertificate; rotationPhase?: RotationPhase } {
    const source = SOURCES.get(certificate)!;
    if (source.kind === 'pem') {
      return { input: { certificateChainPem: source.certificateChainPem, privateKeyPem: source.privateKeyPem, cacertsPem }, key: { kind: 'text', text: source.privateKeyPem } };
    }
    const issued = new TlsCertificate(this, 'serving-certificate', {
      ca: source.ca,
      commonName: hostname,
      dnsNames: [hostname],
      usage: 'server',
      validity: source.validity,
      keyAlgorithm: source.keyAlgorithm,
      secret: false, // delivered as tls-rancher-ingress below
    });
    const key: PlannedContent = { kind: 'private-key', key: issued.keyReference };
    return {
      input: { certificateChainPem: issued.fullChainPem, privateKeyPem: renderContent(pkiStateOf(this), key), cacertsPem: cacertsOf(source.ca) },
      key,
      issued,
      rotationPhase: rotationPhaseOf(source.ca),
    };
  }

  private writeValuesFile(): void {
    const app = this.node.root;
    if (!(app instanceof App)) return; // no output directory to write into
    try {
      fs.mkdirSync(app.outdir, { recursive: true });
      fs.writeFileSync(path.join(app.outdir, this.valuesFileName), this.valuesFile);
    } catch (err) {
      throw new SpecError('valuesFileName', `cannot write ${path.join(app.outdir, this.valuesFileName)}: ${describeFsError(err)}`, this.node.path);
    }
  }
}

/** The rotation phase of a ClusterCA of this app (other authorities do not rotate here). */
function rotationPhaseOf(ca: ICertificateAuthority): RotationPhase | undefined {
  return ca instanceof ClusterCA ? ca.rotationPhase : undefined;
}

/** cacerts.pem of a CA of the app: its trust bundle, old CA first during a rotation so the checksum changes only twice. */
function cacertsOf(ca: ICertificateAuthority): string {
  return ca instanceof ClusterCA ? ca.rancherCacertsPem : ca.trustBundlePem;
}
