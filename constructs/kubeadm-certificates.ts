import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { locateErrors, SpecError } from '../src/engine/errors';
import { KeyAlgorithm } from '../src/engine/keys';
import { Certificate } from '../src/engine/x509';
import { CERTIFICATES, CertificateEntry, CertificateId, commonNameIsNodeName, commonNameOf } from '../src/kubeadm/catalog';
import { Cluster, ClusterSpec, ControlPlaneNode, NodeSpec, resolveCluster } from '../src/kubeadm/cluster-spec';
import { KeyReference } from '../src/state/pki-state';
import { ClusterCA } from './cluster-ca';
import { durationSeconds, renewBeforeWithin } from './durations';
import { DEFAULT_CERTIFICATE_VALIDITY } from './tls-certificate';

/** What every kubeadm certificate construct takes besides its CA. */
export interface KubeadmCertificateOptions {
  /** The CA that signs it (see the catalog for which one kubeadm uses). Changing it re-issues, key kept. */
  readonly ca: ClusterCA;
  /** Changing it makes a new key and re-issues. @default "ecdsa-p256" */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Re-issues the certificate. @default 8760h (kubeadm's certificateValidityPeriod) */
  readonly validity?: Duration;
  /** Re-issue once less than this remains. Metadata only. @default a third of `validity` */
  readonly renewBefore?: Duration;
}

export interface KubeadmCertificateProps extends KubeadmCertificateOptions {
  /** Which certificate of kubeadm's set (src/kubeadm/catalog.ts). */
  readonly certificate: CertificateId;
  /** The cluster, for SANs that depend on it; a certificate whose names do not (the clients) needs none. */
  readonly cluster?: Cluster;
  /** The node, for per-node certificates (CN or SANs from it); with `cluster`. */
  readonly node?: ControlPlaneNode;
}

/**
 * One certificate of kubeadm's control-plane set, as the catalog defines it: subject, usages and SAN rule
 * come from there; this construct only asks the CA. The named subclasses take friendlier props.
 */
export class KubeadmCertificate extends Construct {
  readonly entry: CertificateEntry;
  readonly certificate: Certificate;
  readonly certificatePem: string;
  readonly keyReference: KeyReference;

  constructor(scope: Construct, id: string, props: KubeadmCertificateProps) {
    super(scope, id);
    this.entry = CERTIFICATES[props.certificate];
    const entry = this.entry;
    locateErrors(this.node.path, () => {
      const perNode = entry.altNames !== undefined || entry.commonName === commonNameIsNodeName;
      if (perNode && (!props.node || !props.cluster)) throw new SpecError('node', `is required for ${entry.id}: its name or SANs come from the node and the cluster`);
    });
    const node: NodeSpec = props.node ?? { name: '', role: 'control-plane' };
    const [validitySeconds, renewBeforeSeconds] = locateErrors(this.node.path, () => {
      const validity = durationSeconds(props.validity ?? DEFAULT_CERTIFICATE_VALIDITY, 'validity');
      return [validity, renewBeforeWithin(props.renewBefore, validity)];
    });
    const issued = derivedSans(entry.id, () => props.ca.issue(this, {
      spec: {
        subject: { commonName: commonNameOf(this.entry, node), organizations: this.entry.organizations },
        sans: props.cluster && props.node && this.entry.altNames?.(props.cluster, props.node),
        extendedKeyUsage: this.entry.usages,
        validitySeconds,
      },
      keyAlgorithm: props.keyAlgorithm,
      renewBeforeSeconds,
      propNames: { validitySeconds: 'validity' },
    }));
    this.certificate = issued.certificate;
    this.certificatePem = issued.certificatePem;
    this.keyReference = issued.keyReference;
  }
}

/** A SAN that kubeadm's rule derived is refused by the CA's name constraints: the CA is what to change. */
function derivedSans<T>(certificate: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw err instanceof SpecError && err.field.startsWith('sans.') ? err.about('ca', `a SAN kubeadm gives ${certificate}`) : err;
  }
}

/** A control-plane node as the per-node certificates need it. */
export interface ControlPlaneNodeProps {
  /** Node name: a SAN (apiserver, etcd) or the CN (etcd). */
  readonly name: string;
  /** Advertise address. */
  readonly ip: string;
  /** More addresses of the node, added to the SANs. @default none */
  readonly additionalIps?: string[];
}

export interface ApiServerCertProps extends KubeadmCertificateOptions {
  /** The control-plane node this kube-apiserver runs on. Changing it re-issues. */
  readonly node: ControlPlaneNodeProps;
  /** Service CIDRs, one per family; the first IP of the first (primary) one is a SAN, as in kubeadm. Re-issues. @default ["10.96.0.0/12"] */
  readonly serviceSubnets?: string[];
  /** Re-issues. @default "cluster.local" */
  readonly dnsDomain?: string;
  /** host[:port] of the load balancer; its host is a SAN. Re-issues. @default the node's IP */
  readonly controlPlaneEndpoint?: string;
  /** More SANs: an IP if it parses as one, else a DNS name. Adding one re-issues this certificate only. @default none */
  readonly extraSANs?: string[];
}

/** kube-apiserver's serving certificate (pki/apiserver.crt), with kubeadm's SAN rule. */
export class ApiServerCert extends KubeadmCertificate {
  constructor(scope: Construct, id: string, props: ApiServerCertProps) {
    const cluster = clusterOf(scope, id, {
      nodes: [{ ...props.node, role: 'control-plane' }],
      serviceSubnets: props.serviceSubnets,
      dnsDomain: props.dnsDomain,
      controlPlaneEndpoint: props.controlPlaneEndpoint,
      apiServerCertSANs: props.extraSANs,
    });
    super(scope, id, { ...props, certificate: 'apiserver', cluster, node: cluster.controlPlaneNodes[0] });
  }
}

export interface EtcdMemberCertProps extends KubeadmCertificateOptions {
  /** The etcd member: its name is the CN and a SAN. Changing it re-issues. */
  readonly node: ControlPlaneNodeProps;
  /** More SANs (kubeadm's etcd.local.serverCertSANs / peerCertSANs). @default none */
  readonly extraSANs?: string[];
}

/** etcd's client-facing serving certificate (pki/etcd/server.crt); also a client certificate, as kubeadm makes it. */
export class EtcdServerCert extends KubeadmCertificate {
  constructor(scope: Construct, id: string, props: EtcdMemberCertProps) {
    const cluster = clusterOf(scope, id, { nodes: [{ ...props.node, role: 'control-plane' }], etcd: { serverCertSANs: props.extraSANs } });
    super(scope, id, { ...props, certificate: 'etcd-server', cluster, node: cluster.controlPlaneNodes[0] });
  }
}

/** etcd's peer certificate (pki/etcd/peer.crt): serves and authenticates member-to-member traffic. */
export class EtcdPeerCert extends KubeadmCertificate {
  constructor(scope: Construct, id: string, props: EtcdMemberCertProps) {
    const cluster = clusterOf(scope, id, { nodes: [{ ...props.node, role: 'control-plane' }], etcd: { peerCertSANs: props.extraSANs } });
    super(scope, id, { ...props, certificate: 'etcd-peer', cluster, node: cluster.controlPlaneNodes[0] });
  }
}

/** A client certificate of the set whose subject does not depend on the cluster. */
abstract class FixedClientCert extends KubeadmCertificate {
  protected constructor(scope: Construct, id: string, certificate: CertificateId, props: KubeadmCertificateOptions) {
    super(scope, id, { ...props, certificate });
  }
}

/** kube-apiserver's client certificate towards kubelets (pki/apiserver-kubelet-client.crt). */
export class ApiServerKubeletClientCert extends FixedClientCert {
  constructor(scope: Construct, id: string, props: KubeadmCertificateOptions) {
    super(scope, id, 'apiserver-kubelet-client', props);
  }
}

/** kube-apiserver's client certificate towards etcd (pki/apiserver-etcd-client.crt); sign it with the etcd CA. */
export class ApiServerEtcdClientCert extends FixedClientCert {
  constructor(scope: Construct, id: string, props: KubeadmCertificateOptions) {
    super(scope, id, 'apiserver-etcd-client', props);
  }
}

/** The aggregation layer's client certificate (pki/front-proxy-client.crt); sign it with the front-proxy CA. */
export class FrontProxyClientCert extends FixedClientCert {
  constructor(scope: Construct, id: string, props: KubeadmCertificateOptions) {
    super(scope, id, 'front-proxy-client', props);
  }
}

/** The client certificate for etcd health checks (pki/etcd/healthcheck-client.crt). */
export class EtcdHealthcheckClientCert extends FixedClientCert {
  constructor(scope: Construct, id: string, props: KubeadmCertificateOptions) {
    super(scope, id, 'etcd-healthcheck-client', props);
  }
}

/** Resolves the cluster facts a standalone certificate needs; errors name the construct and its props. */
function clusterOf(scope: Construct, id: string, spec: ClusterSpec): Cluster {
  const where = scope.node.path ? `${scope.node.path}/${id}` : id;
  return locateErrors(where, () => resolveCluster(spec), {
    'nodes[0]': 'node',
    'apiServerCertSANs': 'extraSANs',
    'etcd.serverCertSANs': 'extraSANs',
    'etcd.peerCertSANs': 'extraSANs',
  });
}
