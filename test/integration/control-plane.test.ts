// The exported /etc/kubernetes trees of the reference cluster (examples/main.ts), used by the real programs they
// are written for: see test/support/cluster-interop.ts.
import { ExampleCluster } from '../../examples/main';
import { describeClusterInterop } from '../support/cluster-interop';

describeClusterInterop({ build: (app) => new ExampleCluster(app, 'example'), controlPlaneNode: 'cp-1', worker: 'worker-1', workerJoin: 'bootstrap-token' });
