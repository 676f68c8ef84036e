// The example app with the reference cluster's keys in $BENCH_KEY_ALGORITHM (default ecdsa-p256): the app both
// sides of bench/process.ts's cold comparison make, so that an RSA run compares the same set as the openssl script.
// Rancher's ingress CA and serving certificate keep their own default, ECDSA P-256, as in examples/main.ts.
import { App } from 'cdk8s';
import { ExampleCluster, REFERENCE_CLUSTER } from '../examples/main';
import { isKeyAlgorithm } from '../src/engine/keys';
import { reportErrors } from '../src/report';

const keyAlgorithm = process.env.BENCH_KEY_ALGORITHM ?? 'ecdsa-p256';
if (!isKeyAlgorithm(keyAlgorithm)) throw new Error(`BENCH_KEY_ALGORITHM: unknown key algorithm ${keyAlgorithm}`);

reportErrors(() => {
  const app = new App();
  new ExampleCluster(app, 'example', { cluster: { ...REFERENCE_CLUSTER, keyAlgorithm } });
  app.synth();
});
