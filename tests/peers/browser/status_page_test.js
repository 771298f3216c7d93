#!/usr/bin/env node
// Browser test of the status page: a real `meshloop sim --serve --realtime --mapek on` on a free 127.0.0.1 port,
// Debian's Chromium driven headless by playwright-core. The page must draw every simulated node, then follow a node
// crash injected through POST /api/v1/faults (the node turns "down", the loop's incident about it appears in the
// timeline); bad fault requests get precise 400s. Saves a screenshot (argv[2], e.g. docs/status-page.png).
// Usage: MESHLOOP_BIN=build/meshloop node status_page_test.js [screenshot.png]. Exit 0 on success.
'use strict';
const { chromium } = require('playwright-core');
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const NODES = 9;  // a 3x3 grid: node 5 is the centre, four neighbours
const CRASHED = 5;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}
async function waitFor(what, fn, ms) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try { if ((last = await fn())) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
}
function check(cond, message) { if (!cond) throw new Error(message); }

async function main() {
  const bin = process.env.MESHLOOP_BIN;
  check(bin && fs.existsSync(bin), 'MESHLOOP_BIN must name the meshloop binary');
  const shot = process.argv[2];
  const started = Date.now();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = path.join(os.tmpdir(), `meshloop-status-page-${process.pid}.log`);
  const out = fs.openSync(log, 'w');
  const sim = spawn(bin, ['sim', '--nodes', String(NODES), '--topology', 'grid', '--duration', '600s', '--warmup', '3s',
                          '--faults', '0', '--flows', '6', '--seed', '5', '--mapek', 'on', '--mapek-model', 'none',
                          '--quiet', '--serve', `127.0.0.1:${port}`, '--realtime'],
                    { stdio: ['ignore', out, out] });
  let browser;
  let failed = false;
  try {
    await waitFor('the simulator to serve', async () => (await fetch(`${base}/healthz`)).ok, 15000);

    // Bad fault requests: precise JSON errors, nothing injected.
    const post = (body) => fetch(`${base}/api/v1/faults`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
                                                         headers: { 'Content-Type': 'application/json' } });
    for (const [body, needle] of [['not json', 'JSON object'], [{ kind: 'meteor', node: 1, duration_s: 5 }, 'meteor'],
                                  [{ kind: 'node_crash', node: 99, duration_s: 5 }, '99'],
                                  [{ kind: 'node_crash', node: 2, duration_s: -1 }, 'duration_s'],
                                  [{ kind: 'link_cut', link: '1-9', duration_s: 5 }, '1-9']]) {
      const res = await post(body);
      const j = await res.json();
      check(res.status === 400 && j.error && j.error.message.includes(needle),
            `POST ${JSON.stringify(body)}: expected 400 mentioning '${needle}', got ${res.status} ${JSON.stringify(j)}`);
    }

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });
    await page.goto(base + '/');
    await page.waitForFunction((n) => document.querySelectorAll('#topology .node').length === n, NODES, { timeout: 15000 });
    await page.waitForFunction(() => document.querySelectorAll('#topology line').length > 0, null, { timeout: 5000 });
    // Converged: every node up, every link up, before the fault.
    await page.waitForFunction(() => [...document.querySelectorAll('#topology .node')].every((g) => g.dataset.health === 'up'),
                               null, { timeout: 20000 });
    const links = await page.locator('#topology line').count();
    check(links === 12, `a 3x3 grid has 12 links, the page draws ${links}`);

    // Traffic flowing (the warm-up over, PDR measured) before the crash, so that it breaks flows.
    await waitFor('traffic', async () => (await (await fetch(`${base}/api/v1/status`)).json()).pdr !== null, 15000);
    await page.waitForFunction(() => document.querySelector('#pdr-chart polyline') !== null, null, { timeout: 10000 });
    // Ground truth: the injected crash is counted like a scheduled fault on the simulator's /metrics.
    const injectedCrashes = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return text.split('\n').filter((l) => l.startsWith('meshloop_sim_faults_injected_total{') && l.includes('kind="node_crash"'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    };
    const crashesBefore = await injectedCrashes();
    const res = await post({ kind: 'node_crash', node: CRASHED, duration_s: 30 });
    check(res.status === 202, `injecting the crash: HTTP ${res.status} ${await res.text()}`);
    const injectedAt = Date.now();
    await page.waitForSelector(`#topology .node[data-id="${CRASHED}"][data-health="down"]`, { timeout: 10000 });
    const downAfter = Date.now() - injectedAt;
    // Its links are drawn down; the loop's decision about it shows in the timeline with its reason.
    await page.waitForFunction((c) => [...document.querySelectorAll('#topology line')]
      .filter((l) => l.dataset.a === String(c) || l.dataset.b === String(c)).every((l) => l.dataset.up === 'false'),
    CRASHED, { timeout: 10000 });
    await page.waitForFunction((c) => [...document.querySelectorAll('#incidents tbody tr')]
      .some((tr) => tr.cells[3].textContent.split(/[ -]/).includes(String(c)) && tr.cells[7].textContent.length > 0),
    CRASHED, { timeout: 30000 });  // the loop's windows are 5 s; a loaded machine paces slower
    const incidentAfter = Date.now() - injectedAt;
    await page.waitForFunction(() => document.querySelector('#pdr-chart polyline') !== null, null, { timeout: 10000 });
    await waitFor('the crash in the ground-truth metrics', async () => (await injectedCrashes()) === crashesBefore + 1, 5000);
    const status = await (await fetch(`${base}/api/v1/status`)).json();
    check(status.faults_active >= 1, `status counts the injected fault: ${JSON.stringify(status).slice(0, 200)}`);
    check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
    check(external.length === 0, `the page fetched from outside its server: ${external.join(', ')}`);
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    console.log(`ok: ${NODES} nodes, ${links} links drawn; node ${CRASHED} down on the page ${downAfter} ms after the ` +
                `injection, its incident in ${incidentAfter} ms; ${((Date.now() - started) / 1000).toFixed(1)} s in all` +
                (shot ? `; screenshot ${shot}` : ''));
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    if (browser) await browser.close();
    sim.kill('SIGTERM');
    await new Promise((r) => { const t = setTimeout(() => { sim.kill('SIGKILL'); r(); }, 5000); sim.once('exit', () => { clearTimeout(t); r(); }); });
    fs.closeSync(out);
    if (failed) console.error('simulator log (tail):\n' + fs.readFileSync(log, 'utf8').slice(-3000));
    fs.rmSync(log, { force: true });
  }
}
main().catch((e) => { console.error('FAIL: ' + (e && e.stack || e)); process.exitCode = 1; });
