// Errors in a cluster spec file as a user meets them through ControlPlanePki: every error of the file at once, each
// on the line of its key, enums with their allowed values, strict JSON, and a missing file named with its path.
import * as path from 'node:path';
import { Chart, Testing } from 'cdk8s';
import { ControlPlanePki, PkiState, SpecError, usePkiState } from '../../constructs';
import { tempDir } from '../support/programs';

const workspace = tempDir();
afterAll(() => workspace.cleanup());

/** The error ControlPlanePki throws for a spec file, as its message lines. */
function errorLines(file: string): string[] {
  const app = Testing.app();
  usePkiState(app, PkiState.inMemory({ clock: () => new Date('2026-01-15T09:00:00Z'), seed: 'spec-file' }));
  try {
    new ControlPlanePki(new Chart(app, 'example'), 'pki', { cluster: file });
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return err.message.split('\n');
  }
  throw new Error('the spec was accepted');
}

test('every error of a YAML file, each on the line of its key, in file order', () => {
  const file = workspace.file(
    'cluster.yaml',
    [
      'clusterName: kubernetes', //           1
      'keyAlgorithm: ed25519', //             2
      'serviceSubnets:', //                   3
      '  - fd00::/127', //                    4
      'nodes:', //                            5
      '  - name: cp-1', //                    6
      '    role: control-plane', //           7
      '    ip:', //                           8
      '      10.0.1', //                      9
      '  - name: cp-2', //                   10
      '    role: boss', //                   11
      '    ip: 10.0.0.12', //                12
      '    commonNmae: x', //                13
    ].join('\n'),
  );
  expect(errorLines(file)).toEqual([
    `example/pki: ${file}:2: keyAlgorithm: "ed25519" is not one of "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096"`,
    `example/pki: ${file}:8: nodes[0].ip: "10.0.1" is not a valid IPv4 or IPv6 address`,
    `example/pki: ${file}:11: nodes[1].role: "boss" is not one of "control-plane", "worker"`,
    `example/pki: ${file}:13: nodes[1].commonNmae: is not a known field (known: name, role, ip, additionalIps)`,
  ]);
});

test('errors found after the schema (cross-field rules) are all reported too', () => {
  const file = workspace.file(
    'cross.yaml',
    [
      'controlPlaneEndpoint: "999.999.999.999:06443"', // 1
      'serviceSubnets: ["fd00::/127"]', //                2
      'nodes:', //                                        3
      '  - { name: cp-1, role: control-plane, ip: 10.0.0.11 }', // 4
      '  - { name: cp-2, role: worker, ip: 10.0.0.11 }', //        5
    ].join('\n'),
  );
  const lines = errorLines(file);
  expect(lines).toEqual([
    expect.stringMatching(new RegExp(`^example/pki: ${file}:1: controlPlaneEndpoint: "999.999.999.999:06443" has a port that is not a number 1-65535`)),
    `example/pki: ${file}:2: serviceSubnets[0]: "fd00::/127" is too small: a service CIDR needs room for the kubernetes Service and cluster DNS (at most /124)`,
    `example/pki: ${file}:5: nodes[1].ip: "10.0.0.11" is already the address of nodes[0].ip`,
  ]);
});

test('a JSON file with a trailing comma is a syntax error on its line', () => {
  const file = workspace.file('cluster.json', '{\n  "nodes": [\n    { "name": "cp-1", "role": "control-plane", "ip": "10.0.0.11" },\n  ]\n}\n');
  const lines = errorLines(file);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toBe(`example/pki: ${file}:3: not valid JSON: a trailing comma (JSON allows none before "]" or "}")`);
});

test('a missing file names the construct, the prop and the resolved path', () => {
  expect(errorLines('missing/cluster.yaml')).toEqual([`example/pki: cluster: cluster spec file "missing/cluster.yaml" (${path.resolve('missing/cluster.yaml')}): no such file`]);
});
