// meshloop status page: polls the process's JSON API once a second and draws the mesh, its incidents and its
// delivery. Plain JS, no dependencies (docs/decisions/0022-status-page.md). Works against `meshloop sim --serve`
// (whole-mesh ground truth) and against one `meshloop node` (its own view); fields either lacks are shown as n/a.
(function () {
  'use strict';
  const SVG = 'http://www.w3.org/2000/svg';
  const POLL_MS = 1000;
  const HISTORY = 600;
  const $ = (id) => document.getElementById(id);
  const state = { layout: new Map(), layoutKey: '', history: [], lastStatusTime: null };

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }
  const num = (x) => (typeof x === 'number' && isFinite(x) ? x : null);

  async function getJson(path) {
    const res = await fetch(path, { cache: 'no-store' });
    if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
    return res.json();
  }

  // Force-directed layout, deterministic (nodes start on a circle in id order), recomputed only when the set of
  // nodes or links changes, so the picture stays still while health and quality change.
  function layout(nodes, links, w, h) {
    const key = nodes.map((n) => n.id).join(',') + '|' + links.map((l) => l.a + '-' + l.b).join(',');
    if (key === state.layoutKey) return state.layout;
    const pos = new Map();
    const n = nodes.length;
    nodes.forEach((node, i) => {
      const a = (2 * Math.PI * i) / Math.max(n, 1);
      pos.set(node.id, { x: w / 2 + (w / 3) * Math.cos(a), y: h / 2 + (h / 3) * Math.sin(a) });
    });
    const k = Math.sqrt((w * h) / Math.max(n, 1)) * 0.75;
    for (let iter = 0; iter < 300; iter++) {
      const disp = new Map(nodes.map((node) => [node.id, { x: 0, y: 0 }]));
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const p = pos.get(nodes[i].id), q = pos.get(nodes[j].id);
          let dx = p.x - q.x, dy = p.y - q.y;
          const d = Math.max(Math.hypot(dx, dy), 0.01);
          const f = (k * k) / d;
          dx = (dx / d) * f; dy = (dy / d) * f;
          disp.get(nodes[i].id).x += dx; disp.get(nodes[i].id).y += dy;
          disp.get(nodes[j].id).x -= dx; disp.get(nodes[j].id).y -= dy;
        }
      }
      for (const l of links) {
        const p = pos.get(l.a), q = pos.get(l.b);
        if (!p || !q) continue;
        let dx = p.x - q.x, dy = p.y - q.y;
        const d = Math.max(Math.hypot(dx, dy), 0.01);
        const f = (d * d) / k;
        dx = (dx / d) * f; dy = (dy / d) * f;
        disp.get(l.a).x -= dx; disp.get(l.a).y -= dy;
        disp.get(l.b).x += dx; disp.get(l.b).y += dy;
      }
      const t = 0.1 * w * (1 - iter / 300) + 0.5;
      for (const node of nodes) {
        const p = pos.get(node.id), v = disp.get(node.id);
        const d = Math.max(Math.hypot(v.x, v.y), 0.01);
        p.x = Math.min(w - 20, Math.max(20, p.x + (v.x / d) * Math.min(d, t)));
        p.y = Math.min(h - 20, Math.max(20, p.y + (v.y / d) * Math.min(d, t)));
      }
    }
    state.layout = pos;
    state.layoutKey = key;
    return pos;
  }

  function linkColour(l) {
    if (!l.up) return null;  // dashed red from the stylesheet
    const q = Math.min(1, Math.max(0, num(l.quality) ?? 0));
    return 'hsl(' + Math.round(120 * q) + ', 60%, ' + (48 - 8 * q) + '%)';
  }

  function drawTopology(topo) {
    const svg = $('topology');
    const w = 600, h = 420;
    const nodes = topo.nodes || [];
    const links = topo.links || [];
    const pos = layout(nodes, links, w, h);
    svg.replaceChildren();
    for (const l of links) {
      const p = pos.get(l.a), q = pos.get(l.b);
      if (!p || !q) continue;
      const line = el('line', { x1: p.x, y1: p.y, x2: q.x, y2: q.y, 'data-a': l.a, 'data-b': l.b,
                                'data-up': String(!!l.up) }, svg);
      const c = linkColour(l);
      if (c) line.setAttribute('stroke', c);
      el('title', {}, line).textContent =
        'link ' + l.a + '-' + l.b + (l.up ? ' up' : ' down') + ', cost ' + l.cost + ', quality ' +
        (num(l.quality) === null ? 'n/a' : l.quality.toFixed(2));
    }
    const r = nodes.length > 60 ? 6 : 11;
    for (const node of nodes) {
      const p = pos.get(node.id);
      const g = el('g', { class: 'node', 'data-id': node.id, 'data-health': node.health }, svg);
      el('circle', { cx: p.x, cy: p.y, r: r }, g);
      if (r > 8) el('text', { x: p.x, y: p.y }, g).textContent = node.id;
      el('title', {}, g).textContent = 'node ' + node.id + ': ' + node.health + ', ' + node.neighbours + ' neighbours';
    }
    const count = (h2) => nodes.filter((n) => n.health === h2).length;
    $('topology-summary').textContent = nodes.length + ' nodes: ' + count('up') + ' up, ' + count('degraded') +
      ' degraded, ' + count('down') + ' down; ' + links.filter((l) => l.up).length + '/' + links.length + ' links up';
    $('observer').textContent = topo.observer === 'sim' ? 'simulated mesh (ground truth)' : 'seen from node ' + topo.observer;
    if (num(topo.time_s) !== null) $('clock').textContent = 't = ' + topo.time_s.toFixed(1) + ' s';
  }

  function drawIncidents(data) {
    const rows = (data.incidents || []).slice().reverse();  // newest first
    const body = $('incidents').tBodies[0];
    body.replaceChildren();
    for (const inc of rows) {
      const tr = document.createElement('tr');
      tr.dataset.incidentId = inc.id;
      tr.dataset.outcome = inc.outcome;
      const cells = [inc.id, num(inc.time_s) === null ? '' : inc.time_s.toFixed(1) + ' s', inc.node, inc.element,
                     inc.diagnosis, inc.action + (inc.mode && inc.mode !== 'act' ? ' (' + inc.mode + ')' : ''),
                     inc.outcome, inc.reason];
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = text ?? '';
        if (i === 6) td.className = 'outcome';
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    $('incident-count').textContent = rows.length + ' shown';
  }

  function chart(svg, points, key, max, unit) {
    svg.replaceChildren();
    const w = 300, h = 90, pad = 14;
    for (const f of [0, 0.5, 1]) {
      const y = h - pad - f * (h - 2 * pad);
      el('line', { class: 'grid', x1: pad, x2: w, y1: y, y2: y }, svg);
      el('text', { x: 0, y: y + 3 }, svg).textContent = (f * max).toFixed(max < 2 ? 1 : 0);
    }
    const pts = points.filter((p) => num(p[key]) !== null && num(p.time_s) !== null);
    if (pts.length < 2) {
      el('text', { x: w / 2 - 20, y: h / 2 }, svg).textContent = 'no data yet';
      return;
    }
    const t0 = pts[0].time_s, t1 = pts[pts.length - 1].time_s;
    const xs = (t) => pad + ((t - t0) / Math.max(t1 - t0, 1e-9)) * (w - pad);
    const ys = (v) => h - pad - (Math.min(v, max) / max) * (h - 2 * pad);
    el('polyline', { points: pts.map((p) => xs(p.time_s).toFixed(1) + ',' + ys(p[key]).toFixed(1)).join(' ') }, svg);
    el('text', { x: pad, y: h - 2 }, svg).textContent = t0.toFixed(0) + ' s';
    el('text', { x: w - 30, y: h - 2 }, svg).textContent = t1.toFixed(0) + ' s ' + unit;
  }

  function drawStatus(st) {
    // The simulator sends its history; a node sends its current values only: keep them here.
    if (Array.isArray(st.history)) {
      state.history = st.history.slice(-HISTORY);
    } else if (num(st.time_s) !== null && st.time_s !== state.lastStatusTime) {
      state.history.push({ time_s: st.time_s, pdr: num(st.pdr), reroute_p95_s: num(st.reroute_p95_s) });
      state.history = state.history.slice(-HISTORY);
    }
    state.lastStatusTime = st.time_s;
    const pdr = num(st.pdr), rr = num(st.reroute_p95_s);
    $('pdr-now').textContent = pdr === null ? 'n/a' : (100 * pdr).toFixed(2) + ' %';
    $('reroute-now').textContent = rr === null ? 'n/a' : rr.toFixed(2) + ' s';
    const rmax = Math.max(1, ...state.history.map((p) => num(p.reroute_p95_s) ?? 0));
    chart($('pdr-chart'), state.history, 'pdr', 1, '');
    chart($('reroute-chart'), state.history, 'reroute_p95_s', Math.ceil(rmax), 's');
  }

  async function poll() {
    const errors = [];
    await Promise.all([
      getJson('/api/v1/topology').then(drawTopology),
      getJson('/api/v1/incidents').then(drawIncidents),
      getJson('/api/v1/status').then(drawStatus),
    ].map((p) => p.catch((e) => errors.push(e.message))));
    $('error').textContent = errors.join('; ');
    document.body.dataset.updated = String(Date.now());
    setTimeout(poll, POLL_MS);
  }
  poll();
})();
