// Head office sets a conference up from nothing in the dashboard: Debian's Chromium, driven
// by playwright-core.
//
// Run by the Rust test `dashboard::head_office_sets_a_conference_up_in_a_real_browser`
// against a real onsite-server with one owner and nothing else (ONSITE_URL, ONSITE_EXPECT:
// email, password, slug, csv and templates — files to upload). The browser creates the
// conference, adds two seat types and an attendee type, sees the badge previews, uploads a
// template set, chooses the speakers' template and the desk defaults, edits a seat type,
// uploads the CSV and reads the report, cuts a quota below what is sold (refused, then
// confirmed), publishes, and reads the history. What the Rust side
// needs back (the conference id) goes to ONSITE_OUT/result.json; screenshots beside it.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launch } from './chromium.mjs';

const base = process.env.ONSITE_URL;
const out = process.env.ONSITE_OUT;
const expect = JSON.parse(process.env.ONSITE_EXPECT ?? '{}');

function check(ok, message) {
  if (!ok) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
}

const shot = (page, name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });

const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(15_000);

  await page.goto(`${base}/login`);
  await page.fill('#email', expect.email);
  await page.fill('#password', expect.password);
  await page.click('#sign-in');
  await page.waitForSelector('#new-conference');

  // A new conference.
  await page.fill('#new-name', 'Event Sourcing Days');
  await page.fill('#new-slug', expect.slug);
  await page.fill('#new-venue', 'Lisbon');
  await page.fill('#new-starts', '2027-03-10');
  await page.fill('#new-ends', '2027-03-11');
  await page.fill('#new-zone', 'Europe/Lisbon');
  await Promise.all([page.waitForURL(/\/setup$/), page.click('#create-conference')]);
  const conference = new URL(page.url()).pathname.split('/')[2];
  check(conference.length === 36, `the conference was created (${conference})`);
  check((await page.locator('#published').textContent()).includes('Not published'), 'a new conference is a draft');

  // Two seat types and an attendee type.
  const addSeat = async (name, price, quota, kind) => {
    await page.fill('#seat-name', name);
    await page.fill('#seat-price', price);
    await page.fill('#seat-quota', quota);
    await page.selectOption('#add-seat-type select[name="kind"]', kind);
    await Promise.all([page.waitForURL(/\/setup$/), page.click('#add-seat')]);
  };
  await addSeat('General admission', '199.00', '3', 'admission');
  await addSeat('Modelling workshop', '50', '2', 'add_on');
  check((await page.locator('#seat-types tr[data-seat-type]').count()) === 2, 'two seat types are listed');
  await page.fill('#attendee-name', 'Speaker');
  await page.fill('#attendee-id', 'speaker');
  await Promise.all([page.waitForURL(/\/setup$/), page.click('#add-attendee')]);
  check((await page.locator('#attendee-types').textContent()).includes('Speaker'), 'the attendee type is listed');

  // Badges: every template previewed for a sample attendee; a set of our own uploaded; the
  // speakers' template chosen; the desks' defaults saved.
  const previews = page.locator('#templates img');
  check((await previews.count()) === 3, 'the three built-in templates are previewed');
  for (const img of await previews.all()) {
    await img.scrollIntoViewIfNeeded();
    await page.waitForFunction((el) => el.complete, await img.elementHandle());
    check(await img.evaluate((el) => el.naturalWidth > 0), `the preview ${await img.getAttribute('alt')} is drawn`);
  }
  await page.setInputFiles('#templates-file', expect.templates);
  await Promise.all([page.waitForURL(/\/setup$/), page.click('#upload-templates-button')]);
  check((await page.locator('#template-source').textContent()).includes("Head office's templates (4)"), 'the uploaded set is in use');
  const speaker = page.locator('#attendee-types tr[data-attendee-type="speaker"]');
  await speaker.locator('select[name="template"]').selectOption('speakers');
  await Promise.all([page.waitForURL(/\/setup$/), speaker.locator('button.choose-template').click()]);
  const thumb = page.locator('#attendee-types tr[data-attendee-type="speaker"] img.badge-thumb');
  check((await thumb.getAttribute('src')).includes('/badges/speakers/preview.svg'), "the speaker's sample badge uses the speakers' template");
  await page.selectOption('#default-auto-print', 'always');
  await page.selectOption('#default-template', 'badge-a6');
  await page.fill('#default-printer', 'badges');
  await Promise.all([page.waitForURL(/\/setup$/), page.click('#save-desk-defaults')]);
  check((await page.locator('#default-template').inputValue()) === 'badge-a6', 'the desk defaults are saved');
  await shot(page, 'setup-badges');

  // A seat type edited: its price and its policy.
  const workshop = page.locator('#seat-types tr[data-seat-type="Modelling workshop"]');
  await workshop.locator('details.edit-seat-type summary').click();
  await workshop.locator('details.edit-seat-type input[name="price"]').fill('65.00');
  await workshop.locator('details.edit-seat-type select[name="policy"]').selectOption('overbook');
  await Promise.all([page.waitForURL(/\/setup$/), workshop.locator('button.save-seat-type').click()]);
  const edited = await page.locator('#seat-types tr[data-seat-type="Modelling workshop"]').textContent();
  check(edited.includes('65.00') && edited.includes('overbook'), 'the edited price and policy show');

  // A CSV upload, its progress, its report.
  await page.setInputFiles('#import-file', expect.csv);
  await page.fill('#import-source', 'website');
  await Promise.all([page.waitForURL(/\/imports\//), page.click('#start-import')]);
  await page.waitForSelector('#import-report', { timeout: 30_000 });
  check((await page.locator('#imported').textContent()).trim() === '2', 'the report says 2 registrations imported');
  check((await page.locator('#skipped').textContent()).trim() === '0', 'and none skipped');
  await shot(page, 'setup-import-report');
  await page.click('text=Back to the set-up');

  // A quota below what is sold is refused unless the overbooking is confirmed.
  const general = page.locator('#seat-types tr[data-seat-type="General admission"]');
  await general.locator('input[name="quota"]').fill('1');
  await general.locator('button.quota').click();
  await page.waitForSelector('#refused');
  check((await page.locator('#refused').textContent()).includes('overbook'), 'a cut below the sold seats asks for confirmation');
  await page.goBack();
  await page.reload();
  const row = page.locator('#seat-types tr[data-seat-type="General admission"]');
  check((await row.locator('td.quota').textContent()).trim() === '3', 'the refused cut changed nothing');
  await row.locator('input[name="quota"]').fill('1');
  await row.locator('input[name="overbook"]').check();
  await Promise.all([page.waitForURL(/\/setup$/), row.locator('button.quota').click()]);
  const remaining = await page.locator('#seat-types tr[data-seat-type="General admission"] td.remaining').textContent();
  check(remaining.includes('overbooked by 1'), `the confirmed cut shows the overbooking (${remaining.trim()})`);

  // Publish.
  await Promise.all([page.waitForURL(/\/setup$/), page.click('#toggle-publish')]);
  check((await page.locator('#published').textContent()).includes('Published'), 'the conference is published');
  await shot(page, 'setup-done');

  // The history says who did what.
  await page.click('nav.tabs a:has-text("History")');
  const history = await page.locator('#history').textContent();
  for (const what of ['created', 'seat type created', 'seat type updated', 'seat quota changed', 'attendee type defined', 'badge templates set', 'attendee type template set', 'desk defaults set', 'registrations imported', 'published']) {
    check(history.includes(what), `the history lists "${what}"`);
  }
  check(history.includes(expect.email), 'the history names who made the changes');
  await shot(page, 'setup-history');

  await writeFile(join(out, 'result.json'), JSON.stringify({ conference }));
} finally {
  await browser.close();
}
