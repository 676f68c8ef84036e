/**
 * The RBAC kubeadm creates for TLS bootstrapping (kubeadm phases/bootstraptoken/node/tlsbootstrap.go and
 * clusterinfo.go), as one table. Names take a prefix (kubeadm's is "kubeadm:") so that several token groups
 * can have their own bindings side by side.
 */
import { approverRules } from '../certificates-api/csr-policy';
import { CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE } from './cluster-info';

/** Who a binding grants a role to. */
export interface RbacSubject {
  /** `Group` or `User`. */
  readonly kind: 'Group' | 'User';
  /** The group or user name. */
  readonly name: string;
}

/** One RBAC policy rule. */
export interface RbacRule {
  /** The API groups (`""` for the core group). */
  readonly apiGroups: string[];
  /** The resources. */
  readonly resources: string[];
  /** The verbs allowed on them. */
  readonly verbs: string[];
  /** Only these objects. @default - every object */
  readonly resourceNames?: string[];
}

/** A role this table creates (a ClusterRole, or a Role in `namespace`). */
export interface RbacRole {
  /** metadata.name. */
  readonly name: string;
  /** A Role's namespace. @default - none: a ClusterRole */
  readonly namespace?: string;
  /** What it allows. */
  readonly rules: RbacRule[];
}

/** A binding of `subjects` to a ClusterRole (or to the Role of the same namespace when `namespace` is set). */
export interface RbacBinding {
  /** metadata.name. */
  readonly name: string;
  /** A RoleBinding's namespace. @default - none: a ClusterRoleBinding */
  readonly namespace?: string;
  /** The ClusterRole (or Role) it binds. */
  readonly roleName: string;
  /** Who gets the role. */
  readonly subjects: RbacSubject[];
}

/** What `nodeBootstrapRbac` makes the table for: the token groups, the name prefix, and the optional bindings. */
export interface NodeBootstrapRbacOptions {
  /** The groups whose tokens may bootstrap nodes (auth-extra-groups of the tokens). */
  readonly groups: readonly string[];
  /** Prefix of every object name; kubeadm's is "kubeadm:". */
  readonly prefix: string;
  /** Whether the controller-manager approves node client certificates by itself (kubeadm: yes). */
  readonly autoApprove: boolean;
  /** Who approves kubelet serving certificates (serverTLSBootstrap); nobody does by default. */
  readonly kubeletServingApprover?: RbacSubject;
  /** Whether the tokens and nodes may read the two ConfigMaps `kubeadm join` reads after discovery. */
  readonly joinConfig?: boolean;
  /**
   * Users of the legacy static token file (kube-apiserver --token-auth-file) who bootstrap nodes, bound by name
   * to system:node-bootstrapper as the older guides bind `kubelet-bootstrap`
   * (`kubectl create clusterrolebinding kubelet-bootstrap --clusterrole=system:node-bootstrapper --user=kubelet-bootstrap`).
   */
  readonly users?: readonly string[];
}

/**
 * The ConfigMaps (kube-system) `kubeadm join` reads with the bootstrap token once discovery has pinned the CA:
 * the ClusterConfiguration (kubeadm constants KubeadmConfigConfigMap / ClusterConfigurationConfigMapKey) and the
 * cluster's KubeletConfiguration (KubeletBaseConfigurationConfigMap / KubeletBaseConfigurationConfigMapKey).
 */
export const JOIN_CONFIG_MAPS = {
  /** The namespace of both. */
  namespace: 'kube-system',
  /** The ClusterConfiguration. */
  kubeadmConfig: {
    /** The ConfigMap's name. */
    name: 'kubeadm-config',
    /** The data key holding the ClusterConfiguration. */
    key: 'ClusterConfiguration',
    /** The Role (after the prefix) that lets tokens and nodes read it. */
    role: 'nodes-kubeadm-config',
  },
  /** The cluster's KubeletConfiguration. */
  kubeletConfig: {
    /** The ConfigMap's name. */
    name: 'kubelet-config',
    /** The data key holding the KubeletConfiguration. */
    key: 'kubelet',
    /** The Role (after the prefix) that lets tokens and nodes read it. */
    role: 'kubelet-config',
  },
} as const;

const groups = (names: readonly string[]): RbacSubject[] => names.map((name) => ({ kind: 'Group', name }));
const users = (names: readonly string[]): RbacSubject[] => names.map((name) => ({ kind: 'User', name }));

/** The signer of kubelet serving certificates, which no built-in controller approves. */
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

/** The roles and bindings for bootstrap tokens of `options.groups`. */
export function nodeBootstrapRbac(options: NodeBootstrapRbacOptions): {
  /** The ClusterRoles and Roles. */
  roles: RbacRole[];
  /** The ClusterRoleBindings and RoleBindings. */
  bindings: RbacBinding[];
} {
  const name = (suffix: string) => `${options.prefix}${suffix}`;
  const bootstrappers = groups(options.groups);
  const roles: RbacRole[] = [
    // kubeadm join reads the Node object of its own name before it starts the kubelet.
    { name: name('get-nodes'), rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] },
    // Anonymous discovery: a joining node reads cluster-info before it has any credential.
    {
      name: name('bootstrap-signer-clusterinfo'),
      namespace: CLUSTER_INFO_NAMESPACE,
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: [CLUSTER_INFO_NAME] }],
    },
  ];
  const bindings: RbacBinding[] = [
    // Lets a bootstrap token (and a user of the static token file) create the kubelet's client CSR.
    { name: name('kubelet-bootstrap'), roleName: 'system:node-bootstrapper', subjects: [...bootstrappers, ...users(options.users ?? [])] },
    { name: name('get-nodes'), roleName: name('get-nodes'), subjects: bootstrappers },
    { name: name('bootstrap-signer-clusterinfo'), namespace: CLUSTER_INFO_NAMESPACE, roleName: name('bootstrap-signer-clusterinfo'), subjects: [{ kind: 'User', name: 'system:anonymous' }] },
  ];
  if (options.autoApprove) {
    bindings.push(
      { name: name('node-autoapprove-bootstrap'), roleName: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', subjects: bootstrappers },
      { name: name('node-autoapprove-certificate-rotation'), roleName: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', subjects: groups(['system:nodes']) },
    );
  }
  if (options.joinConfig) {
    // kubeadm's uploadconfig and kubelet phases: get on exactly that ConfigMap, for join tokens and for nodes (upgrades).
    for (const configMap of [JOIN_CONFIG_MAPS.kubeadmConfig, JOIN_CONFIG_MAPS.kubeletConfig]) {
      const namespace = JOIN_CONFIG_MAPS.namespace;
      roles.push({ name: name(configMap.role), namespace, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: [configMap.name] }] });
      bindings.push({ name: name(configMap.role), namespace, roleName: name(configMap.role), subjects: [...bootstrappers, ...groups(['system:nodes'])] });
    }
  }
  if (options.kubeletServingApprover) {
    // No controller approves kubelet-serving CSRs; whoever does needs approve on that signer (Kubernetes docs, "Authorization").
    roles.push({ name: name('kubelet-serving-approver'), rules: approverRules(KUBELET_SERVING_SIGNER) });
    bindings.push({ name: name('kubelet-serving-approver'), roleName: name('kubelet-serving-approver'), subjects: [options.kubeletServingApprover] });
  }
  return { roles, bindings };
}
