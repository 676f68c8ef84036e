// An empty cdk8s app, the floor of a synth process: node's startup, loading cdk8s and writing one empty chart.
// Writes into $BENCH_OUTDIR (default dist/ in the working directory).
import { App, Chart } from 'cdk8s';

const app = new App({ outdir: process.env.BENCH_OUTDIR });
new Chart(app, 'empty');
app.synth();
