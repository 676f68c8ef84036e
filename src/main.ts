// The example app: `npm run synth` writes its manifests to dist/ and its keys to .pki/.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterCA, TlsCertificate } from '../constructs';
import { reportErrors } from './report';

export class ExampleCluster extends Chart {
  readonly ca: ClusterCA;
  readonly etcdServer: TlsCertificate;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    this.ca = new ClusterCA(this, 'kubernetes-ca', { bundleNamespace: 'kube-public' });
    this.etcdServer = new TlsCertificate(this, 'etcd-server', {
      ca: this.ca,
      commonName: 'cp-1',
      dnsNames: ['cp-1', 'localhost'],
      ipAddresses: ['10.0.0.11', '127.0.0.1', '::1'],
      usage: 'peer',
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
