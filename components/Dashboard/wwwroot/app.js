// Fogline site dashboard: the live state over server-sent events (/events). A snapshot on every (re)connection, then
// deltas every push interval; values are drawn once per animation frame. No libraries, nothing from the internet.
'use strict';
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  // What the tests and the latency benchmark read: milliseconds from a reading's timestamp to its value on screen.
  const stats = window.foglineStats = { latencies: [], frames: 0, snapshots: 0, disconnects: 0, lastSeq: 0, connected: false };
  const MAX_LATENCIES = 200000;

  let trendSeconds = 120, serverOffset = 0;
  let series = new Map();      // id -> {zone, device, metric, unit, value, ts, q, trend: [[t, v]...], row, valueEl, line, fresh}
  let alerts = new Map();      // key -> {kind, alert, ackedBy}
  let health = new Map();      // component -> {receivedAt, counters}
  let zones = new Map();       // zone -> {section, grid, summaryEl, devices: Map(device -> card)}
  let dirty = new Set();
  let alertsDirty = false, healthDirty = false;
  let scheduled = false;
  let source = null, retryTimer = null;

  const setConn = (state, text) => { const c = $('#conn'); c.dataset.state = state; c.textContent = text; };

  function connect() {
    clearTimeout(retryTimer);
    if (source) source.close();
    source = new EventSource('/events');
    source.onmessage = (e) => { try { apply(JSON.parse(e.data)); } catch (err) { console.error('bad push', err); } };
    source.onopen = () => setConn('live', 'live');
    source.onerror = () => {
      if (stats.connected) stats.disconnects++;
      stats.connected = false;
      setConn('reconnecting', 'reconnecting…');
      // The browser retries by itself after a dropped stream; a refused one (401, 503) is closed for good.
      if (source.readyState === EventSource.CLOSED) retryTimer = setTimeout(checkSessionThenConnect, 1000);
    };
  }

  async function checkSessionThenConnect() {
    try {
      const r = await fetch('/api/session', { cache: 'no-store' });
      if (r.status === 401) { location.href = '/login'; return; }
    } catch { /* the dashboard is not reachable yet */ }
    retryTimer = setTimeout(connect, 1000);
  }

  function apply(msg) {
    serverOffset = msg.now * 1000 - Date.now();
    if (msg.type === 'snapshot') {
      stats.snapshots++;
      stats.connected = true;
      resetAll();
      trendSeconds = msg.trendSeconds;
      $('#user').textContent = msg.user;
    }
    stats.frames++;
    stats.lastSeq = msg.seq;
    for (const [id, zone, device, metric, unit] of msg.series || []) {
      // A delta right after the snapshot may repeat what the snapshot had (it was built for every browser).
      const known = series.get(id);
      if (known) known.unit = unit;
      else series.set(id, { zone, device, metric, unit, value: null, ts: 0, q: 0, trend: [], row: null, fresh: false });
    }
    for (const t of msg.trends || []) {
      const s = series.get(t[0]);
      if (!s) continue;
      for (let i = 1; i + 1 < t.length; i += 2) s.trend.push([t[i], t[i + 1]]);
      dirty.add(t[0]);
    }
    for (const [id, value, ts, q] of msg.values || []) {
      const s = series.get(id);
      if (!s) continue;
      if (ts !== s.ts) s.fresh = true;
      s.value = value; s.ts = ts; s.q = q;
      if (value !== null && q === 0 && msg.type === 'delta') addTrend(s, ts, value);
      dirty.add(id);
    }
    for (const a of msg.alerts || []) { alerts.set(a.key, a); alertsDirty = true; }
    for (const key of msg.cleared || []) { alerts.delete(key); alertsDirty = true; }
    for (const h of msg.health || []) { health.set(h.component, h); healthDirty = true; }
    for (const z of msg.zones || []) zoneSection(z.zone).summary = z;
    if (msg.zones) for (const z of msg.zones) drawZoneSummary(z.zone);
    if (msg.uplink) drawUplink(msg.uplink);
    schedule();
  }

  function addTrend(s, ts, v) {
    const second = Math.floor(ts);
    const last = s.trend[s.trend.length - 1];
    if (last && last[0] === second) { last[1] = v; return; }
    if (last && second < last[0]) return;
    s.trend.push([second, v]);
    if (s.trend.length > trendSeconds) s.trend.shift();
  }

  function resetAll() {
    series = new Map(); alerts = new Map(); health = new Map(); zones = new Map(); dirty = new Set();
    $('#zones').replaceChildren();
    alertsDirty = healthDirty = true;
  }

  function schedule() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(render); }
  }

  function render() {
    scheduled = false;
    const now = Date.now();
    for (const id of dirty) {
      const s = series.get(id);
      if (!s) continue;
      if (!s.row) makeRow(s);
      s.valueEl.textContent = s.value === null ? '–' : format(s.value) + (s.unit ? ' ' + s.unit : '');
      s.row.classList.toggle('stale', s.q === 1);
      s.row.classList.toggle('bad', s.q === 2);
      s.row.dataset.ts = s.ts;
      drawTrend(s);
      if (s.fresh) {
        s.fresh = false;
        if (stats.latencies.length < MAX_LATENCIES) stats.latencies.push(now - s.ts * 1000);
      }
    }
    dirty.clear();
    if (alertsDirty) drawAlerts();
    if (healthDirty) drawHealth();
    alertsDirty = healthDirty = false;
  }

  function format(v) {
    const a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : v.toFixed(2);
  }

  function zoneSection(zone) {
    let z = zones.get(zone);
    if (z) return z;
    const section = el('section', 'zone');
    section.dataset.zone = zone;
    const h = el('h2', null, zone);
    const summaryEl = el('span', 'zone-summary');
    h.append(summaryEl);
    const grid = el('div', 'devices');
    section.append(h, grid);
    const all = [...zones.keys(), zone].sort();
    const next = zones.get(all[all.indexOf(zone) + 1]);
    $('#zones').insertBefore(section, next ? next.section : null);
    z = { section, grid, summaryEl, devices: new Map(), summary: null };
    zones.set(zone, z);
    return z;
  }

  function drawZoneSummary(zone) {
    const z = zones.get(zone);
    if (!z || !z.summary) return;
    const s = z.summary;
    const stale = s.stale && s.stale.length ? ` · stale: ${s.stale.join(', ')}` : '';
    z.summaryEl.textContent = `${s.fresh}/${s.devices} devices reporting${stale}`;
  }

  function makeRow(s) {
    const z = zoneSection(s.zone);
    let card = z.devices.get(s.device);
    if (!card) {
      card = el('div', 'device');
      card.dataset.device = s.device;
      card.append(el('h3', null, s.device));
      const names = [...z.devices.keys(), s.device].sort();
      const next = z.devices.get(names[names.indexOf(s.device) + 1]);
      z.grid.insertBefore(card, next || null);
      z.devices.set(s.device, card);
    }
    const row = el('div', 'metric');
    row.dataset.series = `${s.zone}/${s.device}/${s.metric}`;
    const valueEl = el('span', 'value', '–');
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 100 24');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('aria-hidden', 'true');
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    svg.append(line);
    row.append(el('span', 'name', s.metric), valueEl, svg);
    card.append(row);
    s.row = row; s.valueEl = valueEl; s.line = line;
  }

  function drawTrend(s) {
    const t = s.trend;
    if (t.length < 2) { s.line.setAttribute('points', ''); s.row.dataset.points = t.length; return; }
    let lo = Infinity, hi = -Infinity;
    for (const [, v] of t) { if (v < lo) lo = v; if (v > hi) hi = v; }
    // The time axis ends at the last point and spans the trend held (at least 10 s, at most trendSeconds).
    const last = t[t.length - 1][0], width = Math.min(trendSeconds, Math.max(10, last - t[0][0]));
    const span = hi - lo || 1, t0 = last - width;
    let pts = '';
    for (const [time, v] of t) {
      const x = Math.max(0, (time - t0) / width * 100);
      pts += `${x.toFixed(1)},${(22 - (v - lo) / span * 20).toFixed(1)} `;
    }
    s.line.setAttribute('points', pts);
    s.row.dataset.points = t.length;
  }

  const severityRank = { critical: 2, warning: 1 };

  function drawAlerts() {
    const list = $('#alerts');
    const items = [...alerts.values()].sort((a, b) =>
      (!!a.ackedBy - !!b.ackedBy) || (severityRank[b.alert.severity] - severityRank[a.alert.severity]) || (b.alert.ts - a.alert.ts));
    list.replaceChildren(...items.map(alertItem));
    $('#alert-count').textContent = items.length;
    $('#no-alerts').hidden = items.length > 0;
  }

  function alertItem(a) {
    const x = a.alert;
    const li = el('li', x.severity + (a.ackedBy ? ' acked' : ''));
    li.dataset.key = a.key;
    li.dataset.kind = a.kind;
    const where = a.kind === 'zone' ? `zone ${x.zone}` : `${x.zone} / ${x.device} / ${x.metric}`;
    li.append(el('span', 'kind', `${a.kind} · ${x.severity}`), el('span', 'what', `${x.rule}: ${where}`));
    if (a.ackedBy) {
      li.append(el('span', 'ackby', `acknowledged by ${a.ackedBy}`));
    } else {
      const b = el('button', null, 'Acknowledge');
      b.type = 'button';
      b.dataset.ack = a.key;
      b.addEventListener('click', () => acknowledge(a.key, b));
      li.append(b);
    }
    li.append(el('span', 'detail', describe(a) + ' · ' + new Date(x.ts * 1000).toLocaleTimeString()));
    return li;
  }

  function describe(a) {
    const x = a.alert;
    if (a.kind === 'zone') {
      return (x.conditions || []).map(c =>
        `${c.aggregate} ${c.metric} ${c.value === null ? '–' : format(c.value)} ${c.direction === 'above' ? '≥' : '≤'} ${c.threshold} (${c.devices} dev${c.device ? ', ' + c.device : ''})${c.holds ? '' : ' ✗'}`
      ).join(x.combine === 'any' ? ' or ' : ' and ');
    }
    const v = x.reading ? format(x.reading.value) + (x.reading.unit ? ' ' + x.reading.unit : '') : '';
    if (a.kind === 'anomaly') return `score ${x.anomaly.score.toFixed(3)} (${x.anomaly.model}) at ${v}`;
    return `${v} ${x.direction === 'below' ? '≤' : '≥'} ${x.threshold}`;
  }

  async function acknowledge(key, button) {
    button.disabled = true;
    try {
      const r = await fetch('/api/alerts/ack?key=' + encodeURIComponent(key), { method: 'POST', headers: { 'X-Fogline-Request': '1' } });
      if (r.status === 401) location.href = '/login';
      else if (!r.ok) button.disabled = false;
    } catch { button.disabled = false; }
  }

  function drawHealth() {
    const body = $('#health tbody');
    const now = (Date.now() + serverOffset) / 1000;
    const rows = [...health.values()].sort((a, b) => a.component.localeCompare(b.component)).map(h => {
      const tr = el('tr');
      tr.dataset.component = h.component;
      const age = now - h.receivedAt;
      if (age > 15) tr.className = 'stale';
      const c = h.counters || {};
      tr.append(el('td', null, h.component.replace(/^com\.fogline\./, '')), el('td', null, age < 1 ? 'now' : `${age.toFixed(0)} s ago`));
      for (const name of ['received', 'published', 'dropped', 'rejected', 'errors']) {
        const td = el('td', null, c[name] === undefined ? '–' : String(c[name]));
        if ((name === 'errors' || name === 'dropped') && c[name] > 0) td.className = 'bad';
        tr.append(td);
      }
      return tr;
    });
    body.replaceChildren(...rows);
  }

  function drawUplink(u) {
    const b = $('#uplink');
    b.dataset.state = u.state || 'unknown';
    b.textContent = `cloud: ${u.state || '?'} · ${u.queued ?? 0} queued`;
  }

  setInterval(() => { healthDirty = true; schedule(); }, 1000);
  connect();
})();
