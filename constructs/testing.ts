import { App, Chart, Names, YamlOutputType } from 'cdk8s';

/**
 * Everything `app.synth()` would write, by file name (`example.k8s.yaml`, `example-cp-1.k8s.yaml` …), without
 * writing it: for snapshot tests of a whole app. `Testing.synth(chart)` gives one chart's objects only, and
 * misses the charts a construct adds beside its own (ControlPlanePki's node charts).
 *
 * It runs the app's validations first, as `app.synth()` does, so the PKI state commits (into the in-memory
 * state a test binds with `usePkiState`). File names follow the app's `yamlOutputType`: one file per chart
 * (the default, with cdk8s's `0000-` prefixes when charts depend on each other) or one file for the app.
 */
export function synthApp(app: App): Record<string, unknown[]> {
  // synthYaml() resolves the chart dependencies and runs the validations exactly as synth() does.
  app.synthYaml();
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

