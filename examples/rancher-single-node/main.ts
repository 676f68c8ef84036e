// Rancher on one Docker host (`docker run rancher/rancher`), its TLS declared once: `npx cdk8s synth` keeps the
// certificate and its key in .pki/, `npx cdk8s-pki export-rancher --out DIR` writes what the container mounts
// and prints its docker run line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterCA, RancherIngressTLS, RancherIngressTLSProps, RancherServingCertificate } from 'cdk8s-pki';

/** The name Rancher is reached at; DNS points it at the Docker host. */
export const HOSTNAME = 'rancher.example.com';

/** Where Rancher's docker install gets its certificate (options A to D of Rancher's docs). */
export type CertificateOption = 'rancher-generated' | 'private-ca' | 'public-ca' | 'lets-encrypt';

export interface RancherSingleNodeProps extends ChartProps {
  /** @default 'private-ca' */
  readonly certificate?: CertificateOption;
  /**
   * For 'public-ca': the certificate followed by its intermediates, and its key, as PEM files.
   * @default fullchain.pem and privkey.pem beside this file
   */
  readonly publicCertificateFiles?: { readonly chain: string; readonly key: string };
}

export class RancherSingleNode extends Chart {
  readonly rancher: RancherIngressTLS;

  constructor(scope: Construct, id: string, props: RancherSingleNodeProps = {}) {
    super(scope, id, props);
    // install: 'docker' records what `cdk8s-pki export-rancher` writes for the container (the default, 'helm', does not).
    this.rancher = new RancherIngressTLS(this, 'rancher', { hostname: HOSTNAME, version: '2.12.3', install: 'docker', ...this.tls(props) });
  }

  /** The mode of each option, and what it takes. */
  private tls(props: RancherSingleNodeProps): Pick<RancherIngressTLSProps, 'mode' | 'certificate' | 'email'> {
    switch (props.certificate ?? 'private-ca') {
      case 'rancher-generated':
        return { mode: 'rancher' };
      case 'private-ca':
        // A CA of this app issues the certificate (ECDSA P-256, one year, renewed by synth); agents pin the CA.
        return { mode: 'secret', certificate: RancherServingCertificate.fromClusterCa(new ClusterCA(this, 'ca', { commonName: 'Example Rancher CA' })) };
      case 'public-ca': {
        const files = props.publicCertificateFiles ?? { chain: path.join(__dirname, 'fullchain.pem'), key: path.join(__dirname, 'privkey.pem') };
        const certificate = RancherServingCertificate.fromPem({ certificateChainPem: fs.readFileSync(files.chain, 'utf8'), privateKeyPem: fs.readFileSync(files.key, 'utf8') });
        return { mode: 'secret', certificate };
      }
      case 'lets-encrypt':
        return { mode: 'letsEncrypt', email: 'ops@example.com' };
    }
  }
}

if (require.main === module) {
  const app = new App();
  new RancherSingleNode(app, 'single-node');
  app.synth();
}
