// The clusters the scale benchmarks synthesize: ControlPlanePki for one control-plane node and N workers.
import { App, Chart } from 'cdk8s';
import { ControlPlanePki, usePkiState } from '../constructs';
import { ClusterSpec, NodeSpec } from '../src/kubeadm/cluster-spec';
import { PkiState } from '../src/state/pki-state';

/** cp-1 and N workers, addresses unique up to 2^24 workers. */
export function clusterOf(workers: number): ClusterSpec {
  const nodes: NodeSpec[] = [{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }];
  for (let i = 0; i < workers; i++) nodes.push({ name: `worker-${i + 1}`, role: 'worker', ip: `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` });
  return { clusterName: 'kubernetes', controlPlaneEndpoint: 'api.example:6443', serviceSubnets: ['10.96.0.0/12'], dnsDomain: 'cluster.local', nodes };
}

/** One synth of `cluster` against `state`, as an app would: validations, commit, manifests into `outdir`. */
export function synthCluster(state: PkiState, cluster: ClusterSpec, outdir: string): void {
  const app = new App({ outdir });
  usePkiState(app, state);
  const chart = new Chart(app, 'c');
  new ControlPlanePki(chart, 'pki', { cluster });
  app.synth();
}

