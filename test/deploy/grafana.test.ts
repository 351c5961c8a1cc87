// deploy/grafana/kafka-forwarder.json: the dashboard is well formed for Grafana (unique panel ids,
// titles, the data source variable, a query per target), every query names only metrics and labels
// that a fresh Metrics (src/telemetry/metrics.ts) exports, each used as its type allows, and every
// kafka_forwarder_* metric has a panel. The queries are read by a small reader of the PromQL a
// dashboard uses (selectors, rate()/increase(), aggregations with by/without, histogram_quantile());
// what it does not understand (vector matching) is reported, never passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Metrics } from '../../src/telemetry/index.ts';

const DASHBOARD_FILE = new URL('../../deploy/grafana/kafka-forwarder.json', import.meta.url);
const DATASOURCE_VARIABLE = 'DS_PROMETHEUS';
const DATASOURCE_UID = '${' + DATASOURCE_VARIABLE + '}';

// The parts of the dashboard JSON the checker reads; Grafana fills in the rest.
interface DatasourceRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  datasource?: DatasourceRef;
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: DatasourceRef;
  targets?: Target[];
  /** A collapsed row holds its panels here. */
  panels?: Panel[];
}
interface Variable {
  name?: string;
  type?: string;
  datasource?: DatasourceRef;
  query?: string | { query?: string };
}
interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

interface ExportedMetric {
  name: string;
  type: string;
  labels: ReadonlySet<string>;
}
type Exported = ReadonlyMap<string, ExportedMetric>;

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** What a fresh Metrics exports: names as /metrics writes them (counters end in _total), types, label names. */
async function exportedMetrics(): Promise<Exported> {
  const { registry } = new Metrics();
  const exported = new Map<string, ExportedMetric>();
  for (const { name, type } of await registry.getMetricsAsJSON()) {
    // prom-client's typings say MetricType is a numeric enum; at run time it is the exposition type.
    const typeName: unknown = type;
    assert.equal(typeof typeName, 'string', `${name}: type ${String(typeName)}`);
    const metric = registry.getSingleMetric(name);
    assert.ok(metric, name);
    // The declared label names (le excluded) are kept on the metric; prom-client's typings omit them.
    const labelNames: unknown = Reflect.get(metric, 'labelNames');
    assert.ok(isStringArray(labelNames), `${name}: labelNames ${String(labelNames)}`);
    exported.set(name, { name, type: String(typeName), labels: new Set(labelNames) });
  }
  return exported;
}

async function loadDashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

// ---------------------------------------------------------------------------------------------
// The PromQL reader.

const METRIC_TOKEN = /\b(?:kafka_forwarder|process|nodejs)_\w+/g;
const HISTOGRAM_PARTS = ['_bucket', '_sum', '_count'] as const;
type Part = '' | (typeof HISTOGRAM_PARTS)[number];
/** Aggregation operators: the only calls that take by (...) / without (...). */
const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'quantile',
  'topk',
  'bottomk',
  'limitk',
  'limit_ratio',
]);
/** Aggregations that return the input series themselves, labels and all. */
const SELECTING_AGGREGATIONS = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase']);
/** Labels Prometheus adds to every scraped series; `le` is handled with the histogram buckets. */
const TARGET_LABELS = new Set(['job', 'instance']);

interface Grouping {
  kind: 'by' | 'without';
  labels: string[];
}
/** A call (function, aggregation or bare parenthesis: name '') around a metric reference. */
interface Call {
  name: string;
  grouping?: Grouping;
}
interface Reference {
  token: string;
  metric: ExportedMetric;
  part: Part;
}
interface ExprAnalysis {
  problems: string[];
  references: Reference[];
  /** Labels the query's result series can carry (for legends). */
  resultLabels: Set<string>;
}
interface ExprContext {
  /** A panel query: must filter on $job and $instance, counters must go through rate()/increase(). */
  panel: boolean;
  panelType?: string;
}

/** Replaces the inside of string literals with spaces, so that positions stay and nothing in them is read. */
function blankStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, (s) => s[0] + ' '.repeat(s.length - 2) + s[0]);
}

function splitLabels(list: string): string[] {
  return list
    .split(',')
    .map((label) => label.trim())
    .filter((label) => label !== '');
}

function matchingClose(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) return i;
  }
  return code.length;
}

/** The call whose argument list opens at `open`, with its by/without clause in front or behind. */
function callAt(code: string, open: number): Call {
  let before = code.slice(0, open).trimEnd();
  let grouping: Grouping | undefined;
  const prefix = /\b(by|without)\s*\(([^()]*)\)$/.exec(before);
  if (prefix) {
    grouping = { kind: prefix[1] === 'by' ? 'by' : 'without', labels: splitLabels(prefix[2]) };
    before = before.slice(0, prefix.index).trimEnd();
  } else {
    const suffix = /^\s*\b(by|without)\s*\(([^()]*)\)/.exec(code.slice(matchingClose(code, open) + 1));
    if (suffix) grouping = { kind: suffix[1] === 'by' ? 'by' : 'without', labels: splitLabels(suffix[2]) };
  }
  const name = /([A-Za-z_]\w*)$/.exec(before)?.[1] ?? '';
  return grouping ? { name, grouping } : { name };
}

/** The calls around `position`, innermost first. */
function enclosingCalls(code: string, position: number): Call[] {
  const calls: Call[] = [];
  let depth = 0;
  for (let i = position - 1; i >= 0; i--) {
    if (code[i] === ')') depth++;
    else if (code[i] === '(') {
      if (depth > 0) depth--;
      else calls.push(callAt(code, i));
    }
  }
  return calls;
}

function resolve(token: string, exported: Exported): { metric: ExportedMetric; part: Part } | undefined {
  const metric = exported.get(token);
  if (metric) return { metric, part: '' };
  for (const part of HISTOGRAM_PARTS) {
    if (!token.endsWith(part)) continue;
    const base = exported.get(token.slice(0, -part.length));
    if (base?.type === 'histogram' || (base?.type === 'summary' && part !== '_bucket')) return { metric: base, part };
  }
  return undefined;
}

function describeMetric(metric: ExportedMetric): string {
  const labels = [...metric.labels];
  return `${metric.name} (${metric.type}) has labels [${labels.join(', ')}]`;
}

function analyzeExpr(expr: string, exported: Exported, context: ExprContext): ExprAnalysis {
  const code = blankStrings(expr);
  const problems: string[] = [];
  const references: Reference[] = [];
  const resultLabels = new Set<string>();
  if (/\b(?:on|ignoring)\s*\(|\bgroup_(?:left|right)\b/.test(code)) {
    problems.push('uses vector matching (on/ignoring/group_left/group_right), which this checker does not read');
  }
  for (const match of code.matchAll(METRIC_TOKEN)) {
    const token = match[0];
    const position = match.index;
    const before = code.slice(0, position);
    // A label name in a selector or a by/without list, not a metric.
    if (before.lastIndexOf('{') > before.lastIndexOf('}')) continue;
    if (/\b(?:by|without)\s*\([^()]*$/.test(before)) continue;
    const resolved = resolve(token, exported);
    if (!resolved) {
      problems.push(`unknown metric "${token}": a fresh Metrics does not export it`);
      continue;
    }
    const { metric, part } = resolved;
    references.push({ token, metric, part });
    const counterLike = metric.type === 'counter' || part !== '';
    if ((metric.type === 'histogram' || metric.type === 'summary') && part === '') {
      problems.push(`"${token}" is a ${metric.type}, which has no series of that name: use _bucket, _sum or _count`);
    }

    // The selector right after the name, and a range after that.
    let after = position + token.length;
    const selector = /^\s*\{([^}]*)\}/.exec(code.slice(after));
    const labelsMatched = new Set<string>();
    if (selector) {
      const inner = expr.slice(after + selector[0].indexOf('{') + 1, after + selector[0].length - 1);
      for (const matcher of blankStrings(inner).matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)\s*["']/g)) {
        const label = matcher[1];
        labelsMatched.add(label);
        if (TARGET_LABELS.has(label) || (label === 'le' && part === '_bucket')) continue;
        if (!metric.labels.has(label))
          problems.push(`label "${label}" in the selector of ${token}: ${describeMetric(metric)}`);
      }
      if (context.panel) {
        for (const label of TARGET_LABELS) {
          if (!new RegExp(`\\b${label}\\s*=~\\s*"\\$${label}"`).test(inner)) {
            problems.push(`${token} is not filtered with ${label}=~"$${label}"`);
          }
        }
      }
      after += selector[0].length;
    } else if (context.panel) {
      problems.push(`${token} has no selector: filter it with {job=~"$job", instance=~"$instance"}`);
    }
    const hasRange = /^\s*\[[^\]]+\]/.test(code.slice(after));

    const calls = enclosingCalls(code, position);
    const innermost = calls[0]?.name ?? '';
    if (COUNTER_FUNCTIONS.has(innermost)) {
      if (!counterLike) {
        problems.push(
          `${innermost}() over ${token}, a ${metric.type}: rate(), irate() and increase() are for counters`,
        );
      }
      if (!hasRange) problems.push(`${innermost}() over ${token} has no range [...]`);
    } else if (counterLike && context.panel) {
      problems.push(`${token} is a counter${part ? ' (histogram part)' : ''}: query rate() or increase() of it`);
    }

    const quantileAt = calls.findIndex((call) => call.name === 'histogram_quantile');
    if (quantileAt >= 0) {
      if (metric.type !== 'histogram' || part !== '_bucket') {
        problems.push(`histogram_quantile() over ${token}: only a histogram's _bucket series carry le`);
      }
      for (const call of calls.slice(0, quantileAt)) {
        if (!AGGREGATIONS.has(call.name) || SELECTING_AGGREGATIONS.has(call.name)) continue;
        const grouped = call.grouping?.labels ?? [];
        const keepsLe =
          call.grouping?.kind === 'by'
            ? grouped.includes('le')
            : call.grouping?.kind === 'without' && !grouped.includes('le');
        if (!keepsLe) {
          problems.push(
            `${call.name}() inside histogram_quantile() over ${token} does not keep le: add it to by (...)`,
          );
        }
      }
    } else if (part === '_bucket' && context.panel && context.panelType !== 'heatmap') {
      problems.push(
        `${token} outside histogram_quantile(): quantiles need histogram_quantile(q, sum by (le) (rate(...)))`,
      );
    }

    // by/without labels, and the labels that reach the result.
    let labels = new Set([...metric.labels, ...TARGET_LABELS, ...(part === '_bucket' ? ['le'] : [])]);
    for (const call of calls) {
      if (call.grouping) {
        const { kind, labels: grouped } = call.grouping;
        if (!AGGREGATIONS.has(call.name)) {
          problems.push(
            `${kind} (...) after ${call.name === '' ? 'a parenthesis' : `${call.name}()`}: not an aggregation`,
          );
        }
        for (const label of grouped) {
          if (TARGET_LABELS.has(label)) continue;
          if (label === 'le' ? part !== '_bucket' : !metric.labels.has(label)) {
            problems.push(`label "${label}" in ${call.name} ${kind} (...) over ${token}: ${describeMetric(metric)}`);
          }
        }
      }
      if (call.name === 'histogram_quantile') labels.delete('le');
      else if (AGGREGATIONS.has(call.name) && !SELECTING_AGGREGATIONS.has(call.name)) {
        const { grouping } = call;
        if (grouping?.kind === 'by') labels = new Set(grouping.labels.filter((label) => labels.has(label)));
        else if (grouping?.kind === 'without')
          labels = new Set([...labels].filter((l) => !grouping.labels.includes(l)));
        else labels = new Set();
      }
    }
    for (const label of labels) resultLabels.add(label);
  }
  if (references.length === 0) {
    problems.push('names no kafka_forwarder_*, process_* or nodejs_* metric, so nothing in it is checked');
  }
  return { problems, references, resultLabels };
}

// ---------------------------------------------------------------------------------------------
// The dashboard checker.

interface DashboardAnalysis {
  problems: string[];
  /** Exported metric names the panels query. */
  queried: Set<string>;
}

function variableQuery(variable: Variable): string | undefined {
  return typeof variable.query === 'string' ? variable.query : variable.query?.query;
}

function referencesVariable(datasource: DatasourceRef | undefined): boolean {
  return datasource?.type === 'prometheus' && datasource.uid === DATASOURCE_UID;
}

function analyzeDashboard(dashboard: Dashboard, exported: Exported): DashboardAnalysis {
  const problems: string[] = [];
  const queried = new Set<string>();
  if (typeof dashboard.uid !== 'string' || dashboard.uid === '') problems.push('dashboard: no uid');
  if (typeof dashboard.title !== 'string' || dashboard.title === '') problems.push('dashboard: no title');
  if (typeof dashboard.schemaVersion !== 'number' || dashboard.schemaVersion < 36) {
    problems.push(`dashboard: schemaVersion ${String(dashboard.schemaVersion)}, expected 36 or later`);
  }

  // Template variables: the data source, then job and instance, whose queries are checked too.
  const variables = dashboard.templating?.list ?? [];
  const datasourceVariable = variables.find((variable) => variable.name === DATASOURCE_VARIABLE);
  if (datasourceVariable?.type !== 'datasource' || variableQuery(datasourceVariable) !== 'prometheus') {
    problems.push(`templating: no variable ${DATASOURCE_VARIABLE} of type datasource for prometheus`);
  }
  for (const name of TARGET_LABELS) {
    const variable = variables.find((candidate) => candidate.name === name);
    const where = `templating variable ${name}`;
    if (variable?.type !== 'query') {
      problems.push(`${where}: missing, or not of type query`);
      continue;
    }
    if (!referencesVariable(variable.datasource)) problems.push(`${where}: data source is not ${DATASOURCE_UID}`);
    const query = variableQuery(variable) ?? '';
    const labelValues = /^\s*label_values\(\s*(.+?)\s*,\s*([A-Za-z_]\w*)\s*\)\s*$/s.exec(query);
    if (!labelValues) {
      problems.push(`${where}: query "${query}" is not label_values(<metric>, ${name})`);
      continue;
    }
    const analysis = analyzeExpr(labelValues[1], exported, { panel: false });
    problems.push(...analysis.problems.map((problem) => `${where}: ${problem}`));
    const label = labelValues[2];
    if (label !== name) problems.push(`${where}: lists values of ${label}, not ${name}`);
  }

  // Panels, rows included (a collapsed row holds its panels).
  const ids = new Map<number, string>();
  const visit = (panel: Panel, index: string): void => {
    const title = typeof panel.title === 'string' ? panel.title : '';
    const where = `panel ${String(panel.id ?? `#${index}`)} "${title}"`;
    if (typeof panel.id !== 'number' || !Number.isInteger(panel.id)) problems.push(`${where}: no integer id`);
    else if (ids.has(panel.id)) problems.push(`${where}: id ${panel.id} is also the id of "${ids.get(panel.id)}"`);
    else ids.set(panel.id, title);
    if (title.trim() === '') problems.push(`${where}: no title`);
    if (panel.type === 'row') {
      (panel.panels ?? []).forEach((inner, i) => visit(inner, `${index}.${i}`));
      return;
    }
    if (!referencesVariable(panel.datasource)) {
      problems.push(`${where}: datasource is not {type: prometheus, uid: ${DATASOURCE_UID}}`);
    }
    const targets = panel.targets ?? [];
    if (targets.length === 0) problems.push(`${where}: no targets`);
    const refIds = new Set<string>();
    for (const target of targets) {
      const refId = target.refId ?? '?';
      const at = `${where} target ${refId}`;
      if (refIds.has(refId)) problems.push(`${at}: refId used twice`);
      refIds.add(refId);
      if (target.datasource !== undefined && !referencesVariable(target.datasource)) {
        problems.push(`${at}: datasource is not ${DATASOURCE_UID}`);
      }
      if (typeof target.expr !== 'string' || target.expr.trim() === '') {
        problems.push(`${at}: no expr`);
        continue;
      }
      const analysis = analyzeExpr(target.expr, exported, { panel: true, panelType: panel.type });
      problems.push(...analysis.problems.map((problem) => `${at}: ${problem}`));
      for (const reference of analysis.references) queried.add(reference.metric.name);
      for (const [, label] of (target.legendFormat ?? '').matchAll(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g)) {
        if (!analysis.resultLabels.has(label)) {
          const has = [...analysis.resultLabels].join(', ');
          problems.push(`${at}: legend {{${label}}} is not a label of the result (it has [${has}])`);
        }
      }
    }
  };
  (dashboard.panels ?? []).forEach((panel, i) => visit(panel, String(i)));
  if (ids.size === 0) problems.push('dashboard: no panels');

  // Coverage: a metric of ours without a panel is a metric nobody looks at.
  for (const metric of exported.values()) {
    if (metric.name.startsWith('kafka_forwarder_') && !queried.has(metric.name)) {
      problems.push(`${metric.name} (${metric.type}) is exported but no panel queries it: add one to the dashboard`);
    }
  }
  return { problems, queried };
}

/** The problems with a dashboard, as sentences naming the panel, target and metric; none means it passes. */
function checkDashboard(dashboard: Dashboard, exported: Exported): string[] {
  return analyzeDashboard(dashboard, exported).problems;
}

// ---------------------------------------------------------------------------------------------

const exported = await exportedMetrics();
const shipped = await loadDashboard();

function allPanels(panels: Panel[] = []): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels)]);
}

/** A copy of the shipped dashboard, changed by `change`. */
function mutated(change: (dashboard: Dashboard) => void): Dashboard {
  const copy = structuredClone(shipped);
  change(copy);
  return copy;
}

function panelTitled(dashboard: Dashboard, title: string): Panel {
  const panel = allPanels(dashboard.panels).find((candidate) => candidate.title === title);
  assert.ok(panel, `no panel "${title}"`);
  return panel;
}

function firstTarget(dashboard: Dashboard, title: string): Target & { expr: string } {
  const target = panelTitled(dashboard, title).targets?.[0];
  assert.ok(typeof target?.expr === 'string', `panel "${title}" has no expr`);
  return Object.assign(target, { expr: target.expr });
}

test('the registry exports counters under their _total names, with types and label names', () => {
  assert.deepEqual(exported.get('kafka_forwarder_batches_accepted_total'), {
    name: 'kafka_forwarder_batches_accepted_total',
    type: 'counter',
    labels: new Set(['input']),
  });
  assert.equal(exported.get('kafka_forwarder_batches_accepted'), undefined);
  assert.equal(exported.get('kafka_forwarder_produce_latency_seconds')?.type, 'histogram');
  // Node's default metrics are collected into the same registry, unprefixed.
  assert.equal(exported.get('process_cpu_seconds_total')?.type, 'counter');
  assert.deepEqual(exported.get('nodejs_gc_duration_seconds')?.labels, new Set(['kind']));
});

test('the dashboard is well formed and every query matches the exported metrics', () => {
  assert.deepEqual(checkDashboard(shipped, exported), []);
});

test('the dashboard has the stock Node.js process panels and the template variables', () => {
  const { queried } = analyzeDashboard(shipped, exported);
  for (const name of [
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_seconds',
    'process_resident_memory_bytes',
    'nodejs_heap_size_used_bytes',
  ]) {
    assert.ok(queried.has(name), `no panel queries ${name}`);
  }
  const names = (shipped.templating?.list ?? []).map((variable) => variable.name);
  assert.deepEqual(names, [DATASOURCE_VARIABLE, 'job', 'instance']);
});

test('the checker reports a metric that does not exist, and the metric left without a panel', () => {
  const broken = mutated((dashboard) => {
    const target = firstTarget(dashboard, 'Events accepted per input');
    target.expr = target.expr.replace('kafka_forwarder_events_accepted_total', 'kafka_forwarder_events_acepted_total');
  });
  const problems = checkDashboard(broken, exported);
  assert.ok(
    problems.some((problem) => problem.includes('unknown metric "kafka_forwarder_events_acepted_total"')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((problem) => problem.startsWith('kafka_forwarder_events_accepted_total (counter) is exported but')),
    problems.join('\n'),
  );
});

test('the checker reports a newly exported metric that has no panel, by name', () => {
  const withNewMetric = new Map(exported);
  const name = 'kafka_forwarder_something_new_total';
  withNewMetric.set(name, { name, type: 'counter', labels: new Set(['output']) });
  assert.deepEqual(checkDashboard(shipped, withNewMetric), [
    `${name} (counter) is exported but no panel queries it: add one to the dashboard`,
  ]);
});

test('the checker reports misused types, labels and panel structure', async (t) => {
  const S = 'job=~"$job", instance=~"$instance"';
  const cases: { name: string; change: (dashboard: Dashboard) => void; expected: string }[] = [
    {
      name: 'a by label the metric does not have',
      change: (d) => {
        const target = firstTarget(d, 'Batches accepted per input');
        target.expr = target.expr.replace('by (input)', 'by (connection)');
      },
      expected: 'label "connection" in sum by (...) over kafka_forwarder_batches_accepted_total',
    },
    {
      name: 'a matcher label the metric does not have',
      change: (d) => {
        firstTarget(d, 'Spool bytes').expr = `kafka_forwarder_spool_bytes{${S}, output="x"}`;
      },
      expected: 'label "output" in the selector of kafka_forwarder_spool_bytes',
    },
    {
      name: 'rate() over a gauge',
      change: (d) => {
        firstTarget(d, 'Spool bytes').expr = `rate(kafka_forwarder_spool_bytes{${S}}[5m])`;
      },
      expected: 'rate() over kafka_forwarder_spool_bytes, a gauge',
    },
    {
      name: 'a counter without rate()',
      change: (d) => {
        firstTarget(d, 'Retries per output and error class').expr = `kafka_forwarder_retries_total{${S}}`;
      },
      expected: 'kafka_forwarder_retries_total is a counter',
    },
    {
      name: 'histogram_quantile() over a counter',
      change: (d) => {
        firstTarget(d, 'Produce latency (p50, p99) per output').expr =
          `histogram_quantile(0.99, sum by (le) (rate(kafka_forwarder_retries_total{${S}}[5m])))`;
      },
      expected: 'histogram_quantile() over kafka_forwarder_retries_total',
    },
    {
      name: 'histogram_quantile() over an aggregation that drops le',
      change: (d) => {
        const target = firstTarget(d, 'Produce latency (p50, p99) per output');
        target.expr = target.expr.replace('by (le, output)', 'by (output)');
      },
      expected:
        'sum() inside histogram_quantile() over kafka_forwarder_produce_latency_seconds_bucket does not keep le',
    },
    {
      name: 'a histogram by its bare name',
      change: (d) => {
        const target = firstTarget(d, 'Produce latency (p50, p99) per output');
        target.expr = target.expr.replace('_seconds_bucket', '_seconds');
      },
      expected: '"kafka_forwarder_produce_latency_seconds" is a histogram',
    },
    {
      name: 'a query not filtered by the instance variable',
      change: (d) => {
        firstTarget(d, 'Spool bytes').expr = 'kafka_forwarder_spool_bytes{job=~"$job"}';
      },
      expected: 'kafka_forwarder_spool_bytes is not filtered with instance=~"$instance"',
    },
    {
      name: 'a legend label the result does not have',
      change: (d) => {
        firstTarget(d, 'Batches accepted per input').legendFormat = '{{output}}';
      },
      expected: 'legend {{output}} is not a label of the result',
    },
    {
      name: 'a duplicate panel id',
      change: (d) => {
        const [first, second] = allPanels(d.panels).filter((panel) => panel.type !== 'row');
        second.id = first.id;
      },
      expected: `is also the id of`,
    },
    {
      name: 'a panel on another data source',
      change: (d) => {
        panelTitled(d, 'Spool bytes').datasource = { type: 'prometheus', uid: 'prometheus' };
      },
      expected: '"Spool bytes": datasource is not {type: prometheus',
    },
    {
      name: 'a target without expr',
      change: (d) => {
        const [target] = panelTitled(d, 'Spool bytes').targets ?? [];
        delete target.expr;
      },
      expected: '"Spool bytes" target A: no expr',
    },
    {
      name: 'an unknown metric in a template variable',
      change: (d) => {
        const variable = d.templating?.list?.find((candidate) => candidate.name === 'job');
        assert.ok(variable);
        variable.query = 'label_values(kafka_forwarder_build, job)';
      },
      expected: 'templating variable job: unknown metric "kafka_forwarder_build"',
    },
  ];
  for (const { name, change, expected } of cases) {
    await t.test(name, () => {
      const problems = checkDashboard(mutated(change), exported);
      assert.ok(
        problems.some((problem) => problem.includes(expected)),
        `expected a problem containing ${JSON.stringify(expected)}, got:\n${problems.join('\n')}`,
      );
    });
  }
});
