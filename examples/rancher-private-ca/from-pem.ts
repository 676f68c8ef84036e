// The same Rancher with a certificate brought as PEM files, as a company CA hands them over (in byo/: yours, or
// demo files that `sh make-demo-ca.sh` makes there with openssl). Synthesize it with
//   npx cdk8s synth --app 'node -r ../from-source.js from-pem.ts'
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { RancherIngressTLS, RancherServingCertificate } from 'cdk8s-pki';

export const RANCHER_HOSTNAME = 'rancher.example.internal';

export interface RancherBroughtCertificateProps extends ChartProps {
  /** The directory of rancher.crt, rancher.key and cacerts.pem. @default byo/ beside this file */
  readonly directory?: string;
}

export class RancherBroughtCertificate extends Chart {
  readonly rancher: RancherIngressTLS;

  constructor(scope: Construct, id: string, props: RancherBroughtCertificateProps = {}) {
    super(scope, id, props);
    const byo = (file: string) => fs.readFileSync(path.join(props.directory ?? path.join(__dirname, 'byo'), file), 'utf8');
    this.rancher = new RancherIngressTLS(this, 'rancher', {
      hostname: RANCHER_HOSTNAME,
      mode: 'secret',
      // Rancher's certificate then the intermediate (no root), and its key.
      certificate: RancherServingCertificate.fromPem({ certificateChainPem: byo('rancher.crt'), privateKeyPem: byo('rancher.key') }),
      // The intermediate then the root, uploaded as Secret tls-ca: the CA the agents pin.
      cacertsPem: byo('cacerts.pem'),
      agentTLSMode: 'strict',
      version: '2.12.3',
    });
  }
}

if (require.main === module) {
  const app = new App();
  new RancherBroughtCertificate(app, 'rancher-private-ca-pem');
  app.synth();
}
