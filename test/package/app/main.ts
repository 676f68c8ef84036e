// A user's cdk8s app, as `cdk8s init typescript-app` lays it out, depending on the packed cdk8s-pki.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { certManager, ClusterCA, ControlPlanePki, RancherIngressTLS, RancherServingCertificate, TlsCertificate } from 'cdk8s-pki';

export class Cluster extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    // Between them these reach most of the cdk8s and cdk8s-plus APIs the library calls (ApiObject, JsonPatch, Names,
    // Duration, the CRD imports), so that an older cdk8s missing one fails here.
    const pki = new ControlPlanePki(this, 'pki', {
      cluster: {
        controlPlaneEndpoint: 'api.k8s.example.internal:6443',
        serviceSubnets: ['10.96.0.0/12'],
        nodes: [
          { name: 'cp-1', role: 'control-plane', ip: process.env.CP_1_IP ?? '10.0.0.11' },
          { name: 'worker-1', role: 'worker' },
        ],
      },
      tlsBootstrap: {},
    });
    const ca = new ClusterCA(this, 'ingress-ca', { commonName: 'app-ingress-ca' });
    new TlsCertificate(this, 'web', { ca, commonName: 'web.example.internal', dnsNames: ['web.example.internal'] });
    new certManager.ClusterCaIssuer(this, 'cluster-ca-issuer', { ca: pki.certificateAuthorities.ca, name: 'kubernetes-ca' });
    new RancherIngressTLS(this, 'rancher', {
      hostname: 'rancher.example.internal',
      mode: 'secret',
      certificate: RancherServingCertificate.fromClusterCa(ca),
      agentTLSMode: 'strict',
      version: '2.12.3',
    });
  }
}

const app = new App();
new Cluster(app, 'cluster');
app.synth();
