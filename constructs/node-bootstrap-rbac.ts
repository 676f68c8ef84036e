import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { nodeBootstrapRbac, RbacRule, RbacSubject } from '../src/bootstrap/rbac';
import { checkBootstrapGroups, DEFAULT_NODE_TOKEN_GROUP } from '../src/bootstrap/token';
import { locateErrors } from '../src/engine/errors';

/** Which token groups may join nodes, and which optional bindings to add. */
export interface NodeBootstrapRbacProps {
  /**
   * The bootstrap groups whose tokens may join nodes (a BootstrapToken's `groups`).
   * @default ["system:bootstrappers:kubeadm:default-node-token"]
   */
  readonly groups?: string[];
  /** Prefix of every object's name, so several groups can have their own bindings. @default "kubeadm:" (kubeadm's names) */
  readonly prefix?: string;
  /**
   * Bind the controller-manager's auto-approval of node client certificates: the first one for bootstrap
   * tokens (nodeclient), renewals for nodes (selfnodeclient). Without it, someone approves every CSR by hand.
   * @default true
   */
  readonly autoApprove?: boolean;
  /**
   * Who may approve kubelet serving certificates (with `serverTLSBootstrap`): no built-in controller approves
   * kubernetes.io/kubelet-serving CSRs, so a person or an approver controller must, or kubelets stay without one.
   * @default nobody
   */
  readonly kubeletServingApprover?: RbacSubject;
  /**
   * Let the tokens and nodes read kube-system/kubeadm-config and kubelet-config (Roles `<prefix>nodes-kubeadm-config`
   * and `<prefix>kubelet-config`), which `kubeadm join` reads after discovery. ControlPlanePki sets it and
   * synthesizes the ConfigMaps; on its own, set it where something else creates them.
   * @default false
   */
  readonly joinConfig?: boolean;
  /**
   * Users of the legacy static token file (kube-apiserver --token-auth-file) who bootstrap nodes: added by name
   * to the `<prefix>kubelet-bootstrap` binding to system:node-bootstrapper, as the older guides bind
   * `kubelet-bootstrap`. Their groups in the file need no binding of their own for this.
   * @default none: only the groups are bound
   */
  readonly users?: string[];
}

/**
 * The RBAC a TLS-bootstrapping node needs, as kubeadm creates it: kubelet-bootstrap (create CSRs), get-nodes,
 * auto-approval of node client certificates, anonymous read of cluster-info for discovery, and (with `joinConfig`)
 * read of the ConfigMaps kubeadm join reads.
 */
export class NodeBootstrapRbac extends Construct {
  constructor(scope: Construct, id: string, props: NodeBootstrapRbacProps = {}) {
    super(scope, id);
    const groups = props.groups ?? [DEFAULT_NODE_TOKEN_GROUP];
    const table = locateErrors(this.node.path, () => {
      checkBootstrapGroups(groups);
      return nodeBootstrapRbac({
        groups,
        prefix: props.prefix ?? 'kubeadm:',
        autoApprove: props.autoApprove ?? true,
        kubeletServingApprover: props.kubeletServingApprover,
        joinConfig: props.joinConfig,
        users: props.users,
      });
    });

    const subject = (s: RbacSubject, i: number) => (s.kind === 'Group' ? kplus.Group.fromName(this, `subject-${i}-${s.name}`, s.name) : kplus.User.fromName(this, `subject-${i}-${s.name}`, s.name));
    const roles = new Map<string, kplus.IClusterRole | kplus.IRole>();
    for (const role of table.roles) {
      if (role.namespace) {
        roles.set(role.name, new kplus.Role(this, `role-${role.name}`, { metadata: { name: role.name, namespace: role.namespace }, rules: role.rules.map((r) => ({ verbs: r.verbs, resources: apiResources(r) })) }));
      } else {
        const clusterRole = new kplus.ClusterRole(this, `role-${role.name}`, { metadata: { name: role.name }, rules: role.rules.map((r) => ({ verbs: r.verbs, endpoints: apiResources(r).map(endpoint) })) });
        // kplus writes `resourceNames: []` for a rule on all names; drop it so the rule reads as kubeadm's.
        const apiObject = ApiObject.of(clusterRole);
        apiObject.toJson().rules.forEach((rule: { resourceNames?: string[] }, i: number) => {
          if (rule.resourceNames?.length === 0) apiObject.addJsonPatch(JsonPatch.remove(`/rules/${i}/resourceNames`));
        });
        roles.set(role.name, clusterRole);
      }
    }
    table.bindings.forEach((binding, b) => {
      const role = roles.get(binding.roleName) ?? kplus.ClusterRole.fromClusterRoleName(this, `existing-${binding.roleName}`, binding.roleName);
      const made = binding.namespace
        ? new kplus.RoleBinding(this, `binding-${binding.name}`, { metadata: { name: binding.name, namespace: binding.namespace }, role })
        : new kplus.ClusterRoleBinding(this, `binding-${binding.name}`, { metadata: { name: binding.name }, role: role as kplus.IClusterRole });
      made.addSubjects(...binding.subjects.map((s, i) => subject(s, b * 100 + i)));
    });
  }
}

/** One API resource per resource name (kplus writes a rule per resource). */
function apiResources(rule: RbacRule): kplus.IApiResource[] {
  return rule.apiGroups.flatMap((apiGroup) =>
    rule.resources.flatMap((resourceType) => (rule.resourceNames ?? [undefined]).map((resourceName) => ({ apiGroup, resourceType, resourceName }))),
  );
}

function endpoint(resource: kplus.IApiResource): kplus.IApiEndpoint {
  return { asApiResource: () => resource, asNonApiResource: () => undefined };
}
