import { ApiObject, ApiObjectProps, Chart, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { locateErrors, SpecError } from '../src/engine/errors';
import {
  CaId,
  CERTIFICATE_AUTHORITIES,
  CLUSTER_ADMINS,
  CERTIFICATES,
  commonNameOf,
  controlPlaneServer,
  isOnNode,
  KUBECONFIGS,
  localServer,
  Scope,
  SERVICE_ACCOUNT_KEY,
} from '../src/kubeadm/catalog';
import { Cluster, ClusterSpec, loadClusterSpec, NodeSpec, resolveCluster } from '../src/kubeadm/cluster-spec';
import { BOOTSTRAP_TOKEN_USER } from '../src/kubeadm/kubeconfig';
import { BOOTSTRAP_KUBECONFIG_FILE, FILE_MODES, KUBELET_CONFIG_FILE, MANIFESTS_DIR, pkiFile, TOKEN_AUTH_FILE } from '../src/kubeadm/layout';
import { NodePlan, PlannedFile, recordNodePlan } from '../src/kubeadm/node-bundle';
import { kubeletConfiguration, NodeAuthOptions, staticPods } from '../src/kubeadm/static-pods';
import { RbacSubject } from '../src/bootstrap/rbac';
import { rfc3339Utc } from '../src/bootstrap/token';
import { BootstrapToken, BootstrapTokenProps } from './bootstrap-token';
import { ClusterCA } from './cluster-ca';
import { ClusterInfo } from './cluster-info';
import { KubeadmCertificate } from './kubeadm-certificates';
import { Kubeconfig } from './kubeconfig';
import { NodeBootstrapRbac } from './node-bootstrap-rbac';
import { ServiceAccountKey } from './service-account-key';
import { pkiStateOf } from './state';
import { checkKnownProps } from '../src/engine/spec';
import { CONTROL_PLANE_PKI_PROPS, TLS_BOOTSTRAP_OPTIONS } from './known-props';

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

export interface TlsBootstrapOptions {
  /** The join token. @default a token generated once, kubeadm's defaults (24h, authentication + signing, default-node-token group) */
  readonly token?: BootstrapTokenProps;
  /** Prefix of the RBAC object names. @default "kubeadm:" */
  readonly rbacPrefix?: string;
  /** Bind the controller-manager's auto-approval of node client certificates. @default true */
  readonly autoApprove?: boolean;
  /** Also accept the token from the legacy static token file (kube-apiserver --token-auth-file=pki/token.csv). @default false */
  readonly tokenAuthFile?: boolean;
  /**
   * kubelets get their serving certificate from the cluster CA (serverTLSBootstrap). Their
   * kubernetes.io/kubelet-serving CSRs are approved by nobody built in: name an approver or approve by hand.
   * @default false (kubelets serve with a self-signed certificate, as in kubeadm)
   */
  readonly serverTlsBootstrap?: boolean;
  /** Who may approve kubelet serving CSRs. @default nobody */
  readonly kubeletServingApprover?: RbacSubject;
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

/** Something placed on nodes: on the node it was made for, or on every node its scope covers. */
interface PlacedKubeconfig {
  readonly kubeconfig: Kubeconfig;
  readonly fileName: string;
}

interface Placed<T> {
  readonly item: T;
  readonly scope: Scope;
  readonly node?: string;
}

/**
 * A whole kubeadm-style control-plane PKI from one cluster spec: the three CAs, the service-account key,
 * every certificate and kubeconfig of kubeadm's set, the static Pod manifests and kubelet configuration of
 * each node, and a plan per node that `cdk8s-pki export-node` turns into the node's /etc/kubernetes.
 *
 * In its own chart it synthesizes the three public CA bundles; for each node it adds a chart
 * `<chart>-<node>` holding review copies of that node's static Pods and KubeletConfiguration (files for
 * the node, not objects to apply to the cluster).
 */
export class ControlPlanePki extends Construct {
  readonly cluster: Cluster;
  readonly certificateAuthorities: Record<CaId, ClusterCA>;
  readonly serviceAccountKey: ServiceAccountKey;
  readonly certificates: KubeadmCertificate[];
  readonly kubeconfigs: Kubeconfig[];
  /** What export-node writes, per node. */
  readonly nodePlans: NodePlan[];
  /** With `tlsBootstrap`: the join token and cluster-info. */
  readonly joinToken?: BootstrapToken;
  readonly clusterInfo?: ClusterInfo;
  private readonly nodeAuth: NodeAuthOptions;

  constructor(scope: Construct, id: string, props: ControlPlanePkiProps) {
    super(scope, id);
    locateErrors(this.node.path, () => [checkKnownProps(props, CONTROL_PLANE_PKI_PROPS), checkKnownProps(props.tlsBootstrap, TLS_BOOTSTRAP_OPTIONS, 'tlsBootstrap')]);
    const cluster = (this.cluster = locateErrors(this.node.path, () =>
      typeof props.cluster === 'string' ? loadClusterSpec(props.cluster) : resolveCluster(props.cluster),
    ));
    const common = { keyAlgorithm: cluster.keyAlgorithm, validity: Duration.seconds(cluster.certificateValiditySeconds) };

    const cas = (this.certificateAuthorities = Object.fromEntries(
      Object.values(CERTIFICATE_AUTHORITIES).map((entry) => [
        entry.id,
        new ClusterCA(this, entry.id, {
          commonName: entry.commonName,
          dnsNames: [entry.commonName],
          keyAlgorithm: cluster.keyAlgorithm,
          validity: Duration.seconds(cluster.caCertificateValiditySeconds),
          bundleName: `${entry.id === 'ca' ? 'kubernetes-ca' : entry.id}-bundle`,
          bundleNamespace: 'kube-system',
        }),
      ]),
    ) as Record<CaId, ClusterCA>);
    locateErrors(this.node.path, () => checkNodeNamesFree(cluster));
    this.serviceAccountKey = new ServiceAccountKey(this, CHILD_IDS.serviceAccountKey, { keyAlgorithm: cluster.keyAlgorithm });
    // kubeadm init binds admin.conf's group to cluster-admin; without it admin.conf is refused everything.
    new kplus.ClusterRoleBinding(this, CHILD_IDS.clusterAdmins, {
      metadata: { name: CLUSTER_ADMINS.bindingName },
      role: kplus.ClusterRole.fromClusterRoleName(this, CHILD_IDS.clusterAdminRole, CLUSTER_ADMINS.clusterRole),
    }).addSubjects(kplus.Group.fromName(this, CHILD_IDS.clusterAdminsGroup, CLUSTER_ADMINS.group));
    const bootstrap = props.tlsBootstrap;
    this.nodeAuth = { tokenAuthFile: bootstrap?.tokenAuthFile, serverTlsBootstrap: bootstrap?.serverTlsBootstrap };
    if (bootstrap) {
      this.joinToken = new BootstrapToken(this, CHILD_IDS.joinToken, bootstrap.token);
      new NodeBootstrapRbac(this, CHILD_IDS.nodeBootstrap, {
        groups: this.joinToken.groups,
        prefix: bootstrap.rbacPrefix,
        autoApprove: bootstrap.autoApprove,
        kubeletServingApprover: bootstrap.kubeletServingApprover,
      });
      this.clusterInfo = new ClusterInfo(this, CHILD_IDS.clusterInfo, { ca: cas.ca, server: controlPlaneServer(cluster), tokens: [this.joinToken] });
    }
    // A bootstrapping worker gets its kubelet client certificate from the controller-manager, not from here.
    const bootstraps = (node: NodeSpec) => bootstrap !== undefined && node.role === 'worker';

    const nodeScopes = new Map<string, Construct>();
    const scopeFor = (node?: NodeSpec) => {
      if (!node) return this;
      if (!nodeScopes.has(node.name)) nodeScopes.set(node.name, new Construct(this, node.name));
      return nodeScopes.get(node.name)!;
    };
    const perScope = <T>(scopeOfItem: Scope, make: (node?: NodeSpec) => T): Placed<T>[] => {
      const nodes = scopeOfItem === 'control-plane-node' ? cluster.controlPlaneNodes : scopeOfItem === 'node' ? cluster.nodes : [undefined];
      return nodes.map((node) => ({ item: make(node), scope: scopeOfItem, node: node?.name }));
    };

    const certificates = Object.values(CERTIFICATES).flatMap((entry) =>
      perScope(entry.scope, (node) =>
        new KubeadmCertificate(scopeFor(node), entry.id, {
          ...common,
          certificate: entry.id,
          ca: cas[entry.ca],
          cluster,
          node: node && cluster.controlPlaneNodes.find((n) => n.name === node.name),
        }),
      ),
    );
    const kubeconfigs = Object.values(KUBECONFIGS).flatMap((entry) =>
      perScope(entry.scope, (node) => {
        if (entry.id === 'kubelet' && node && bootstraps(node)) return undefined;
        const subjectNode = node ?? cluster.controlPlaneNodes[0];
        const controlPlaneNode = cluster.controlPlaneNodes.find((n) => n.name === subjectNode.name)!;
        const kubeconfig = new Kubeconfig(scopeFor(node), entry.id, {
          ...common,
          ca: cas.ca,
          clusterName: cluster.clusterName,
          server: entry.server === 'local-endpoint' ? localServer(cluster, controlPlaneNode) : controlPlaneServer(cluster),
          userName: commonNameOf(entry, subjectNode),
          groups: entry.organizations,
        });
        return { kubeconfig, fileName: entry.fileName };
      }),
    ).filter((placed): placed is Placed<PlacedKubeconfig> => placed.item !== undefined);
    this.certificates = certificates.map((c) => c.item);
    this.kubeconfigs = kubeconfigs.map((k) => k.item.kubeconfig);

    this.nodePlans = cluster.nodes.map((node) => this.planNode(node, certificates, kubeconfigs));
    const state = pkiStateOf(this);
    this.nodePlans.forEach((plan) => recordNodePlan(state, plan));
    this.addReviewCopies();
  }

  private planNode(node: NodeSpec, certificates: Placed<KubeadmCertificate>[], kubeconfigs: Placed<PlacedKubeconfig>[]): NodePlan {
    const cluster = this.cluster;
    const placedHere = <T>(placed: Placed<T>) => (placed.node ? placed.node === node.name : isOnNode(placed.scope, cluster, node));
    const isControlPlane = node.role === 'control-plane';
    const files: PlannedFile[] = [];
    const certificateFile = (baseName: string, pem: string) => files.push({ path: pkiFile(baseName, 'crt'), mode: FILE_MODES.certificate, content: { kind: 'text', text: pem } });

    for (const entry of Object.values(CERTIFICATE_AUTHORITIES)) {
      // A worker trusts the cluster CA and holds no CA key, no etcd and no front-proxy material.
      if (!isControlPlane && entry.id !== 'ca') continue;
      const ca = this.certificateAuthorities[entry.id];
      certificateFile(entry.baseName, ca.certificatePem);
      if (isControlPlane) files.push({ path: pkiFile(entry.baseName, 'key'), mode: FILE_MODES.privateKey, content: { kind: 'private-key', key: ca.keyReference! } });
    }
    if (isOnNode(SERVICE_ACCOUNT_KEY.scope, cluster, node)) {
      const key = this.serviceAccountKey.keyReference;
      files.push({ path: pkiFile(SERVICE_ACCOUNT_KEY.baseName, 'key'), mode: FILE_MODES.privateKey, content: { kind: 'private-key', key } });
      files.push({ path: pkiFile(SERVICE_ACCOUNT_KEY.baseName, 'pub'), mode: FILE_MODES.publicKey, content: { kind: 'public-key', key } });
    }
    for (const { item } of certificates.filter(placedHere)) {
      certificateFile(item.entry.baseName, item.certificatePem);
      files.push({ path: pkiFile(item.entry.baseName, 'key'), mode: FILE_MODES.privateKey, content: { kind: 'private-key', key: item.keyReference } });
    }
    for (const { item } of kubeconfigs.filter(placedHere)) {
      const { kubeconfig, fileName } = item;
      files.push({ path: fileName, mode: FILE_MODES.kubeconfig, content: { kind: 'kubeconfig', kubeconfig: kubeconfig.content, key: kubeconfig.keyReference } });
    }
    const token = this.joinToken;
    if (token && !isControlPlane) {
      const kubeconfig = { clusterName: cluster.clusterName, server: controlPlaneServer(cluster), caPem: this.certificateAuthorities.ca.trustBundlePem, userName: BOOTSTRAP_TOKEN_USER };
      files.push({ path: BOOTSTRAP_KUBECONFIG_FILE, mode: FILE_MODES.kubeconfig, content: { kind: 'token-kubeconfig', kubeconfig, tokenSlot: token.stateSlot } });
    }
    if (token && isControlPlane && this.nodeAuth.tokenAuthFile) {
      files.push({ path: TOKEN_AUTH_FILE, mode: FILE_MODES.tokenFile, content: { kind: 'token-auth-file', tokenSlot: token.stateSlot, ...token.tokenAuthFileEntry() } });
    }
    const controlPlaneNode = cluster.controlPlaneNodes.find((n) => n.name === node.name);
    if (controlPlaneNode) {
      for (const [fileName, pod] of Object.entries(staticPods(cluster, controlPlaneNode, this.nodeAuth))) {
        files.push({ path: `${MANIFESTS_DIR}/${fileName}`, mode: FILE_MODES.staticPodManifest, content: { kind: 'text', text: stringify(pod) } });
      }
    }
    files.push({ path: KUBELET_CONFIG_FILE, mode: FILE_MODES.kubeletConfig, content: { kind: 'text', text: stringify(kubeletConfiguration(cluster, this.nodeAuth)) } });
    return {
      ...(token
        ? {
          join: {
            endpoint: cluster.controlPlaneEndpoint,
            tokenSlot: token.stateSlot,
            caCertHash: this.certificateAuthorities.ca.spkiPin,
            ...(token.expiration ? { tokenExpiration: rfc3339Utc(token.expiration) } : {}),
          },
        }
        : {}),
      node: node.name,
      role: node.role,
      directories: [
        { path: 'pki', mode: FILE_MODES.directory },
        ...(isControlPlane ? [{ path: 'pki/etcd', mode: FILE_MODES.directory }] : []),
        { path: MANIFESTS_DIR, mode: FILE_MODES.manifestsDirectory },
        { path: 'kubelet', mode: FILE_MODES.directory },
      ],
      files: files.sort((a, b) => a.path.localeCompare(b.path)),
    };
  }

  /** One chart per node, beside this construct's chart, so each node's files read as one review unit. */
  private addReviewCopies(): void {
    const chart = Chart.of(this);
    const app = chart.node.scope ?? chart;
    for (const node of this.cluster.nodes) {
      const nodeChart = new Chart(app, `${chart.node.id}-${node.name}`);
      const controlPlaneNode = this.cluster.controlPlaneNodes.find((n) => n.name === node.name);
      for (const [fileName, pod] of Object.entries(controlPlaneNode ? staticPods(this.cluster, controlPlaneNode, this.nodeAuth) : {})) {
        new ApiObject(nodeChart, fileName.replace(/\.yaml$/, ''), pod as ApiObjectProps);
      }
      // A kubelet config file has no metadata; cdk8s would add a name.
      new ApiObject(nodeChart, 'kubelet-config', kubeletConfiguration(this.cluster, this.nodeAuth) as ApiObjectProps).addJsonPatch(JsonPatch.remove('/metadata'));
    }
  }
}
