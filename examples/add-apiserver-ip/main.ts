// Day 2: the load balancer in front of the API servers got a second address, and clients are to reach the API by
// it. The change is one line of the cluster spec; synth re-issues each control-plane node's apiserver certificate
// (same key), and `cdk8s-pki export-node` delivers it.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ControlPlanePki, kubeadm } from 'cdk8s-pki';

/** The address this example adds to the API server's certificates. */
export const ADDED_IP = '203.0.113.10';

export const CLUSTER: kubeadm.ClusterSpec = {
  controlPlaneEndpoint: 'k8s-api.example.internal:6443',
  apiServerCertSANs: [
    '10.0.0.10', // the load balancer's internal address
    '203.0.113.10', // its public address, added later
  ],
  nodes: [
    { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' },
    { name: 'cp-2', role: 'control-plane', ip: '10.0.0.12' },
    { name: 'cp-3', role: 'control-plane', ip: '10.0.0.13' },
    { name: 'worker-1', role: 'worker' },
  ],
};

export interface ApiServerIpClusterProps extends ChartProps {
  /** The cluster spec. @default CLUSTER */
  readonly cluster?: kubeadm.ClusterSpec;
}

export class ApiServerIpCluster extends Chart {
  readonly pki: ControlPlanePki;

  constructor(scope: Construct, id: string, props: ApiServerIpClusterProps = {}) {
    super(scope, id, props);
    this.pki = new ControlPlanePki(this, 'pki', { cluster: props.cluster ?? CLUSTER, tlsBootstrap: {} });
  }
}

if (require.main === module) {
  const app = new App();
  new ApiServerIpCluster(app, 'cluster');
  app.synth();
}
