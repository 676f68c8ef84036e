// A yearly rotation of a small cluster's CAs and service-account key, one phase per pull request: each pull
// request changes the one line of CA_ROTATION below, and `cdk8s-pki plan` says what its synth will do.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { CaRotation, ControlPlanePki, kubeadm } from 'cdk8s-pki';

/** One control-plane node and one worker, which joins by TLS bootstrapping. */
export const SMALL_CLUSTER: kubeadm.ClusterSpec = {
  controlPlaneEndpoint: 'api.small.example.internal:6443',
  nodes: [
    { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' },
    { name: 'worker-1', role: 'worker', ip: '10.0.1.21' },
  ],
};

/**
 * The rotation in progress: undefined, then `{ id: '2027', phase: 'trust-both' }`, then 'issue-from-new', then
 * 'drop-old', one pull request each. A rollback is the revert of the last one.
 */
export const CA_ROTATION: CaRotation | undefined = undefined;

export class SmallCluster extends Chart {
  readonly pki: ControlPlanePki;

  constructor(scope: Construct, id: string, props: ChartProps & { caRotation?: CaRotation } = {}) {
    super(scope, id, props);
    this.pki = new ControlPlanePki(this, 'pki', { cluster: { ...SMALL_CLUSTER, caRotation: props.caRotation }, tlsBootstrap: {} });
  }
}

if (require.main === module) {
  const app = new App();
  new SmallCluster(app, 'cluster', { caRotation: CA_ROTATION });
  app.synth();
}
