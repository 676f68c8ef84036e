/**
 * The review copies of each node's static Pods and KubeletConfiguration in the output directory:
 * `nodes/<cluster>-<node>/<path under /etc/kubernetes>.review`, each starting with a comment saying whose file it
 * is. Out of `dist/`'s top level, so `kubectl apply -f dist/` and an Argo CD directory source (not recursive by
 * default) skip them; and not named `.yaml`, because `cdk8s synth --stdout` (what an Argo CD plugin for cdk8s
 * runs) prints every `.yaml` file of the output directory, subdirectories included, and `kubectl apply -R` or
 * `directory.recurse` read `.yaml`, `.yml` and `.json` at any depth.
 */
import { NODE_FILES } from '../kubeadm/catalog';
import { KUBERNETES_DIR } from '../kubeadm/layout';
import { NodePlan } from '../kubeadm/node-bundle';

/** The directory of the review copies, under the output directory. */
export const NODE_REVIEW_DIR = 'nodes';
/** What each review copy's name ends with: no manifest reader takes it for a manifest. */
export const NODE_REVIEW_SUFFIX = '.review';

/** Whether a planned file is one a reviewer reads: a static Pod or the KubeletConfiguration (no key, no token). */
function isReviewed(path: string): boolean {
  return path.startsWith(`${NODE_FILES.staticPods.path}/`) || path === NODE_FILES.kubeletConfig.path;
}

/**
 * `plan`'s reviewed files by path under the output directory (`nodes/<directory>/manifests/etcd.yaml.review` …), each
 * the bytes export-node writes, after a comment naming the node, the file and `exportCommand`.
 */
export function nodeReviewFiles(plan: NodePlan, directory: string, exportCommand: string): Record<string, string> {
  return Object.fromEntries(
    plan.files.flatMap(({ path, content }) =>
      isReviewed(path) && content.kind === 'text'
        ? [[`${NODE_REVIEW_DIR}/${directory}/${path}${NODE_REVIEW_SUFFIX}`, `# Node ${plan.node}'s ${KUBERNETES_DIR}/${path}, for review: \`${exportCommand}\` writes it to the node.\n# Not for kubectl apply.\n${content.text}`]]
        : [],
    ),
  );
}
