import { App, Chart, Names, YamlOutputType } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { NODE_REVIEW_SUFFIX } from '../src/report/node-files';
import { committedPkiOutputFiles } from './pki-report';

/**
 * Everything `app.synth()` would write, by path under the output directory, without writing the manifests: for
 * snapshot tests of a whole app. Each manifest file (`example.k8s.yaml` …) and each node review file
 * (`nodes/example-pki-cp-1/manifests/etcd.yaml.review` …) gives its objects; `PKI.md` gives its text.
 * `Testing.synth(chart)` gives one chart's objects only, and misses the node files and PKI.md, which follow
 * the whole app (a new worker would not change such a snapshot).
 *
 * It runs the app's validations first, as `app.synth()` does, so the PKI state commits (into the in-memory
 * state a test binds with `usePkiState`), and the commit writes PKI.md and the node files into the app's
 * output directory, as a synth does. Manifest file names follow the app's `yamlOutputType`: one file per chart
 * (the default, with cdk8s's `0000-` prefixes when charts depend on each other) or one file for the app.
 */
export function synthApp(app: App): Record<string, unknown[] | string> {
  // synthYaml() resolves the chart dependencies and runs the validations exactly as synth() does.
  app.synthYaml();
  const written = Object.entries(committedPkiOutputFiles(app)).map(([file, text]) => [file, file.endsWith(NODE_REVIEW_SUFFIX) ? parseAllDocuments(text).map((doc) => doc.toJS()) : text]);
  return { ...manifests(app), ...Object.fromEntries(written) };
}

function manifests(app: App): Record<string, unknown[]> {
  const charts = app.charts;
  const extension = app.outputFileExtension;
  switch (app.yamlOutputType) {
    case YamlOutputType.FILE_PER_APP:
      return charts.length ? { [`app${extension}`]: charts.flatMap((chart) => chart.toJson()) } : {};
    case YamlOutputType.FILE_PER_CHART: {
      // cdk8s numbers the files when any chart depends on another (nested charts, cross-chart references).
      const indexed = charts.some((chart) => chart.node.dependencies.some((dependency) => Chart.isChart(dependency)));
      return Object.fromEntries(charts.map((chart, i) => [`${indexed ? `${String(i).padStart(4, '0')}-` : ''}${Names.toDnsLabel(chart)}${extension}`, chart.toJson()]));
    }
    default:
      throw new Error(`synthApp: yamlOutputType ${app.yamlOutputType} is not supported (FILE_PER_CHART or FILE_PER_APP)`);
  }
}
