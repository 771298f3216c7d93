#!/usr/bin/env node
// Structural check of dashboards/*.json against Grafana's own published types (@grafana/schema, pinned in
// package-lock.json): the dashboard JSON model's TypeScript declarations (raw/dashboard/x/types.gen.d.ts, the
// panel plugins' panelcfg Options, common DataQuery) are parsed and every key and value of our dashboards is checked
// against them: no unknown key, every required key, enum and literal values from their sets, primitives typed.
// Beyond the schema, meshloop's rules (docs/dashboards.md): every panel has a unit from Grafana's unit ids, a
// datasource and targets with a PromQL expr; a `node` query variable over label_values(); rates over
// $__rate_interval; only metrics docs/metrics.md lists.
// Usage: node check_dashboards.js <dashboards dir> <docs/metrics.md>. Exit 1 with every problem listed.
'use strict';
const fs = require('fs');
const path = require('path');

const TYPES = path.join(path.dirname(require.resolve('@grafana/schema/package.json')), 'dist', 'types');

// --- a small reader of the generated .d.ts files: interfaces (props, extends), enums, type aliases -----------------
function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
}
function parseDecls(file, ns) {
  const src = stripComments(fs.readFileSync(path.join(TYPES, file), 'utf8'));
  const decls = {};
  const re = /export (?:declare )?(interface|enum|type) (\w+)(?:<[^>]*>)?\s*(?:extends ([^{]+))?\s*([={])/g;
  let m;
  while ((m = re.exec(src))) {
    const [, kind, name, ext] = m;
    let i = re.lastIndex;
    if (kind === 'type') {
      let depth = 0, j = i;
      for (; j < src.length; j++) {
        const c = src[j];
        if ('({<['.includes(c)) depth++;
        else if (')}>]'.includes(c)) depth--;
        else if (c === ';' && depth === 0) break;
      }
      decls[name] = { kind, text: src.slice(i, j).trim(), ns };
      continue;
    }
    let depth = 1, j = i;
    for (; j < src.length && depth > 0; j++) {
      if (src[j] === '{') depth++;
      else if (src[j] === '}') depth--;
    }
    const body = src.slice(i, j - 1);
    if (kind === 'enum') {
      const values = [];
      for (const e of body.split(',')) {
        const v = e.split('=')[1];
        if (v !== undefined) values.push(JSON.parse(v.trim().replace(/'/g, '"')));
      }
      decls[name] = { kind, values, ns };
    } else {
      const props = {};
      let d = 0, start = 0;
      for (let k = 0; k <= body.length; k++) {
        const c = body[k];
        if (c === undefined || (c === ';' && d === 0)) {
          const stmt = body.slice(start, k).trim();
          start = k + 1;
          const pm = /^(\w+)(\??):\s*([\s\S]+)$/.exec(stmt);
          if (pm) props[pm[1]] = { optional: pm[2] === '?', type: pm[3].trim() };
        } else if ('({<['.includes(c)) d++;
        else if (')}>]'.includes(c)) d--;
      }
      decls[name] = { kind, props, ns, extends: ext ? ext.split(',').map((s) => s.trim()) : [] };
    }
  }
  return decls;
}
const scopes = {
  dashboard: parseDecls('raw/dashboard/x/types.gen.d.ts', 'dashboard'),
  common: parseDecls('common/common.gen.d.ts', 'common'),
};
function panelScope(type) {
  const dir = type.replace(/-/g, '');
  const file = `raw/composable/${dir}/panelcfg/x/types.gen.d.ts`;
  if (!fs.existsSync(path.join(TYPES, file))) return null;
  return (scopes[dir] ??= parseDecls(file, dir));
}
function resolve(name, scope) {
  if (name.startsWith('common.')) return scopes.common[name.slice(7)];
  return scope[name] ?? scopes.common[name];
}

// Splits a type at top-level '|'.
function splitUnion(t) {
  const out = [];
  let d = 0, start = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if ('({<['.includes(c)) d++;
    else if (')}>]'.includes(c)) d--;
    else if (c === '|' && d === 0) { out.push(t.slice(start, i).trim()); start = i + 1; }
  }
  out.push(t.slice(start).trim());
  return out.filter(Boolean);
}
function unparen(t) {
  t = t.trim();
  while (t.startsWith('(') && t.endsWith(')')) {
    let d = 0, whole = true;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '(') d++;
      else if (t[i] === ')') d--;
      if (d === 0 && i < t.length - 1) { whole = false; break; }
    }
    if (!whole) break;
    t = t.slice(1, -1).trim();
  }
  return t;
}

// Problems with `value` as type text `t`, in `scope`. Names we cannot resolve are accepted (none in our dashboards).
function checkType(value, t, scope, where) {
  t = unparen(t);
  const branches = splitUnion(t);
  if (branches.length > 1) {
    const results = branches.map((b) => checkType(value, b, scope, where));
    return results.some((r) => r.length === 0) ? [] : [`${where}: ${JSON.stringify(value)} is not ${t}`];
  }
  if (/^'.*'$/.test(t)) return value === t.slice(1, -1) ? [] : [`${where}: ${JSON.stringify(value)} is not ${t}`];
  if (/^-?\d+(\.\d+)?$/.test(t)) return value === Number(t) ? [] : [`${where}: ${value} is not ${t}`];
  if (['string', 'number', 'boolean'].includes(t)) {
    return typeof value === t ? [] : [`${where}: ${JSON.stringify(value)} is not a ${t}`];
  }
  if (t === 'null') return value === null ? [] : [`${where}: not null`];
  if (['unknown', 'any', 'object'].includes(t) || t.startsWith('Record<')) return [];
  let m = /^Array<([\s\S]+)>$/.exec(t) || /^([\w.]+)\[\]$/.exec(t);
  if (m) {
    if (!Array.isArray(value)) return [`${where}: not an array`];
    return value.flatMap((v, i) => checkType(v, m[1], scope, `${where}[${i}]`));
  }
  if (t.startsWith('{')) return value && typeof value === 'object' ? [] : [`${where}: not an object`];
  const decl = resolve(t, scope);
  if (!decl) return [];
  if (decl.kind === 'enum') {
    return decl.values.includes(value) ? [] : [`${where}: ${JSON.stringify(value)} is not one of ${t} (${decl.values.join(', ')})`];
  }
  if (decl.kind === 'type') return checkType(value, decl.text, decl.ns === 'common' ? scopes.common : scope, where);
  return checkObject(value, decl, scope, where);
}
function allProps(decl, scope) {
  let props = { ...decl.props };
  for (const e of decl.extends || []) {
    const base = resolve(e.replace(/<.*$/, ''), scope);
    if (base && base.kind === 'interface') props = { ...allProps(base, base.ns === 'common' ? scopes.common : scope), ...props };
  }
  return props;
}
function checkObject(value, decl, scope, where, opts = {}) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [`${where}: not an object`];
  const props = allProps(decl, scope);
  const errs = [];
  for (const [k, v] of Object.entries(value)) {
    if (!(k in props)) { errs.push(`${where}: unknown key '${k}'`); continue; }
    if (opts.skip && opts.skip.includes(k)) continue;
    errs.push(...checkType(v, props[k].type, scope, `${where}.${k}`));
  }
  if (!opts.noRequired) {
    for (const [k, p] of Object.entries(props)) if (!p.optional && !(k in value)) errs.push(`${where}: missing '${k}'`);
  }
  return errs;
}

// --- meshloop's rules --------------------------------------------------------------------------------------------
// Grafana unit ids our panels may use (from Grafana's value formats: Misc, Time, Data, Data rate, Throughput).
const UNITS = new Set(['none', 'short', 'percent', 'percentunit', 's', 'ms', 'bytes', 'Bps', 'ops', 'pps', 'reqps',
                       'bool_on_off']);
// The Prometheus data source's query fields (Grafana's prometheus dataquery schema), beside common DataQuery's.
const PROM_QUERY = ['expr', 'legendFormat', 'range', 'instant', 'format', 'interval', 'intervalFactor', 'exemplar',
                    'editorMode'];
const PROMQL_WORDS = new Set(['sum', 'by', 'rate', 'increase', 'histogram_quantile', 'count', 'or', 'and', 'vector',
  'clamp_min', 'time', 'le', 'node', 'direction', 'state', 'reason', 'peer', 'diagnosis', 'action', 'outcome',
  'verdict', 'kind', 'route', 'code', 'encoding', 'job', 'detector', 'up', 'without', 'on', 'max', 'min', 'avg',
  'cache', 'mode', 'element']);

function metricNames(expr) {
  const noStrings = expr.replace(/"[^"]*"/g, '""').replace(/\[[^\]]*\]/g, '').replace(/\{[^}]*\}/g, '{}');
  return [...noStrings.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w) && !/^\d/.test(w));
}

function checkDashboard(file, exported) {
  const errs = [];
  const d = JSON.parse(fs.readFileSync(file, 'utf8'));
  const S = scopes.dashboard;
  errs.push(...checkObject(d, S.Dashboard, S, 'dashboard', { skip: ['panels', 'templating'] }));
  if (!d.uid || !d.title) errs.push('dashboard: uid and title are required here');
  const vars = (d.templating && d.templating.list) || [];
  vars.forEach((v, i) => errs.push(...checkObject(v, S.VariableModel, S, `templating.list[${i}] (${v.name})`)));
  const node = vars.find((v) => v.name === 'node');
  const q = node && (typeof node.query === 'string' ? node.query : node.query && node.query.query);
  if (!node || node.type !== 'query' || !/^label_values\([a-z_]+, node\)$/.test(q || '')) {
    errs.push('templating: needs a `node` query variable: label_values(<metric>, node)');
  } else {
    for (const m of metricNames(q.replace('label_values', ''))) if (!exported.has(m)) errs.push(`templating node: metric ${m} is not exported`);
  }
  const ids = new Set();
  (d.panels || []).forEach((p, i) => {
    const where = `panel ${p.id} "${p.title}"`;
    if (ids.has(p.id)) errs.push(`${where}: duplicate id`);
    ids.add(p.id);
    if (p.type === 'row') {
      errs.push(...checkObject(p, S.RowPanel, S, where));
      return;
    }
    errs.push(...checkObject(p, S.Panel, S, where, { skip: ['targets', 'options'] }));
    const g = p.gridPos || {};
    if (!(g.w > 0 && g.h > 0 && g.x >= 0 && g.x + g.w <= 24)) errs.push(`${where}: gridPos outside the 24 columns`);
    const unit = p.fieldConfig && p.fieldConfig.defaults && p.fieldConfig.defaults.unit;
    if (!UNITS.has(unit)) errs.push(`${where}: unit ${JSON.stringify(unit)} is not one of ${[...UNITS].join(', ')}`);
    if (!p.datasource) errs.push(`${where}: no datasource`);
    const ps = panelScope(p.type);
    if (!ps || !ps.Options) errs.push(`${where}: panel type '${p.type}' has no published options schema`);
    else errs.push(...checkObject(p.options || {}, ps.Options, ps, `${where}.options`, { noRequired: true }));
    if (!Array.isArray(p.targets) || p.targets.length === 0) errs.push(`${where}: no targets`);
    (p.targets || []).forEach((t, k) => {
      const tw = `${where}.targets[${k}]`;
      const dq = scopes.common.DataQuery;
      for (const key of Object.keys(t)) if (!(key in dq.props) && !PROM_QUERY.includes(key)) errs.push(`${tw}: unknown key '${key}'`);
      if (typeof t.refId !== 'string' || !t.refId) errs.push(`${tw}: refId required`);
      if (typeof t.expr !== 'string' || !t.expr.trim()) { errs.push(`${tw}: expr required`); return; }
      for (const m of t.expr.matchAll(/\b(rate|increase|irate)\(([^()]*)\)/g)) {
        if (!/\[\$__(rate_interval|range)\]/.test(m[2])) errs.push(`${tw}: ${m[1]}() must use [$__rate_interval] (or [$__range] in a stat): ${t.expr}`);
      }
      if (/histogram_quantile/.test(t.expr) && !/histogram_quantile\(0?\.\d+, sum by \(le(, \w+)*\) \(rate\(\w+_bucket(\{[^}]*\})?\[\$__rate_interval\]\)\)\)/.test(t.expr)) {
        errs.push(`${tw}: quantiles are histogram_quantile(q, sum by (le) (rate(x_bucket[$__rate_interval]))): ${t.expr}`);
      }
      for (const m of metricNames(t.expr)) {
        const base = m.replace(/_(bucket|sum|count)$/, '');
        if (!exported.has(m) && !exported.has(base)) errs.push(`${tw}: metric ${m} is not in docs/metrics.md: ${t.expr}`);
      }
    });
  });
  return errs;
}

// The checker must catch what it claims to: each mutation of a valid dashboard has to be reported.
function selfTest(file, exported) {
  const mutations = {
    'unknown panel key': (d) => { d.panels.find((p) => p.type !== 'row').colour = 'red'; },
    'unit not a Grafana unit id': (d) => { d.panels.find((p) => p.type !== 'row').fieldConfig.defaults.unit = 'furlongs'; },
    'fixed rate window': (d) => { d.panels.find((p) => p.type !== 'row').targets[0].expr = 'rate(process_cpu_seconds_total[5m])'; },
    'metric not exported': (d) => { d.panels.find((p) => p.type !== 'row').targets[0].expr = 'meshloop_no_such_metric_total'; },
    'enum out of range': (d) => { d.graphTooltip = 7; },
    'required key missing': (d) => { delete d.schemaVersion; },
    'options key unknown to the panel plugin': (d) => { d.panels.find((p) => p.type === 'timeseries').options.legend.colour = 1; },
    'no node variable': (d) => { d.templating.list = d.templating.list.filter((v) => v.name !== 'node'); },
  };
  const tmp = path.join(require('os').tmpdir(), `meshloop-dashboard-selftest-${process.pid}.json`);
  let failed = 0;
  for (const [name, mutate] of Object.entries(mutations)) {
    const d = JSON.parse(fs.readFileSync(file, 'utf8'));
    mutate(d);
    fs.writeFileSync(tmp, JSON.stringify(d));
    const errs = checkDashboard(tmp, exported);
    if (errs.length === 0) { console.log(`self-test: '${name}' was not reported`); failed++; }
  }
  fs.rmSync(tmp, { force: true });
  return failed;
}

function main() {
  const [dir, metricsMd] = process.argv.slice(2);
  if (!dir || !metricsMd) {
    console.error('usage: check_dashboards.js <dashboards dir> <docs/metrics.md>');
    process.exit(2);
  }
  const exported = new Set(['up']);  // Prometheus's own per-target series
  for (const m of fs.readFileSync(metricsMd, 'utf8').matchAll(/^\| `([a-zA-Z0-9_:]+)` \|/gm)) exported.add(m[1]);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) { console.error(`no dashboards in ${dir}`); process.exit(1); }
  let bad = 0;
  for (const f of files) {
    const errs = checkDashboard(path.join(dir, f), exported);
    const panels = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).panels.length;
    console.log(`${f}: ${errs.length === 0 ? 'ok' : errs.length + ' problem(s)'} (${panels} panels)`);
    for (const e of errs) console.log(`  ${f}: ${e}`);
    bad += errs.length;
  }
  const missed = selfTest(path.join(dir, files.find((f) => /overview/.test(f)) || files[0]), exported);
  console.log(`self-test: ${missed === 0 ? 'every mutation reported' : missed + ' mutation(s) missed'}`);
  process.exit(bad === 0 && missed === 0 ? 0 : 1);
}
main();
