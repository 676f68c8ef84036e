// Rancher with a certificate from a private CA that this app keeps in its PKI state: a root, an intermediate
// that signs, and Rancher's certificate. The chart is told the CA is private (privateCA, Secret tls-ca), and
// agents trust that CA only (agentTLSMode strict), checked against CATTLE_CA_CHECKSUM when they register.
import { App, Chart, ChartProps, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterCA, RancherIngressTLS, RancherServingCertificate } from 'cdk8s-pki';

export const RANCHER_HOSTNAME = 'rancher.example.internal';

export class RancherPrivateCa extends Chart {
  readonly rootCa: ClusterCA;
  readonly issuingCa: ClusterCA;
  readonly rancher: RancherIngressTLS;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    // Each CA also publishes its trust bundle, a ConfigMap beside Rancher, for clients that call Rancher's API.
    this.rootCa = new ClusterCA(this, 'root-ca', { commonName: 'Example Root CA', bundleNamespace: 'cattle-system' });
    // The intermediate ends before the root (ten years, the default): five years.
    this.issuingCa = new ClusterCA(this, 'issuing-ca', {
      commonName: 'Example Issuing CA',
      issuer: this.rootCa,
      validity: Duration.days(1825),
      bundleNamespace: 'cattle-system',
    });
    this.rancher = new RancherIngressTLS(this, 'rancher', {
      hostname: RANCHER_HOSTNAME,
      mode: 'secret',
      // tls-rancher-ingress: Rancher's certificate then the intermediate; tls-ca: the intermediate then the root.
      certificate: RancherServingCertificate.fromClusterCa(this.issuingCa),
      agentTLSMode: 'strict',
      version: '2.12.3',
    });
  }
}

if (require.main === module) {
  const app = new App();
  new RancherPrivateCa(app, 'rancher-private-ca');
  app.synth();
}
