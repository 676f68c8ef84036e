// The scale curve as a static SVG: two panels, ms per node (cold and warm synth) and peak RSS, against N.
// Written by hand: the charting libraries on npm draw in a browser (a DOM or a canvas) or need a headless one to
// emit a file, and two line charts with linear axes are a few dozen lines of SVG.

/** One N of the scale benchmark, as its child process measured it. */
export interface ScalePoint {
  /** Workers, beside the one control-plane node. */
  readonly n: number;
  readonly coldMs: number;
  readonly warmMs: number;
  /** process.resourceUsage().maxRSS, in KiB. */
  readonly maxRssKiB: number;
}

/** ms per node, over the N workers and the control-plane node. */
export const perNode = (totalMs: number, n: number) => totalMs / (n + 1);

interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
}

const PANEL = { width: 420, height: 280, left: 64, right: 16, top: 36, bottom: 48 };
const FONT = 'font-family="sans-serif" font-size="12"';

/** 1, 2 or 5 × a power of ten, at least max / 5: the tick step of an axis from 0 to about max. */
function tickStep(max: number): number {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(2));

function panel(x0: number, title: string, yLabel: string, ns: readonly number[], series: readonly Series[]): string {
  const { width, height, left, right, top, bottom } = PANEL;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const xStep = tickStep(Math.max(...ns));
  const xMax = Math.ceil(Math.max(...ns) / xStep) * xStep;
  // Room above the highest value (30%), where the legend goes.
  const highest = (Math.max(...series.flatMap((s) => s.values)) || 1) * 1.3;
  const yStep = tickStep(highest);
  const yMax = Math.ceil(highest / yStep) * yStep;
  const x = (n: number) => +(x0 + left + (n / xMax) * plotW).toFixed(1);
  const y = (v: number) => +(top + plotH - (v / yMax) * plotH).toFixed(1);
  const axes: string[] = [`<text x="${x0 + width / 2}" y="20" text-anchor="middle" ${FONT} font-weight="bold">${title}</text>`];
  for (let v = 0; v <= yMax + yStep / 2; v += yStep) {
    axes.push(`<line x1="${x0 + left}" x2="${x0 + left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    axes.push(`<text x="${x0 + left - 6}" y="${y(v) + 4}" text-anchor="end" ${FONT}>${num(v)}</text>`);
  }
  for (let n = 0; n <= xMax; n += xStep) axes.push(`<text x="${x(n)}" y="${top + plotH + 16}" text-anchor="middle" ${FONT}>${n}</text>`);
  axes.push(`<rect x="${x0 + left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  axes.push(`<text x="${x0 + left + plotW / 2}" y="${height - 10}" text-anchor="middle" ${FONT}>N workers</text>`);
  axes.push(`<text transform="translate(${x0 + 16} ${top + plotH / 2}) rotate(-90)" text-anchor="middle" ${FONT}>${yLabel}</text>`);
  const lines = series.flatMap((s) => [
    `<polyline points="${s.values.map((v, j) => `${x(ns[j])},${y(v)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`,
    ...s.values.map((v, j) => `<circle cx="${x(ns[j])}" cy="${y(v)}" r="3" fill="${s.color}"/>`),
  ]);
  // The legend top right, on white, drawn last so that it stays readable where a line crosses it.
  const legendX = x0 + left + plotW - 210;
  const legend = [`<rect x="${legendX}" y="${top + 4}" width="204" height="${series.length * 16 + 6}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`];
  series.forEach((s, i) => {
    const ly = top + 18 + i * 16;
    legend.push(`<line x1="${legendX + 6}" x2="${legendX + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`);
    legend.push(`<text x="${legendX + 32}" y="${ly}" ${FONT}>${s.label}</text>`);
  });
  return [...axes, ...lines, ...legend].join('\n');
}

/** ms per node (over the N + 1 nodes) and peak RSS against N workers, as an SVG document. */
export function scalePlot(points: readonly ScalePoint[]): string {
  const ns = points.map((p) => p.n);
  const width = PANEL.width * 2;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL.height}" viewBox="0 0 ${width} ${PANEL.height}">`,
    `<rect width="${width}" height="${PANEL.height}" fill="white"/>`,
    panel(0, 'Synth time per node', 'ms per node', ns, [
      { label: 'cold synth', color: '#d62728', values: points.map((p) => perNode(p.coldMs, p.n)) },
      { label: 'warm synth (nothing to change)', color: '#1f77b4', values: points.map((p) => perNode(p.warmMs, p.n)) },
    ]),
    panel(PANEL.width, 'Peak RSS of the process', 'MiB', ns, [{ label: 'peak RSS (cold + warm synth)', color: '#2ca02c', values: points.map((p) => p.maxRssKiB / 1024) }]),
    '</svg>',
    '',
  ].join('\n');
}
