// The cluster's PKI: `npx cdk8s synth` writes the manifests to dist/ and keeps the keys in .pki/.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterCA, ControlPlanePki, TlsCertificate } from 'cdk8s-pki';

export class Cluster extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    // kubeadm's control plane, declared once. Construct ids are state slots: renaming one issues anew.
    new ControlPlanePki(this, 'pki', {
      cluster: {
        controlPlaneEndpoint: 'api.k8s.example.internal:6443',
        serviceSubnets: ['10.96.0.0/12'],
        nodes: [
          { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' },
          { name: 'worker-1', role: 'worker' },
        ],
      },
      // Workers join with a bootstrap token kept in the state (`npx cdk8s-pki join-command worker-1`).
      tlsBootstrap: {},
    });
    // A CA of your own beside the cluster's, and a server certificate it signs (its Secret: `npx cdk8s-pki export-secrets`).
    const ingressCa = new ClusterCA(this, 'ingress-ca', { commonName: 'ingress-ca' });
    new TlsCertificate(this, 'web', { ca: ingressCa, commonName: 'web.example.internal', dnsNames: ['web.example.internal'] });
  }
}

// Only `cdk8s synth` (which runs this file) synthesizes; a test importing the chart binds a state of its own.
if (require.main === module) {
  const app = new App();
  new Cluster(app, 'cluster');
  app.synth();
}
