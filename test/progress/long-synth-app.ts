// A synth long enough for the progress bar (more than its one second before it shows): three control-plane nodes and
// 30 workers, each with a kubelet.conf issued here, all with RSA-2048 keys, whose generation is what takes time (an
// ECDSA synth of 150 workers no longer does). Run from the project root with ts-node, as cdk8s.yaml runs the example.
import { App, Chart } from 'cdk8s';
import { ControlPlanePki } from '../../constructs';
import { reportErrors } from '../../src/report';

const workers = Array.from({ length: 30 }, (_, i) => ({ name: `worker-${i + 1}`, role: 'worker' as const }));

reportErrors(() => {
  const app = new App();
  new ControlPlanePki(new Chart(app, 'big'), 'pki', {
    cluster: {
      controlPlaneEndpoint: 'api.big.example.internal:6443',
      keyAlgorithm: 'rsa-2048',
      nodes: [
        { name: 'cp-1', role: 'control-plane', ip: '10.0.0.11' },
        { name: 'cp-2', role: 'control-plane', ip: '10.0.0.12' },
        { name: 'cp-3', role: 'control-plane', ip: '10.0.0.13' },
        ...workers,
      ],
    },
  });
  app.synth();
});
