/**
 * Charts of a run. report.md draws them as SVG files beside it (`charts/<check>.svg`), referenced as
 * images: an image renders in every Markdown viewer (GitHub, GitLab, an IDE's preview, a browser
 * opening the CI artifact), where Mermaid renders only on GitHub and in a few others. The numbers
 * behind each chart are in report.json. Mermaid `xychart-beta` stays for the bench and k6
 * summaries, which are printed or pasted as one Markdown text with no files beside it.
 *
 * The SVG comes from Apache ECharts' server-side renderer (`ssr: true`): a string built without a
 * DOM or a canvas, from a well-kept library; no hand-written axis or tick code to maintain here.
 */
export interface ChartSeries {
  /** 'scatter' only on a numeric x axis (SVG only: Mermaid has no scatter). */
  type: 'bar' | 'line' | 'scatter';
  name: string;
  values: number[];
  /** [x, y] points on a numeric x axis (XyChart.xAxis 'value'), drawn in place of `values`. */
  points?: Array<[number, number]>;
  /** A dashed line (a bound or a theory rather than a measurement). */
  dashed?: boolean;
}

export interface XyChart {
  title: string;
  xLabel: string;
  xTicks: string[];
  yLabel: string;
  series: ChartSeries[];
  /** 'value': a numeric x axis, each series given as `points` (xTicks unused). Default 'category'. */
  xAxis?: 'category' | 'value';
}

/** A chart of one check, and where report.md expects its SVG (relative to the report's directory). */
export interface ReportChart {
  file: string;
  /** The image's alternative text: what the chart shows, for a viewer that cannot show it. */
  alt: string;
  chart: XyChart;
}

/** The folder beside report.md that holds the charts. */
export const CHARTS_DIR = 'charts';

/** `charts/throttle-get-api-items.svg`: one file per check (its id made file-safe), `-name` when a check draws several. */
export function chartFile(checkId: string, name?: string): string {
  return `${CHARTS_DIR}/${slug(checkId)}${name ? `-${slug(name)}` : ''}.svg`;
}

/** The Markdown that shows a chart: an image with its alternative text. */
export function chartImage(chart: ReportChart): string {
  return `![${chart.alt.replace(/[[\]\\]/g, '')}](${chart.file})`;
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export function mermaidXyChart(chart: XyChart): string {
  const maxY = Math.max(1, ...chart.series.flatMap((s) => s.values));
  const lines = [
    '```mermaid',
    'xychart-beta',
    `  title "${escape(chart.title)}"`,
    `  x-axis "${escape(chart.xLabel)}" [${chart.xTicks.map((t) => `"${escape(t)}"`).join(', ')}]`,
    `  y-axis "${escape(chart.yLabel)}" 0 --> ${Math.ceil(maxY * 1.1)}`,
    ...chart.series.map((s) => `  ${s.type} [${s.values.map((v) => round(v)).join(', ')}]`),
    '```',
  ];
  const legend = chart.series.map((s) => `${s.type === 'bar' ? 'bars' : 'line'}: ${s.name}`).join('; ');
  return `${lines.join('\n')}\n\n_${legend}_`;
}

function escape(text: string): string {
  return text.replace(/"/g, "'");
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** The ECharts modules a bar/line chart needs, loaded once and only when a report has a chart (about 0.4 s). */
let echartsCore: Promise<typeof import('echarts/core')> | undefined;

async function loadEcharts(): Promise<typeof import('echarts/core')> {
  echartsCore ??= (async () => {
    const [core, charts, components, renderers] = await Promise.all([
      import('echarts/core'),
      import('echarts/charts'),
      import('echarts/components'),
      import('echarts/renderers'),
    ]);
    core.use([
      charts.BarChart,
      charts.LineChart,
      charts.ScatterChart,
      components.GridComponent,
      components.TitleComponent,
      components.LegendComponent,
    ]);
    core.use(renderers.SVGRenderer);
    return core;
  })();
  return echartsCore;
}

const WIDTH = 760;
const HEIGHT = 340;

/**
 * One chart as a standalone SVG document: a white background (readable in a dark theme too), no
 * animation (a file is looked at, not played), the legend under the plot.
 */
export async function renderSvgChart(chart: XyChart): Promise<string> {
  const echarts = await loadEcharts();
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  try {
    instance.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      // ECharts measures text without a canvas from Arial-like widths: name that family, and leave room for a wider fallback.
      textStyle: { fontFamily: 'Arial, Helvetica, sans-serif' },
      title: { text: chart.title, left: 'center', textStyle: { fontSize: 14 } },
      legend: { bottom: 0, itemGap: 36 },
      grid: { left: 64, right: 24, top: 48, bottom: 84 },
      xAxis:
        chart.xAxis === 'value'
          ? { type: 'value', name: chart.xLabel, nameLocation: 'middle', nameGap: 28 }
          : { type: 'category', name: chart.xLabel, nameLocation: 'middle', nameGap: 28, data: chart.xTicks },
      yAxis: { type: 'value', name: chart.yLabel, nameLocation: 'middle', nameGap: 44, minInterval: 1 },
      series: chart.series.map((s) => ({
        type: s.type,
        name: s.name,
        data: s.points ?? s.values,
        ...(s.type === 'line' ? { symbolSize: 4, showSymbol: chart.xAxis !== 'value' } : {}),
        ...(s.type === 'scatter' ? { symbolSize: 5 } : {}),
        ...(s.dashed ? { lineStyle: { type: 'dashed' } } : {}),
      })),
    });
    return `<?xml version="1.0" encoding="UTF-8"?>\n${instance.renderToSVGString()}\n`;
  } finally {
    instance.dispose();
  }
}
