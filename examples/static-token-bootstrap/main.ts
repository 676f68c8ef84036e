// The static-token bootstrap of the older guides: kube-apiserver reads the token from a token file
// (token,user,uid,"groups") and maps it to the user kubelet-bootstrap, who is bound to system:node-bootstrapper;
// the worker's kubelet starts with a bootstrap kubeconfig holding that token and asks for its certificate.
import { App, Chart, ChartProps, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { ControlPlanePki, kubeadm, TokenAuthFileOptions } from 'cdk8s-pki';

export const CLUSTER: kubeadm.ClusterSpec = {
  controlPlaneEndpoint: 'k8s-api.example.internal:6443',
  nodes: [
    { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' },
    { name: 'worker-1', role: 'worker' },
  ],
};

/** The token file's entry, as the guides write it: `<token>,kubelet-bootstrap,10001,"…"`. */
export const BOOTSTRAP_USER: TokenAuthFileOptions = { user: 'kubelet-bootstrap', uid: '10001' };

export class StaticTokenCluster extends Chart {
  readonly pki: ControlPlanePki;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    this.pki = new ControlPlanePki(this, 'pki', {
      cluster: CLUSTER,
      tlsBootstrap: {
        // kube-apiserver reads the token file only when it starts: a token that never expires, as a static token.
        token: { ttl: Duration.seconds(0) },
        tokenAuthFile: BOOTSTRAP_USER,
      },
    });
  }
}

if (require.main === module) {
  const app = new App();
  new StaticTokenCluster(app, 'cluster');
  app.synth();
}
