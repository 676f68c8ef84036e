// Rancher HA with a Let's Encrypt certificate: cert-manager answers the HTTP-01 challenge through the ingress
// controller, and Argo CD installs the rancher chart with the TLS values this app decides.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { rancher, RancherIngressTLS } from 'cdk8s-pki';

/** Where Rancher is reached and who is told about its certificate. */
export const RANCHER_HOSTNAME = 'rancher.example.com';
export const ACME_EMAIL = 'ops@example.com';

export interface RancherLetsEncryptProps extends ChartProps {
  /** Let's Encrypt's staging server while trying things out (its rate limits are generous), then production. @default "production" */
  readonly environment?: rancher.LetsEncryptEnvironment;
}

export class RancherLetsEncrypt extends Chart {
  readonly rancher: RancherIngressTLS;

  constructor(scope: Construct, id: string, props: RancherLetsEncryptProps = {}) {
    super(scope, id, props);
    this.rancher = new RancherIngressTLS(this, 'rancher', {
      hostname: RANCHER_HOSTNAME,
      mode: 'letsEncrypt',
      email: ACME_EMAIL,
      environment: props.environment ?? 'production',
      // The class of the ingress controller that receives port 80 for the hostname (ingress-nginx on RKE2).
      ingressClass: 'nginx',
      // A public CA: agents verify Rancher with their system trust store.
      agentTLSMode: 'system-store',
      version: '2.12.3',
    });
  }
}

if (require.main === module) {
  const app = new App();
  new RancherLetsEncrypt(app, 'rancher-letsencrypt');
  app.synth();
}
