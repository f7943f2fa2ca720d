import * as fs from 'fs';
import * as path from 'path';

/** One line on a chart: x/y points (steps and losses, or labeled-set sizes and accuracies). */
export interface ChartSeries {
  label: string;
  points: { x: number; y: number }[];
}

export interface ReportChart {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  /** Log-scale x axis (labeled-set sizes 100 … 3000). */
  logX?: boolean;
  series: ChartSeries[];
}

export interface ReportTable {
  title: string;
  columns: string[];
  rows: (string | number | null)[][];
}

/** Everything report.html shows; also written next to it as report.json. */
export interface ReportData {
  title: string;
  createdAt: string;
  notes: string[];
  charts: ReportChart[];
  tables: ReportTable[];
  config?: unknown;
}

/** chart.js's UMD bundle, inlined so the page works offline from a file:// URL. */
function chartJsSource(): string {
  const file = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
  return fs.readFileSync(file, 'utf8');
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** A self-contained HTML page: inline chart.js, inline data, no network access. */
export function renderReportHtml(data: ReportData): string {
  const json = JSON.stringify({ ...data, palette: PALETTE }).replace(/</g, '\\u003c');
  const tables = data.tables.map(renderTable).join('\n');
  const notes = data.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  const charts = data.charts
    .map((c) => `<section class="chart"><h2>${escapeHtml(c.title)}</h2><div class="canvas-box"><canvas id="${escapeHtml(c.id)}"></canvas></div></section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<script>
window.__reportErrors = [];
window.addEventListener('error', function (e) { window.__reportErrors.push(String(e.message || e)); });
</script>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #666; font-size: .9rem; } table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; } th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; } .canvas-box { position: relative; height: 340px; }
pre { background: #f6f6f6; padding: .8rem; overflow: auto; font-size: .8rem; }
</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<p class="meta">Created ${escapeHtml(data.createdAt)} by <code>pretrain</code>. This page works offline.</p>
${notes ? `<ul class="notes">${notes}</ul>` : ''}
${tables}
${charts}
${data.config === undefined ? '' : `<details><summary>Resolved config</summary><pre>${escapeHtml(JSON.stringify(data.config, null, 2))}</pre></details>`}
<pre id="render-check" hidden></pre>
<script>${chartJsSource()}</script>
<script id="report-data" type="application/json">${json}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var check = { charts: 0, points: {}, errors: window.__reportErrors };
  data.charts.forEach(function (spec) {
    var canvas = document.getElementById(spec.id);
    var datasets = spec.series.map(function (s, i) {
      var color = data.palette[i % data.palette.length];
      return { label: s.label, data: s.points, borderColor: color, backgroundColor: color, pointRadius: s.points.length > 60 ? 0 : 3, tension: 0, showLine: true };
    });
    var chart = new Chart(canvas, {
      type: 'scatter',
      data: { datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        scales: {
          x: { type: spec.logX ? 'logarithmic' : 'linear', title: { display: true, text: spec.xLabel } },
          y: { title: { display: true, text: spec.yLabel } }
        },
        plugins: { legend: { position: 'bottom' } }
      }
    });
    check.charts += 1;
    check.points[spec.id] = chart.data.datasets.reduce(function (n, d) { return n + d.data.length; }, 0);
  });
  var el = document.getElementById('render-check');
  el.textContent = JSON.stringify(check);
})();
</script>
</body>
</html>
`;
}

function renderTable(table: ReportTable): string {
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(formatCell(cell))}</td>`).join('')}</tr>`).join('\n');
  return `<h2>${escapeHtml(table.title)}</h2>\n<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function formatCell(cell: string | number | null): string {
  if (cell === null) return '—';
  if (typeof cell === 'number') return Number.isInteger(cell) ? String(cell) : cell.toFixed(4);
  return cell;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Loss curves from metrics.jsonl records (one series per `phase`). */
export function lossSeriesFromMetrics(records: MetricsRecord[], key = 'loss'): ChartSeries[] {
  const byPhase = new Map<string, { x: number; y: number }[]>();
  for (const record of records) {
    const value = record[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || typeof record.step !== 'number') continue;
    const phase = String(record.phase ?? record.type ?? 'train');
    if (!byPhase.has(phase)) byPhase.set(phase, []);
    byPhase.get(phase)!.push({ x: record.step, y: value });
  }
  return [...byPhase.entries()].map(([label, points]) => ({ label, points }));
}

export interface MetricsRecord {
  phase?: string;
  /** The trainer's record type: "train" or "eval". */
  type?: string;
  step?: number;
  [key: string]: unknown;
}

export function readMetrics(file: string): MetricsRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as MetricsRecord);
}

/** Writes report.html and report.json into `dir`. */
export function writeReport(dir: string, data: ReportData, write: (file: string, text: string) => void): string {
  const file = path.join(dir, 'report.html');
  write(path.join(dir, 'report.json'), JSON.stringify(data, null, 2));
  write(file, renderReportHtml(data));
  return file;
}
