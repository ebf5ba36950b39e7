// The API reference at /docs in a real browser: Debian's Chromium, driven by playwright-core.
//
// Run by the Rust test `dashboard::the_api_reference_renders_in_a_real_browser` against a real
// onsite-server (ONSITE_URL). The page must render every operation of /v1/openapi.json from
// the server alone: nothing leaves the server. Redoc shows its maker's logo from a CDN; the
// page's security policy blocks that one image (the logo hides itself when it cannot load),
// and it is the only thing blocked. A screenshot goes to ONSITE_OUT. Any failed check exits non-zero with a message.

import { join } from 'node:path';
import { launch } from './chromium.mjs';

const base = process.env.ONSITE_URL;
const out = process.env.ONSITE_OUT;

function check(ok, message) {
  if (!ok) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
}

const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  const LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
  const elsewhere = [];
  const blocked = [];
  page.on('console', (m) => {
    const refusedLogo = m.text().includes(LOGO) && m.text().includes('Content Security Policy');
    if (m.type() === 'error' && !refusedLogo) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(base) && !url.startsWith('blob:') && !url.startsWith('data:')) elsewhere.push(url);
  });
  // Playwright names a request the page's policy refused `csp`.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText === 'csp') blocked.push(r.url());
  });

  const spec = await (await fetch(`${base}/v1/openapi.json`)).json();
  const summaries = Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op.summary));
  check(summaries.length >= 30, `the document has ${summaries.length} operations`);

  await page.goto(`${base}/docs`);
  await page.waitForSelector('h1');
  await page.getByText('Find an order by email and access code').first().waitFor({ state: 'attached' });
  // Menu entries of collapsed groups are in the page but hidden: read the text, seen or not.
  const text = await page.evaluate(() => document.body.textContent);
  check(text.includes(spec.info.title), 'the reference shows the API title');
  const missing = summaries.filter((s) => !text.includes(s));
  check(missing.length === 0, `every operation's summary is on the page (missing: ${missing.join('; ')})`);
  check(text.includes('order.too_many_seats'), 'error codes are on the page');
  await page.screenshot({ path: join(out, 'docs.png') });
  const left = elsewhere.filter((url) => !(url === LOGO && blocked.includes(url)));
  check(left.length === 0, `no request leaves the server (${left.join(', ')}; blocked: ${blocked.join(', ')})`);
  check(problems.length === 0, `no errors in the page (${problems.join(' | ')})`);
} finally {
  await browser.close();
}
