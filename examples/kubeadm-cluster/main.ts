// A kubeadm-style cluster from scratch: three control-plane nodes behind a load balancer's name, and a worker
// that joins either with a bootstrap token (`kubeadm join`) or with a kubelet.conf issued here.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ControlPlanePki, kubeadm } from 'cdk8s-pki';

/** The cluster: the API is reached at the load balancer's name; each control-plane node advertises its own address. */
export const CLUSTER: kubeadm.ClusterSpec = {
  controlPlaneEndpoint: 'k8s-api.example.internal:6443',
  nodes: [
    { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' },
    { name: 'cp-2', role: 'control-plane', ip: '10.0.0.12' },
    { name: 'cp-3', role: 'control-plane', ip: '10.0.0.13' },
    { name: 'worker-1', role: 'worker' },
  ],
};

/** How workers get their kubelet's client certificate. */
export type WorkerJoin = 'bootstrap-token' | 'issued-certificate';

export interface KubeadmClusterProps extends ChartProps {
  /**
   * `bootstrap-token`: workers join by TLS bootstrapping (`kubeadm join` with the line `cdk8s-pki join-command`
   * prints); the kubelet asks the cluster for its certificate. `issued-certificate`: workers get a kubelet.conf
   * with a client certificate issued here, from `cdk8s-pki export-node`.
   * @default 'bootstrap-token'
   */
  readonly workerJoin?: WorkerJoin;
}

export class KubeadmCluster extends Chart {
  readonly pki: ControlPlanePki;

  constructor(scope: Construct, id: string, props: KubeadmClusterProps = {}) {
    super(scope, id, props);
    const bootstrap = (props.workerJoin ?? 'bootstrap-token') === 'bootstrap-token';
    this.pki = new ControlPlanePki(this, 'pki', { cluster: CLUSTER, ...(bootstrap ? { tlsBootstrap: {} } : {}) });
  }
}

if (require.main === module) {
  const app = new App();
  new KubeadmCluster(app, 'cluster');
  app.synth();
}
