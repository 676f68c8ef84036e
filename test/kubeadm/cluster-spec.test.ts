import { SpecError } from '../../src/engine/errors';
import { ClusterSpec, loadClusterSpec, resolveCluster } from '../../src/kubeadm/cluster-spec';
import { serviceIp } from '../../src/kubeadm/catalog';
import { tempDir } from '../support/programs';

const MINIMAL: ClusterSpec = { nodes: [{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }] };

/** The message of the SpecError `fn` throws (fails the test if it throws anything else or nothing). */
function specErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    return (err as Error).message;
  }
  throw new Error('expected a SpecError, but nothing was thrown');
}

describe('resolveCluster', () => {
  test('fills in kubeadm defaults, but ECDSA P-256 keys', () => {
    expect(resolveCluster(MINIMAL)).toMatchObject({
      clusterName: 'kubernetes',
      controlPlaneEndpoint: '10.0.0.11:6443',
      bindPort: 6443,
      serviceSubnets: ['10.96.0.0/12'],
      dnsDomain: 'cluster.local',
      keyAlgorithm: 'ecdsa-p256',
      certificateValiditySeconds: 8760 * 3600,
      caCertificateValiditySeconds: 87600 * 3600,
      workerNodes: [],
    });
  });

  test('endpoint forms: name, name:port, IPv4:port, bracketed and bare IPv6', () => {
    const endpoint = (controlPlaneEndpoint: string) => resolveCluster({ ...MINIMAL, controlPlaneEndpoint }).controlPlaneEndpoint;
    expect(endpoint('api.example.com')).toBe('api.example.com:6443');
    expect(endpoint('api.example.com:443')).toBe('api.example.com:443');
    expect(endpoint('192.0.2.10:8443')).toBe('192.0.2.10:8443');
    expect(endpoint('[2001:DB8::0:1]:6443')).toBe('[2001:db8::1]:6443');
    expect(endpoint('2001:db8::1')).toBe('[2001:db8::1]:6443');
  });

  test.each([
    [{ controlPlaneEndpoint: 'https://api.example.com:6443' }, /controlPlaneEndpoint: "https:\/\/api.example.com:6443" has a scheme/],
    [{ controlPlaneEndpoint: 'api.example.com:6443/k8s' }, /controlPlaneEndpoint: .* has a path/],
    [{ controlPlaneEndpoint: 'API_Server:6443' }, /controlPlaneEndpoint: .*neither an IP address nor a lower-case DNS name/],
    [{ controlPlaneEndpoint: 'api.example.com:70000' }, /controlPlaneEndpoint: .*port that is not a number 1-65535/],
    [{ serviceSubnets: ['10.96.0.0/33'] }, /serviceSubnets\[0\]: "10.96.0.0\/33" is not a valid CIDR range/],
    [{ serviceSubnets: ['10.96.0.0'] }, /serviceSubnets\[0\]: .* is not a valid CIDR range/],
    [{ serviceSubnets: ['10.96.0.0/12', '10.112.0.0/12'] }, /serviceSubnets\[1\]: .*one service CIDR per IP family/],
    [{ nodes: [{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.300' }] }, /nodes\[0\]\.ip: "10.0.0.300" is not a valid IPv4 or IPv6 address/],
    [{ nodes: [{ name: 'cp-1', role: 'control-plane' }] }, /nodes\[0\]\.ip: is required/],
    [{ nodes: [{ name: 'w-1', role: 'worker' }] }, /nodes: needs at least one node with role "control-plane"/],
    [{ nodes: [...MINIMAL.nodes, { name: 'cp-1', role: 'worker' }] }, /nodes\[1\]\.name: "cp-1" is already the name of nodes\[0\]/],
    [{ nodes: [{ name: 'CP_1', role: 'control-plane', ip: '10.0.0.11' }] }, /nodes\[0\]\.name: "CP_1" is not a valid DNS domain/],
    [{ certificateValidity: '87601h' }, /^certificateValidity: certificates would outlive their CA: certificateValidity 87601h is longer than caCertificateValidity 87600h$/],
    [{ caCertificateValidity: '100h' }, /^caCertificateValidity: certificates would outlive their CA: certificateValidity 8760h is longer than caCertificateValidity 100h$/],
    [{ keyAlgorithm: 'ed25519' }, /keyAlgorithm: "[a-z0-9-]+" is not one of "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"/],
    [
      { nodes: [{ name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' }, { name: 'cp-2', role: 'control-plane', ip: '10.0.0.12' }] },
      /^controlPlaneEndpoint: is required with 2 control-plane nodes: give the load balancer or DNS name in front of them$/,
    ],
    [{ caCertificateValidity: '10 years' }, /caCertificateValidity: "10 years" must be a duration of at least 1m, in h, m and s/],
    [{ keyAlgorithm: 'rsa-1024' }, /keyAlgorithm: "[a-z0-9-]+" is not one of "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"/],
    [{ apiServerCertSANs: ['not a name'] }, /apiServerCertSANs\[0\]/],
    [{ etcd: { serverCertSANs: ['ok.example'], clientCertSANs: [] } }, /etcd\.clientCertSANs: is not a known field/],
  ] as [Partial<ClusterSpec> & Record<string, unknown>, RegExp][])('refuses %j', (change, message) => {
    expect(specErrorOf(() => resolveCluster({ ...MINIMAL, ...change }))).toMatch(message);
  });

  test('node addresses are used in one spelling: IPv6 compressed and lower-case, in SANs, flags and URLs alike', () => {
    const cluster = resolveCluster({ ...MINIMAL, nodes: [{ name: 'cp-1', role: 'control-plane', ip: 'FD00:0:0:0::0001', additionalIps: ['2001:DB8::A'] }] });
    expect(cluster.controlPlaneNodes[0]).toEqual(expect.objectContaining({ ip: 'fd00::1', additionalIps: ['2001:db8::a'] }));
    expect(cluster.controlPlaneEndpoint).toBe('[fd00::1]:6443');
  });

  test('service IPs: the first (kubernetes Service) and tenth (cluster DNS) address of each family', () => {
    expect(serviceIp('10.96.0.0/12', 1)).toBe('10.96.0.1');
    expect(serviceIp('10.96.7.9/12', 10)).toBe('10.96.0.10');
    expect(serviceIp('fd00:10:96::/112', 1)).toBe('fd00:10:96::1');
    expect(serviceIp('fd00:10:96::/112', 10)).toBe('fd00:10:96::a');
  });
});

describe('loadClusterSpec', () => {
  const withFile = (name: string, text: string, fn: (file: string) => void) => {
    const tmp = tempDir();
    try {
      fn(tmp.file(name, text));
    } finally {
      tmp.cleanup();
    }
  };

  test('reads YAML and JSON into the same cluster', () => {
    const yamlText = ['nodes:', '  - name: cp-1', '    role: control-plane', '    ip: 10.0.0.11', 'dnsDomain: corp.local', ''].join('\n');
    withFile('cluster.yaml', yamlText, (yamlFile) =>
      withFile('cluster.json', JSON.stringify({ ...MINIMAL, dnsDomain: 'corp.local' }), (jsonFile) => {
        expect(loadClusterSpec(yamlFile)).toEqual(loadClusterSpec(jsonFile));
        expect(loadClusterSpec(yamlFile).dnsDomain).toBe('corp.local');
      }),
    );
  });

  test('an error names the file, the line and the path in the file', () => {
    const text = [
      'clusterName: lab', // 1
      'nodes:', // 2
      '  - name: cp-1', // 3
      '    role: control-plane', // 4
      '    ip: 10.0.0.11', // 5
      '  - name: cp-2', // 6
      '    role: control-plane', // 7
      '    ip: 10.0.0.12', // 8
      '  - name: w-1', // 9
      '    role: worker', // 10
      '    ip: 10.0.1', // 11
      '',
    ].join('\n');
    withFile('cluster.yaml', text, (file) => {
      expect(specErrorOf(() => loadClusterSpec(file))).toBe(`${file}:11: nodes[2].ip: "10.0.1" is not a valid IPv4 or IPv6 address`);
    });
  });

  test('a missing field points at the object that lacks it; a duplicate at the second name', () => {
    const missing = ['nodes:', '  - name: cp-1', '    role: control-plane', ''].join('\n');
    withFile('c.yaml', missing, (file) => expect(specErrorOf(() => loadClusterSpec(file))).toBe(`${file}:2: nodes[0].ip: is required`));
    const duplicate = ['nodes:', '  - {name: cp-1, role: control-plane, ip: 10.0.0.11}', '  - {name: cp-1, role: worker}', ''].join('\n');
    withFile('c.yaml', duplicate, (file) => expect(specErrorOf(() => loadClusterSpec(file))).toMatch(new RegExp(`^${file}:3: nodes\\[1\\]\\.name: "cp-1" is already`)));
  });

  test('a YAML syntax error names the line', () => {
    withFile('c.yaml', 'nodes:\n  - name: cp-1\n   role: [\n', (file) => expect(specErrorOf(() => loadClusterSpec(file))).toMatch(new RegExp(`^${file}:\\d+: not valid YAML`)));
  });
});
