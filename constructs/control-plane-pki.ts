import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { RbacSubject } from '../src/bootstrap/rbac';
import { checkTokenAuthFileField } from '../src/bootstrap/token';
import { rfc3339Utc } from '../src/engine/time';
import { locateErrors, SpecError } from '../src/engine/errors';
import { CaId, CERTIFICATE_AUTHORITIES, CERTIFICATES, CLUSTER_ADMINS, controlPlaneServer, KUBECONFIGS } from '../src/kubeadm/catalog';
import { Cluster, ClusterSpec, loadClusterSpec, resolveCluster } from '../src/kubeadm/cluster-spec';
import { joinConfigMaps } from '../src/kubeadm/join-config';
import { NodePlan, recordNodePlan } from '../src/kubeadm/node-bundle';
import { certificateInstances, instanceKey, IssuedMaterial, kubeconfigInstances, planCluster, PlannerOptions } from '../src/kubeadm/planner';
import { BootstrapToken, BootstrapTokenProps } from './bootstrap-token';
import { ClusterCA } from './cluster-ca';
import { ClusterInfo } from './cluster-info';
import { KubeadmCertificate } from './kubeadm-certificates';
import { Kubeconfig } from './kubeconfig';
import { NodeBootstrapRbac } from './node-bootstrap-rbac';
import { ServiceAccountKey } from './service-account-key';
import { pkiStateOf, slotOf } from './state';
import { checkKnownProps } from '../src/engine/spec';
import { CONTROL_PLANE_PKI_PROPS, TLS_BOOTSTRAP_OPTIONS, TOKEN_AUTH_FILE_OPTIONS } from './known-props';

/** A cluster spec and, for workers that join with a bootstrap token, the TLS bootstrapping options. */
export interface ControlPlanePkiProps {
  /**
   * The cluster: a ClusterSpec object, or the path of a YAML/JSON file holding one (checked against
   * schemas/cluster-spec.schema.json; errors name the file, line and field).
   */
  readonly cluster: ClusterSpec | string;
  /**
   * Workers join by TLS bootstrapping, as with `kubeadm join`: a bootstrap token, the node-bootstrap RBAC and
   * cluster-info are synthesized; workers get bootstrap-kubelet.conf instead of a kubelet.conf issued here;
   * `cdk8s-pki join-command <node>` prints the join line.
   * @default workers get a kubelet.conf with a client certificate issued here
   */
  readonly tlsBootstrap?: TlsBootstrapOptions;
}

/** How workers join: kubeadm's bootstrap-token flow, its RBAC and the kubelets' serving certificates. */
export interface TlsBootstrapOptions {
  /** The join token. @default a token generated and kept in the state: a 30-day ttl renewed by synth, kubeadm's usages (authentication + signing) and default-node-token group */
  readonly token?: BootstrapTokenProps;
  /** Prefix of the RBAC object names. @default "kubeadm:" */
  readonly rbacPrefix?: string;
  /** Bind the controller-manager's auto-approval of node client certificates. @default true */
  readonly autoApprove?: boolean;
  /**
   * Also accept the token from the legacy static token file (kube-apiserver --token-auth-file=pki/token.csv, on
   * the control-plane nodes): `true` for the bootstrap token's own user (`system:bootstrap:<token id>`), or the
   * user and uid the file names, as the older guides' `kubelet-bootstrap,10001`. kube-apiserver reads the file
   * when it starts only: give the token a ttl of 0, or restart kube-apiserver when synth renews the token.
   * @default false
   */
  readonly tokenAuthFile?: boolean | TokenAuthFileOptions;
  /**
   * kubelets get their serving certificate from the cluster CA (serverTLSBootstrap). Their
   * kubernetes.io/kubelet-serving CSRs are approved by nobody built in: name an approver or approve by hand.
   * @default false (kubelets serve with a self-signed certificate, as in kubeadm)
   */
  readonly serverTlsBootstrap?: boolean;
  /** Who may approve kubelet serving CSRs. @default nobody */
  readonly kubeletServingApprover?: RbacSubject;
}

/** The entry of the legacy static token file (`token,user,uid,"groups"`); its groups are the token's. */
export interface TokenAuthFileOptions {
  /**
   * The user the file maps the token to. A user other than the bootstrap token's own is also bound by name to
   * system:node-bootstrapper (in the `<rbacPrefix>kubelet-bootstrap` binding), as the older guides bind `kubelet-bootstrap`.
   * @default "system:bootstrap:<token id>", the user the bootstrap token authenticator maps the token to
   */
  readonly user?: string;
  /** The user's uid. @default the token id */
  readonly uid?: string;
}

/** Ids of this construct's own children; each node's things go under a child named after the node. */
const CHILD_IDS = {
  serviceAccountKey: 'sa',
  clusterAdmins: 'cluster-admins',
  clusterAdminRole: 'cluster-admin',
  clusterAdminsGroup: 'cluster-admins-group',
  joinToken: 'join-token',
  nodeBootstrap: 'node-bootstrap',
  clusterInfo: 'cluster-info',
  joinConfig: 'join-config',
} as const;

/** A node named like a cluster-wide child (`sa`, `admin`, `etcd-ca` …) would collide with it in the construct tree. */
function checkNodeNamesFree(cluster: Cluster): void {
  const taken = new Set<string>([
    ...Object.values(CHILD_IDS),
    ...Object.keys(CERTIFICATE_AUTHORITIES),
    ...Object.values(CERTIFICATES).filter((e) => e.scope === 'cluster').map((e) => e.id),
    ...Object.values(KUBECONFIGS).filter((e) => e.scope === 'cluster' || e.scope === 'first-control-plane-node').map((e) => e.id),
  ]);
  cluster.nodes.forEach((node, i) => {
    if (taken.has(node.name)) throw new SpecError(`nodes[${i}].name`, `"${node.name}" is the name of a cluster-wide part of ControlPlanePki; give the node another name`);
  });
}

/**
 * A whole kubeadm-style control-plane PKI from one cluster spec: the three CAs, the service-account key,
 * every certificate and kubeconfig of kubeadm's set, the static Pod manifests and kubelet configuration of
 * each node, and a plan per node that `cdk8s-pki export-node` turns into the node's /etc/kubernetes. What
 * goes where is the planner's (src/kubeadm/planner.ts); this construct issues and emits.
 *
 * In its own chart it synthesizes the three public CA bundles and, with `tlsBootstrap`, what `kubeadm join`
 * reads (cluster-info, kubeadm-config, kubelet-config and their RBAC). Each node's static Pods and
 * KubeletConfiguration are also written for review, after the state commits, as
 * `<outdir>/nodes/<cluster>-<node>/manifests/*.yaml.review` and `…/kubelet/config.yaml.review`
 * (constructs/pki-report.ts): files for the node, which no manifest reader takes for manifests.
 */
export class ControlPlanePki extends Construct {
  /** The cluster spec with every default applied. */
  readonly cluster: Cluster;
  /** The three CAs, by catalog id: `ca` (kubernetes), `etcd-ca`, `front-proxy-ca`. */
  readonly certificateAuthorities: Record<CaId, ClusterCA>;
  /** The service-account signing key pair (sa.key / sa.pub). */
  readonly serviceAccountKey: ServiceAccountKey;
  /** Every leaf certificate, one per node where kubeadm makes one per node. */
  readonly certificates: KubeadmCertificate[];
  /** Every kubeconfig with a client certificate (admin.conf, controller-manager.conf, per-node kubelet.conf …). */
  readonly kubeconfigs: Kubeconfig[];
  /** What export-node writes, per node. */
  readonly nodePlans: NodePlan[];
  /** With `tlsBootstrap`: the join token and cluster-info. */
  readonly joinToken?: BootstrapToken;
  /** With `tlsBootstrap`: the cluster-info ConfigMap `kubeadm join` discovers. */
  readonly clusterInfo?: ClusterInfo;

  constructor(scope: Construct, id: string, props: ControlPlanePkiProps) {
    super(scope, id);
    locateErrors(this.node.path, () => [
      checkKnownProps(props, CONTROL_PLANE_PKI_PROPS),
      checkKnownProps(props.tlsBootstrap, TLS_BOOTSTRAP_OPTIONS, 'tlsBootstrap'),
      typeof props.tlsBootstrap?.tokenAuthFile === 'object' ? checkKnownProps(props.tlsBootstrap.tokenAuthFile, TOKEN_AUTH_FILE_OPTIONS, 'tlsBootstrap.tokenAuthFile') : undefined,
    ]);
    const cluster = (this.cluster = locateErrors(this.node.path, () =>
      typeof props.cluster === 'string' ? loadClusterSpec(props.cluster) : resolveCluster(props.cluster),
    ));
    const common = { keyAlgorithm: cluster.keyAlgorithm, validity: Duration.seconds(cluster.certificateValiditySeconds) };
    const bootstrap = props.tlsBootstrap;
    const tokenAuthFile = bootstrap?.tokenAuthFile;
    // The file's entry: the bootstrap token's own user, or the one named (`kubelet-bootstrap` in the older guides).
    const tokenAuthFileEntry: TokenAuthFileOptions = typeof tokenAuthFile === 'object' ? tokenAuthFile : {};
    const options: PlannerOptions = { tlsBootstrap: bootstrap !== undefined, tokenAuthFile: tokenAuthFile !== undefined && tokenAuthFile !== false, serverTlsBootstrap: bootstrap?.serverTlsBootstrap };
    // The progress bar's total, announced before the first key is drawn (an RSA CA alone outlasts the bar's delay):
    // every certificate issued here (CAs, leaves, kubeconfigs) and the service-account key, each with a key of the
    // cluster's algorithm, which the key pool makes ahead.
    const total = Object.keys(CERTIFICATE_AUTHORITIES).length + certificateInstances(cluster).length + kubeconfigInstances(cluster, options).length + 1;
    pkiStateOf(this).expectWork(total);
    pkiStateOf(this).expectKeys(cluster.keyAlgorithm, total);

    const cas = (this.certificateAuthorities = Object.fromEntries(
      Object.values(CERTIFICATE_AUTHORITIES).map((entry) => [
        entry.id,
        new ClusterCA(this, entry.id, {
          commonName: entry.commonName,
          dnsNames: entry.dnsNames,
          keyAlgorithm: cluster.keyAlgorithm,
          validity: Duration.seconds(cluster.caCertificateValiditySeconds),
          bundleName: entry.bundleName,
          bundleNamespace: 'kube-system',
          rotation: cluster.caRotation[entry.id],
        }),
      ]),
    ) as Record<CaId, ClusterCA>);
    locateErrors(this.node.path, () => checkNodeNamesFree(cluster));
    this.serviceAccountKey = new ServiceAccountKey(this, CHILD_IDS.serviceAccountKey, { keyAlgorithm: cluster.keyAlgorithm, rotation: cluster.caRotation['service-account'] });
    // kubeadm init binds admin.conf's group to cluster-admin; without it admin.conf is refused everything.
    new kplus.ClusterRoleBinding(this, CHILD_IDS.clusterAdmins, {
      metadata: { name: CLUSTER_ADMINS.bindingName },
      role: kplus.ClusterRole.fromClusterRoleName(this, CHILD_IDS.clusterAdminRole, CLUSTER_ADMINS.clusterRole),
    }).addSubjects(kplus.Group.fromName(this, CHILD_IDS.clusterAdminsGroup, CLUSTER_ADMINS.group));
    if (bootstrap) {
      this.joinToken = new BootstrapToken(this, CHILD_IDS.joinToken, bootstrap.token);
      new NodeBootstrapRbac(this, CHILD_IDS.nodeBootstrap, {
        groups: this.joinToken.groups,
        prefix: bootstrap.rbacPrefix,
        autoApprove: bootstrap.autoApprove,
        kubeletServingApprover: bootstrap.kubeletServingApprover,
        joinConfig: true,
        users: options.tokenAuthFile && tokenAuthFileEntry.user !== undefined ? [tokenAuthFileEntry.user] : undefined,
      });
      // A field the token file cannot hold is refused now, not when export-node renders the file.
      if (options.tokenAuthFile) {
        locateErrors(this.node.path, () =>
          Object.entries(tokenAuthFileEntry)
            .filter(([, value]) => value !== undefined)
            .forEach(([field, value]: [string, string]) => checkTokenAuthFileField(`tlsBootstrap.tokenAuthFile.${field}`, value)),
        );
      }
      this.clusterInfo = new ClusterInfo(this, CHILD_IDS.clusterInfo, { ca: cas.ca, server: controlPlaneServer(cluster), tokens: [this.joinToken] });
    }

    const nodeScopes = new Map<string, Construct>();
    const scopeFor = (nodeName?: string): Construct => {
      if (!nodeName) return this;
      if (!nodeScopes.has(nodeName)) nodeScopes.set(nodeName, new Construct(this, nodeName));
      return nodeScopes.get(nodeName)!;
    };
    const certificates = new Map(
      certificateInstances(cluster).map(({ entry, node }) => [
        instanceKey(entry.id, node),
        new KubeadmCertificate(scopeFor(node?.name), entry.id, { ...common, certificate: entry.id, ca: cas[entry.ca], cluster, node }),
      ]),
    );
    const kubeconfigs = new Map(
      kubeconfigInstances(cluster, options).map((instance) => [
        instanceKey(instance.entry.id, instance.node),
        new Kubeconfig(scopeFor(instance.node?.name), instance.entry.id, {
          ...common,
          ca: cas.ca,
          clusterName: cluster.clusterName,
          server: instance.server,
          userName: instance.userName,
          groups: instance.groups,
        }),
      ]),
    );
    this.certificates = [...certificates.values()];
    this.kubeconfigs = [...kubeconfigs.values()];

    const token = this.joinToken;
    const issued: IssuedMaterial = {
      cas: Object.fromEntries(
        Object.entries(cas).map(([caId, ca]) => [
          caId,
          { certificatePem: ca.trustedCertificates.map((c) => c.pem).join(''), key: ca.keyReference!, trustBundlePem: ca.trustBundlePem, spkiPins: ca.spkiPins },
        ]),
      ) as unknown as IssuedMaterial['cas'],
      serviceAccountKeys: this.serviceAccountKey.verifyingKeyReferences,
      certificates: new Map([...certificates].map(([key, c]) => [key, { certificatePem: c.certificatePem, key: c.keyReference }])),
      kubeconfigs: new Map([...kubeconfigs].map(([key, k]) => [key, { content: k.content, key: k.keyReference }])),
      ...(token
        ? { joinToken: { slot: token.stateSlot, ...(token.expiration ? { expiration: rfc3339Utc(token.expiration) } : {}), tokenAuthFileEntry: token.tokenAuthFileEntry(tokenAuthFileEntry) } }
        : {}),
    };
    const planned = planCluster(cluster, issued, options, slotOf(this));
    this.nodePlans = planned.nodes.map((n) => n.plan);
    const state = pkiStateOf(this);
    planned.nodes.forEach(({ plan }) => recordNodePlan(state, plan));
    if (bootstrap) {
      const joinConfig = new Construct(this, CHILD_IDS.joinConfig);
      for (const configMap of joinConfigMaps(cluster, planned.kubeletConfiguration)) {
        new kplus.ConfigMap(joinConfig, configMap.name, { metadata: { name: configMap.name, namespace: configMap.namespace }, data: configMap.data });
      }
    }
  }
}
