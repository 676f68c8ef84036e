/**
 * The review copies of each node's static Pods and KubeletConfiguration in the output directory. They sit under
 * `nodes/<cluster>-<node>/`, out of reach of `kubectl apply -f dist/` (not recursive) and of an Argo CD directory
 * source (directory.recurse false by default), and each starts with a comment saying whose file it is.
 */
import { NODE_FILES } from '../kubeadm/catalog';
import { KUBERNETES_DIR } from '../kubeadm/layout';
import { NodePlan } from '../kubeadm/node-bundle';

/** The directory of the review copies, under the output directory. */
export const NODE_REVIEW_DIR = 'nodes';

/** Whether a planned file is one a reviewer reads: a static Pod or the KubeletConfiguration (no key, no token). */
function isReviewed(path: string): boolean {
  return path.startsWith(`${NODE_FILES.staticPods.path}/`) || path === NODE_FILES.kubeletConfig.path;
}

/**
 * `plan`'s reviewed files by path under the output directory (`nodes/<directory>/manifests/etcd.yaml` …), each
 * the bytes export-node writes, after a comment naming the node, the file and `exportCommand`.
 */
export function nodeReviewFiles(plan: NodePlan, directory: string, exportCommand: string): Record<string, string> {
  return Object.fromEntries(
    plan.files.flatMap(({ path, content }) =>
      isReviewed(path) && content.kind === 'text'
        ? [[`${NODE_REVIEW_DIR}/${directory}/${path}`, `# Node ${plan.node}'s ${KUBERNETES_DIR}/${path}, for review: \`${exportCommand}\` writes it to the node.\n# Not for kubectl apply.\n${content.text}`]]
        : [],
    ),
  );
}
