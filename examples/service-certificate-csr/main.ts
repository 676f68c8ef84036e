// A Service's serving certificate through the Kubernetes certificates API, as the Kubernetes task "Manage TLS
// Certificates in a Cluster" makes it with cfssl: an ECDSA P-256 key (kept in the state here, never in a
// manifest), a CertificateSigningRequest for the Service's DNS names, its cluster IP and its Pod's IP, to the
// example.com/serving signer, and the RBAC that lets the approvers approve requests for that signer only.
import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { CertificateSigningRequest } from 'cdk8s-pki';

/** The Service and its Pod, with the names and addresses of the Kubernetes task. */
export const SERVICE = {
  name: 'my-svc',
  namespace: 'my-namespace',
  clusterIp: '192.0.2.24',
  podIp: '10.0.34.2',
} as const;

/** A signer of your own: no built-in signer issues serving certificates for Services. */
export const SIGNER_NAME = 'example.com/serving';

/** Who may approve requests for that signer. */
export const APPROVERS = 'csr-approvers';

export class ServiceCertificate extends Chart {
  readonly request: CertificateSigningRequest;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);
    const { name, namespace, clusterIp, podIp } = SERVICE;
    const dns = `${name}.${namespace}.svc.cluster.local`;
    this.request = new CertificateSigningRequest(this, 'my-svc', {
      // A fixed name, as in the Kubernetes task, so that `kubectl certificate approve` can name it. The API server
      // ignores changes to an existing request: after a change, delete the old one first.
      name: `${name}.${namespace}`,
      signerName: SIGNER_NAME,
      commonName: dns,
      dnsNames: [dns, `${name}.${namespace}.svc`, `${name}.${namespace}`, name],
      ipAddresses: [clusterIp, podIp],
      keyAlgorithm: 'ecdsa-p256',
      // The task also asks for "key encipherment", an RSA key's usage: an ECDSA key signs, it never enciphers.
      usages: ['digital signature', 'server auth'],
      approver: { kind: 'Group', name: APPROVERS },
    });
  }
}

if (require.main === module) {
  const app = new App();
  new ServiceCertificate(app, 'service-certificate');
  app.synth();
}
