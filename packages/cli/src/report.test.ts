import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ReportData, escapeHtml, lossSeriesFromMetrics, renderReportHtml } from './report';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => fs.existsSync(p));

function sampleReport(): ReportData {
  return {
    title: 'Test report <with> "quotes"',
    createdAt: '2026-01-01T00:00:00Z',
    notes: ['pre-training loss 9.1 → 6.2'],
    charts: [
      { id: 'loss', title: 'Loss', xLabel: 'step', yLabel: 'loss', series: [{ label: 'pretrain', points: [1, 2, 3, 4, 5].map((x) => ({ x, y: 10 / x })) }] },
      {
        id: 'accuracy',
        title: 'Accuracy vs labeled examples',
        xLabel: 'labeled examples',
        yLabel: 'accuracy',
        logX: true,
        series: [
          { label: 'pre-trained', points: [{ x: 100, y: 0.7 }, { x: 300, y: 0.75 }, { x: 1000, y: 0.8 }] },
          { label: 'from scratch', points: [{ x: 100, y: 0.55 }, { x: 300, y: 0.6 }, { x: 1000, y: 0.7 }] },
        ],
      },
    ],
    tables: [{ title: 'Results', columns: ['size', 'pre-trained', 'scratch'], rows: [[100, 0.7, 0.55], [300, 0.75, null]] }],
    config: { model: { name: 'bert' } },
  };
}

/** Loads the page in headless Chromium and returns the DOM after scripts ran, plus Chromium's log. */
function renderInChromium(htmlFile: string): { dom: string; log: string } {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-chromium-'));
  try {
    const result = spawnSync(
      CHROMIUM!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--enable-logging=stderr',
        '--v=0',
        '--virtual-time-budget=5000',
        '--dump-dom',
        `file://${htmlFile}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    return { dom: result.stdout ?? '', log: result.stderr ?? '' };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

describe('report.html', () => {
  it('is self-contained: chart.js inlined, no external URLs, data embedded and HTML-escaped', () => {
    const html = renderReportHtml(sampleReport());
    expect(html).toContain('Chart.js v4');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).toContain(escapeHtml('Test report <with> "quotes"'));
    expect(html).not.toContain('<with>');
    expect(html).toContain('"label":"from scratch"');
  });

  it('builds loss series per phase from metrics records, skipping non-numeric values', () => {
    const series = lossSeriesFromMetrics([
      { phase: 'pretrain', step: 1, loss: 5 },
      { phase: 'pretrain', step: 2, loss: 4 },
      { phase: 'finetune', step: 1, loss: 0.7 },
      { phase: 'finetune', step: 2, loss: Number.NaN },
      { phase: 'pretrain', step: 3 },
    ]);
    expect(series).toEqual([
      { label: 'pretrain', points: [{ x: 1, y: 5 }, { x: 2, y: 4 }] },
      { label: 'finetune', points: [{ x: 1, y: 0.7 }] },
    ]);
  });

  const chromiumIt = CHROMIUM ? it : it.skip;
  if (!CHROMIUM) console.warn('report.test: no Chromium found (/usr/bin/chromium); skipping the headless rendering test. Install it with: apt-get install -y chromium');

  chromiumIt('renders in headless Chromium without console errors, and every chart has data', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-report-'));
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, renderReportHtml(sampleReport()));
    const { dom, log } = renderInChromium(file);
    const match = /<pre id="render-check" hidden="">([^<]*)<\/pre>/.exec(dom);
    expect(match).not.toBeNull();
    const check = JSON.parse(match![1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as { charts: number; points: Record<string, number>; errors: string[] };
    expect(check.errors).toEqual([]);
    expect(check.charts).toBe(2);
    expect(check.points).toEqual({ loss: 5, accuracy: 6 });
    const consoleErrors = log.split('\n').filter((line) => /CONSOLE|Uncaught/.test(line) && /error|Uncaught/i.test(line));
    expect(consoleErrors).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  chromiumIt('the check can fail: a broken chart script is reported as an error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrain-report-'));
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, renderReportHtml(sampleReport()).replace('new Chart(canvas', 'new NoSuchChart(canvas'));
    const { dom, log } = renderInChromium(file);
    expect(dom).not.toMatch(/"charts":2/);
    expect(log).toMatch(/NoSuchChart/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

