// The example app: `npm run synth` writes its manifests to dist/ and its keys to .pki/;
// `cdk8s-pki export-node <node> --out DIR` then writes a node's /etc/kubernetes from .pki/.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { CaRotation, certManager, ClusterCA, ControlPlanePki, RancherIngressTLS, RancherServingCertificate, SecretOutput, useSecretOutput } from '../constructs';
import { ClusterSpec } from '../src/kubeadm/cluster-spec';
import { reportErrors } from '../src/report';

/** The reference cluster: three stacked control-plane nodes behind a load balancer, two workers, dual-stack Services. */
export const REFERENCE_CLUSTER: ClusterSpec = {
  clusterName: 'kubernetes',
  controlPlaneEndpoint: 'api.k8s.example.internal:6443',
  serviceSubnets: ['10.96.0.0/12', 'fd00:10:96::/112'],
  dnsDomain: 'cluster.local',
  // The load balancer's address, so clients may also reach the API by IP.
  apiServerCertSANs: ['10.0.0.10'],
  nodes: [
    { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' },
    { name: 'cp-2', role: 'control-plane', ip: '10.0.0.12' },
    { name: 'cp-3', role: 'control-plane', ip: '10.0.0.13' },
    { name: 'worker-1', role: 'worker', ip: '10.0.1.21' },
    { name: 'worker-2', role: 'worker', ip: '10.0.1.22' },
  ],
};

/** A demo Sealed Secrets controller's certificate (public; its key was discarded). */
export const DEMO_CONTROLLER_CERTIFICATE = 'examples/sealed-secrets-controller.crt';

export class ExampleCluster extends Chart {
  readonly pki: ControlPlanePki;
  readonly clusterCaIssuer: certManager.ClusterCaIssuer;
  readonly rancher: RancherIngressTLS;

  constructor(scope: Construct, id: string, props: ChartProps & { cluster?: ClusterSpec; ingressCaRotation?: CaRotation } = {}) {
    super(scope, id, props);
    // Private material reaches dist/ only sealed, to the demo controller of examples/ (run from the project root).
    useSecretOutput(this, SecretOutput.sealed({ controllerCertificate: path.resolve(DEMO_CONTROLLER_CERTIFICATE) }));
    // Workers join by TLS bootstrapping with a token kept in the state; its Secret is sealed.
    this.pki = new ControlPlanePki(this, 'pki', { cluster: props.cluster ?? REFERENCE_CLUSTER, tlsBootstrap: {} });
    // cert-manager signs workload certificates with the cluster CA; the CA key pair Secret is sealed.
    this.clusterCaIssuer = new certManager.ClusterCaIssuer(this, 'cluster-ca-issuer', { ca: this.pki.certificateAuthorities.ca, name: 'kubernetes-ca' });
    // Rancher with a certificate of a private ingress CA, brought as Secret tls-rancher-ingress (sealed); agents
    // pin that CA (tls-ca), and the values file carries its CATTLE_CA_CHECKSUM.
    const ingressCa = new ClusterCA(this, 'ingress-ca', { commonName: 'example-ingress-ca', rotation: props.ingressCaRotation });
    this.rancher = new RancherIngressTLS(this, 'rancher', {
      hostname: 'rancher.example.internal',
      mode: 'secret',
      certificate: RancherServingCertificate.fromClusterCa(ingressCa),
      agentTLSMode: 'strict',
      version: '2.12.3',
    });
  }
}

if (require.main === module) {
  reportErrors(() => {
    const app = new App();
    new ExampleCluster(app, 'example');
    app.synth();
  });
}
