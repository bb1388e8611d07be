// A remote control for Chromium, for the .NET tests: one JSON command per line on stdin, one JSON answer per line on
// stdout ({"id", "ok": true, "result"} or {"id", "ok": false, "error"}). Pages are named by the test. Commands:
//   launch {executablePath}            newPage {page, width, height}     close {page}
//   goto {page, url}  -> HTTP status   fill {page, selector, value}      click {page, selector}
//   waitFor {page, selector, state?, timeout?}                           waitForFunction {page, expression, timeout?}
//   eval {page, expression} -> value   viewport {page, width, height}    screenshot {page, path, fullPage?}
//   waitForNavigation-click {page, selector} -> status after the click's navigation
'use strict';
const readline = require('readline');
const { chromium } = require('playwright-core');

let browser = null;
const pages = new Map();

function page(name) {
  const p = pages.get(name);
  if (!p) throw new Error(`no page named ${name}`);
  return p;
}

const handlers = {
  async launch(c) {
    browser = await chromium.launch({ executablePath: c.executablePath || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    return browser.version();
  },
  async newPage(c) {
    const context = await browser.newContext({ viewport: { width: c.width || 1280, height: c.height || 800 }, deviceScaleFactor: c.scale || 1 });
    const p = await context.newPage();
    p.on('console', m => { if (m.type() === 'error') process.stderr.write(`[${c.page}] console: ${m.text()}\n`); });
    p.on('pageerror', e => process.stderr.write(`[${c.page}] page error: ${e.message}\n`));
    pages.set(c.page, p);
    return true;
  },
  async close(c) { const p = page(c.page); pages.delete(c.page); await p.context().close(); return true; },
  async goto(c) { const r = await page(c.page).goto(c.url, { waitUntil: 'domcontentloaded' }); return r ? r.status() : null; },
  async fill(c) { await page(c.page).fill(c.selector, c.value); return true; },
  async click(c) { await page(c.page).click(c.selector, { timeout: c.timeout || 10000 }); return true; },
  async 'waitForNavigation-click'(c) {
    const p = page(c.page);
    const [response] = await Promise.all([p.waitForNavigation({ waitUntil: 'domcontentloaded' }), p.click(c.selector)]);
    return response ? response.status() : null;
  },
  async waitFor(c) { await page(c.page).waitForSelector(c.selector, { state: c.state || 'visible', timeout: c.timeout || 10000 }); return true; },
  // Polled with evaluate (every 20 ms) rather than page.waitForFunction, which compiles the expression inside the page
  // and so is refused by the dashboard's Content-Security-Policy (no 'unsafe-eval'), which the tests keep in force.
  async waitForFunction(c) {
    const p = page(c.page), deadline = Date.now() + (c.timeout || 10000);
    for (;;) {
      const value = await p.evaluate(c.expression);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${c.timeout || 10000} ms waiting for ${c.expression}`);
      await new Promise(r => setTimeout(r, 20));
    }
  },
  async eval(c) { return await page(c.page).evaluate(c.expression); },
  async viewport(c) { await page(c.page).setViewportSize({ width: c.width, height: c.height }); return true; },
  async screenshot(c) { await page(c.page).screenshot({ path: c.path, fullPage: !!c.fullPage }); return c.path; },
};

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let command;
  try { command = JSON.parse(line); } catch (e) { process.stdout.write(JSON.stringify({ id: null, ok: false, error: 'not JSON: ' + e.message }) + '\n'); return; }
  try {
    const handler = handlers[command.cmd];
    if (!handler) throw new Error(`unknown command ${command.cmd}`);
    const result = await handler(command);
    process.stdout.write(JSON.stringify({ id: command.id, ok: true, result: result === undefined ? null : result }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: command.id, ok: false, error: String(e && e.message || e) }) + '\n');
  }
});
rl.on('close', async () => { if (browser) await browser.close(); process.exit(0); });
