import { Construct } from 'constructs';
import { locateErrors, SpecError } from '../src/engine/errors';
import { CERTIFICATES, CertificateEntry, CertificateId, commonNameIsNodeName, commonNameOf } from '../src/kubeadm/catalog';
import { Cluster, ClusterSpec, ControlPlaneNode, resolveCluster } from '../src/kubeadm/cluster-spec';
import { SignedCertificate, SignedCertificateOptions } from './signed-certificate';

/** What every kubeadm certificate construct takes besides its CA (see the catalog for which CA kubeadm uses). */
export type KubeadmCertificateOptions = SignedCertificateOptions;

export interface KubeadmCertificateProps extends KubeadmCertificateOptions {
  /** Which certificate of kubeadm's set (src/kubeadm/catalog.ts). */
  readonly certificate: CertificateId;
  /** The cluster, for SANs that depend on it; a certificate whose names do not (the clients) needs none. @default - none: only for the client certificates */
  readonly cluster?: Cluster;
  /** The node, for per-node certificates (CN or SANs from it); with `cluster`. @default - none: only for the client certificates */
  readonly node?: ControlPlaneNode;
}

/**
 * One certificate of kubeadm's control-plane set, as the catalog defines it: subject, usages and SAN rule
 * come from there; this construct only asks the CA. The named subclasses take friendlier props.
 */
export class KubeadmCertificate extends SignedCertificate {
  /** The catalog entry this certificate is made from (subject, issuer, usages, SAN rule). */
  readonly entry: CertificateEntry;

  constructor(scope: Construct, id: string, props: KubeadmCertificateProps) {
    const entry = CERTIFICATES[props.certificate];
    // A SAN kubeadm's rule derived and the CA's name constraints refuse: the CA is what to change.
    const aboutDerivedSans = (err: unknown) => (err instanceof SpecError && err.field.startsWith('sans.') ? err.about('ca', `a SAN kubeadm gives ${entry.id}`) : err);
    try {
      super(scope, id, props, () => {
        const perNode = entry.altNames !== undefined || entry.commonName === commonNameIsNodeName;
        if (perNode && (!props.node || !props.cluster)) throw new SpecError('node', `is required for ${entry.id}: its name or SANs come from the node and the cluster`);
        return {
          spec: {
            subject: { commonName: commonNameOf(entry, props.node ?? { name: '', role: 'control-plane' }), organizations: entry.organizations },
            sans: props.cluster && props.node && entry.altNames?.(props.cluster, props.node),
            extendedKeyUsage: entry.usages,
          },
        };
      });
    } catch (err) {
      throw aboutDerivedSans(err);
    }
    this.entry = entry;
  }
}

/** A control-plane node as the per-node certificates need it. */
export interface ControlPlaneNodeProps {
  /** Node name: a SAN (apiserver, etcd) or the CN (etcd). */
  readonly name: string;
  /** Advertise address. */
  readonly ip: string;
  /** More addresses of the node, added to the SANs. @default - none */
  readonly additionalIps?: string[];
}

export interface ApiServerCertProps extends KubeadmCertificateOptions {
  /** The control-plane node this kube-apiserver runs on. Changing it re-issues. */
  readonly node: ControlPlaneNodeProps;
  /** Service CIDRs, one per family; the first IP of the first (primary) one is a SAN, as in kubeadm. Re-issues. @default - ["10.96.0.0/12"] */
  readonly serviceSubnets?: string[];
  /** Re-issues. @default - "cluster.local" */
  readonly dnsDomain?: string;
  /** host[:port] of the load balancer; its host is a SAN. Re-issues. @default - the node's IP */
  readonly controlPlaneEndpoint?: string;
  /** More SANs: an IP if it parses as one, else a DNS name. Adding one re-issues this certificate only. @default - none */
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
  /** More SANs (kubeadm's etcd.local.serverCertSANs / peerCertSANs). @default - none */
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
