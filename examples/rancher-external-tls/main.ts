// Rancher behind a TLS terminator outside the cluster (a load balancer or reverse proxy), whose certificate comes
// from a private CA of this app. TLS ends at the front (tls: external): the chart's Ingress serves plain HTTP
// behind it, and agents are given the front's CA to trust (privateCA, Secret tls-ca) and nothing else.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterCA, RancherIngressTLS, TlsCertificate } from 'cdk8s-pki';

export const RANCHER_HOSTNAME = 'rancher.example.internal';

export class RancherExternalTls extends Chart {
  readonly frontCa: ClusterCA;
  readonly frontCertificate: TlsCertificate;
  readonly rancher: RancherIngressTLS;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    this.frontCa = new ClusterCA(this, 'front-ca', { commonName: 'Example Front CA', bundleNamespace: 'cattle-system' });
    // The front's certificate, for the hostname clients and agents ask for. Its Secret holds the key: left out of
    // the manifests, `cdk8s-pki export-secrets` writes it for whoever configures the front.
    this.frontCertificate = new TlsCertificate(this, 'front-certificate', {
      ca: this.frontCa,
      commonName: RANCHER_HOSTNAME,
      dnsNames: [RANCHER_HOSTNAME],
      secret: { name: 'rancher-front-tls', namespace: 'rancher-front' },
    });
    this.rancher = new RancherIngressTLS(this, 'rancher', {
      hostname: RANCHER_HOSTNAME,
      mode: 'external',
      // What the front serves chains to this CA: agents pin it.
      cacertsPem: this.frontCa.trustBundlePem,
      agentTLSMode: 'strict',
      version: '2.12.3',
    });
  }
}

if (require.main === module) {
  const app = new App();
  new RancherExternalTls(app, 'rancher-external-tls');
  app.synth();
}
