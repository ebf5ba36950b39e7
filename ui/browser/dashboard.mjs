// The head-office dashboard in a real browser: Debian's Chromium, driven by playwright-core.
//
// Run by the Rust test `dashboard::head_office_works_the_dashboard_in_a_real_browser`, which
// starts a real onsite-server with demo data and desk pushes, passes what it expects in
// ONSITE_EXPECT (JSON), and checks the aftermath (events reaching desks, CSV rows) itself.
// Screenshots and downloads go to ONSITE_OUT; what the Rust side needs back goes to
// ONSITE_OUT/result.json. Any failed check exits non-zero with a message.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launch } from './chromium.mjs';

const base = process.env.ONSITE_URL;
const out = process.env.ONSITE_OUT;
const expect = JSON.parse(process.env.ONSITE_EXPECT ?? '{}');
const conference = `${base}/conferences/${expect.conference}`;

function check(ok, message) {
  if (!ok) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
}

/** The page is no wider than the viewport (tables scroll inside their own box). */
async function fitsWidth(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

const browser = await launch();
const result = {};
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);

  // No session: the browser is sent to the sign-in page.
  await page.goto(conference);
  check(new URL(page.url()).pathname === '/login', 'without a session a page asks to sign in');

  // A wrong password is refused.
  await page.fill('#email', expect.email);
  await page.fill('#password', 'not the password');
  await page.click('#sign-in');
  await page.waitForSelector('#login-error');
  check(new URL(page.url()).pathname === '/login', 'a wrong password is refused');
  await shot(page, 'dashboard-login-refused');

  // Sign in, pick the conference.
  await page.fill('#email', expect.email);
  await page.fill('#password', expect.password);
  await page.click('#sign-in');
  await page.waitForSelector('#conferences');
  await page.click(`a[href="/conferences/${expect.conference}"]`);
  const admitted = page.locator('#admitted');
  check(
    (await admitted.getAttribute('data-admitted')) === String(expect.admitted) &&
      (await admitted.getAttribute('data-expected')) === String(expect.expected),
    `the overview shows ${expect.admitted} of ${expect.expected} admitted, as pushed`,
  );
  check((await page.locator('#arrivals rect.bar').count()) > 0, 'the arrivals chart is drawn');
  check(
    (await page.locator('#open-conflicts').textContent()).trim() === String(expect.open_conflicts),
    `the overview counts ${expect.open_conflicts} open conflicts`,
  );
  await shot(page, 'dashboard-overview');

  // The page refreshes itself while open.
  await page.waitForEvent('load', { timeout: 25_000 });
  check(true, 'the overview reloaded by itself');

  // Registrations: filter by origin, open one, read its history.
  await page.click('nav.tabs a:has-text("Registrations")');
  await page.selectOption('#origin', 'walk_in');
  await Promise.all([page.waitForURL(/origin=walk_in/), page.click('#search')]);
  check(
    (await page.locator('#found').getAttribute('data-total')) === String(expect.walk_in_tickets),
    `${expect.walk_in_tickets} walk-in registrations`,
  );
  await page.selectOption('#origin', '');
  await page.fill('#q', expect.duplicate_code);
  await Promise.all([page.waitForURL(/q=/), page.click('#search')]);
  await Promise.all([
    page.waitForURL(new RegExp(`/registrations/${expect.duplicate_code}$`)),
    page.click(`#registrations a:has-text("${expect.duplicate_code}")`),
  ]);
  await shot(page, 'dashboard-registration');
  const history = await page.locator('#history tr[data-event]').evaluateAll((rows) =>
    rows.map((r) => [...r.cells].map((c) => c.textContent)),
  );
  console.log(JSON.stringify(history));
  const said = (what) => history.filter((cells) => cells[2].startsWith(what));
  check(
    said('Admitted at gate north').length === 1 &&
      said('Admitted a second time at gate south').length === 1 &&
      said('Admitted a second time')[0][3].includes('South'),
    'the history shows the admission and the duplicate, with the desks and both clocks',
  );

  // Conflicts: honour the rejected walk-in sale over the quota; close the duplicate.
  await page.click('nav.tabs a:has-text("Conflicts")');
  check(
    (await page.locator('#open-count').getAttribute('data-open')) === String(expect.open_conflicts),
    'the conflicts page lists the open conflicts',
  );
  await shot(page, 'dashboard-conflicts-open');
  const sale = page.locator('section.conflict[data-kind="walk_in_rejected"]');
  await sale.locator('form[data-decision="honour"] input[name="note"]').fill('extra chairs from storage');
  await sale.locator('form[data-decision="honour"] button').click();
  await page.waitForSelector('#resolved td:has-text("sale honoured")');
  check(true, 'the sale is honoured');
  const dup = page.locator('section.conflict[data-kind="duplicate_admission"]');
  await dup.locator('form[data-decision="close"] input[name="note"]').fill('same person, scanned twice');
  await dup.locator('form[data-decision="close"] button').click();
  await page.waitForSelector('#resolved td:has-text("closed")');
  check((await page.locator('#open-count').getAttribute('data-open')) === '0', 'no conflict left open');
  await shot(page, 'dashboard-conflicts-resolved');

  // Desks: enrol a new one (code and QR shown once), revoke another.
  await page.click('nav.tabs a:has-text("Desks")');
  await page.fill('#desk-name', 'Gate C');
  await page.click('#enrol-desk');
  const code = (await page.locator('#enrolment-code').textContent()).trim();
  check(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(code), `an enrolment code is shown (${code})`);
  check((await page.locator('#enrolment-qr rect, #enrolment-qr path').count()) > 0, 'with its QR code');
  await shot(page, 'dashboard-desk-enrolled');
  result.enrolment_code = code;
  await page.click('nav.tabs a:has-text("Desks")');
  const row = page.locator(`#desks tr[data-device="${expect.revoke_device}"]`);
  await row.locator('button.revoke').click();
  await page.waitForSelector(`#desks tr[data-device="${expect.revoke_device}"][data-state="revoked"]`);
  check(true, 'the desk is revoked');
  await shot(page, 'dashboard-desks');

  // Seat leases: hold seats for North (its walk-in sales from them are final), see them held
  // in the seat counts, then revoke the lease.
  await page.selectOption('#lease-desk', { label: 'North' });
  await page.selectOption('#lease-seat-type', expect.lease_seat_type);
  await page.fill('#lease-quantity', '3');
  await page.fill('#lease-hours', '12');
  await page.click('#grant');
  const lease = page.locator('#leases tr[data-desk="North"]');
  await lease.waitFor();
  check((await lease.locator('td.held').textContent()).trim() === '3', 'North holds 3 seats');
  await shot(page, 'dashboard-lease-granted');
  await page.goto(`${conference}/setup`);
  const leased = (await page.locator('#seat-types td.leased').allTextContents()).join(' ');
  check(leased.includes('held by North: 3'), `the seat counts say who holds them (${leased})`);
  result.lease_counts = leased;
  await page.goto(`${conference}/desks`);
  await page.locator('#leases tr[data-desk="North"] button.revoke-lease').click();
  await page.waitForSelector('#leases tr[data-desk="North"] td.state:has-text("revoked")');
  check(true, 'the lease is revoked');
  await shot(page, 'dashboard-lease-revoked');

  // A venue relay: enrolled here, its code and the command to run at the venue shown once,
  // then listed (waiting for its code) and revoked.
  await page.fill('#relay-name', 'Main hall relay');
  await page.click('#enrol-relay');
  const relayCode = (await page.locator('#relay-code').textContent()).trim();
  check(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(relayCode), `a relay code is shown (${relayCode})`);
  const command = await page.locator('#relay-command').textContent();
  check(command.includes(`--code ${relayCode}`) && command.includes('relay --upstream http'), `with the command to run (${command})`);
  await shot(page, 'dashboard-relay-enrolled');
  await page.goto(`${conference}/desks`);
  const relayRow = page.locator('#relays tr:has-text("Main hall relay")');
  await relayRow.waitFor();
  check((await relayRow.getAttribute('data-state')) === 'waiting', 'the relay waits for its code');
  await relayRow.locator('button.revoke').click();
  await page.waitForSelector('#relays tr[data-state="revoked"]:has-text("Main hall relay")');
  check(true, 'the relay is revoked');
  result.relay_code = relayCode;

  // On a tablet every page fits the screen's width.
  await page.setViewportSize({ width: 768, height: 1024 });
  for (const [name, path] of [
    ['overview', ''],
    ['registrations', '/registrations'],
    ['conflicts', '/conflicts'],
    ['desks', '/desks'],
  ]) {
    await page.goto(`${conference}${path}`);
    check(await fitsWidth(page), `the ${name} page fits a 768 px tablet`);
    await shot(page, `dashboard-tablet-${name}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  // Exports: each CSV downloads.
  await page.goto(conference);
  for (const name of ['attendees.csv', 'admissions.csv', 'walk-ins.csv']) {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click(`nav.tabs a[download]:has-text("${name}")`),
    ]);
    await download.saveAs(join(out, name));
    check(download.suggestedFilename() === name, `${name} downloads`);
  }

  // A forged request from another site, in the same browser as the signed-in session.
  const evil = await context.newPage();
  await evil.route('http://evil.test/**', (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<form id="f" method="post" action="${conference}/desks/${expect.forged_device}/revoke">
        <input type="hidden" name="csrf" value="guessed"></form>
        <script>document.getElementById('f').submit()</script>`,
    }),
  );
  const landed = evil.waitForURL((u) => u.origin === base, { timeout: 10_000 });
  await evil.goto('http://evil.test/');
  await landed;
  await evil.waitForLoadState();
  const body = await evil.textContent('body');
  check(
    new URL(evil.url()).pathname === '/login' || body.includes('did not come from this dashboard'),
    'a forged cross-site request is refused',
  );
  await shot(evil, 'dashboard-forged-refused');
} finally {
  await writeFile(join(out, 'result.json'), JSON.stringify(result));
  await browser.close();
}
