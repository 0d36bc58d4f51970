/**
 * Charts as Mermaid `xychart-beta` blocks: they render on GitHub and in most Markdown viewers,
 * and stay readable as text where they do not.
 */
export interface ChartSeries {
  type: 'bar' | 'line';
  name: string;
  values: number[];
}

export interface XyChart {
  title: string;
  xLabel: string;
  xTicks: string[];
  yLabel: string;
  series: ChartSeries[];
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
