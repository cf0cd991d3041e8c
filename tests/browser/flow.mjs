// The web site in a real browser (Debian's Chromium, headless), against the real server that the
// Rust test `site::browser_flow` started. Every step fails loudly; screenshots of the main pages
// go to $SCREENSHOTS. Inputs (environment): BASE, ADMIN_CENTER_PORT, WIDGET_TOKEN, PASSWORD,
// CUSTOMER, PARTNER, MANAGER (e-mail addresses), CUSTOMER_NAME (to search for).
import { createServer } from "node:http";
import { readFileSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const env = (k) => {
  const v = process.env[k];
  if (!v) { throw new Error(`missing ${k}`); }
  return v;
};
const base = env("BASE");
const shots = env("SCREENSHOTS");
mkdirSync(shots, { recursive: true });
const here = dirname(fileURLToPath(import.meta.url));

function check(cond, what) {
  if (!cond) { throw new Error(`check failed: ${what}`); }
  console.log(`ok - ${what}`);
}

// The admin center page of the examples, served from its own origin with the widget filled in.
const adminPort = Number(env("ADMIN_CENTER_PORT"));
// axe-core, the accessibility engine, from the local npm install (no CDN).
const axeSource = readFileSync(join(here, "node_modules/axe-core/axe.min.js"), "utf8");
const adminHtml = readFileSync(join(here, "../../examples/admin-center.html"), "utf8")
  .replace("http://127.0.0.1:8080/widget.js", `${base}/widget.js`)
  .replace("PASTE-WIDGET-TOKEN", env("WIDGET_TOKEN"));
const adminServer = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(adminHtml);
});
await new Promise((ok) => adminServer.listen(adminPort, "127.0.0.1", ok));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function session(email) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  // English first, whatever the user's setting: the switcher is tested at the end.
  await page.goto(`${base}/language?to=en&back=/sign-in`);
  await page.fill("#email", email);
  await page.fill("#password", env("PASSWORD"));
  await Promise.all([page.waitForNavigation(), page.click("form[action='/sign-in'] button[type=submit]")]);
  return page;
}

async function fileRequest(page, description) {
  await page.check("input[name=kinds][value=service_onboarding]");
  const services = page.locator("input[name=services]");
  if (!(await services.first().isChecked())) { await services.first().check(); }
  await page.selectOption("#language", "it");
  await page.fill("#description", description);
  await Promise.all([page.waitForNavigation(), page.click("form[action='/requests'] button[type=submit]")]);
  check(/\/requests\/[0-9a-f-]+$/.test(page.url()), `filed "${description}" (${page.url()})`);
  return page.url();
}

// Runs axe (WCAG 2.1 A and AA) on the page as it stands; a serious or critical finding fails the
// flow with the rule, its help text and the elements it names.
const audited = [];
async function audit(page, name) {
  // CDP evaluation is not subject to the page's CSP, so the engine runs on the real page.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of bad) {
    console.error(`a11y ${name}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
  }
  audited.push({ page: name, passes: result.passes.length, violations: bad.length,
    minor: result.violations.length - bad.length });
}

let failed = false;
try {
  // 1. The customer asks through the "Need help?" widget in its admin center (R8a).
  const admin = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  admin.setDefaultTimeout(15000);
  await admin.goto(`http://127.0.0.1:${adminPort}/`);
  await admin.click("button[data-fasttrack-widget=button]");
  const widget = admin.frameLocator("dialog iframe");
  await widget.locator("input[name=kinds][value=core_onboarding]").check();
  await widget.locator("input[name=services]").first().check();
  await widget.locator("#name").fill("Ada Rossi");
  await widget.locator("#email").fill("ada@contoso.example");
  await widget.locator("#description").fill("Filed from the admin center");
  await widget.locator("button[type=submit]").click();
  await widget.locator("#status", { hasText: /\([0-9a-f-]{36}\)/ }).waitFor();
  check(true, "the widget filed a request from the admin center");
  await admin.screenshot({ path: join(shots, "widget.png") });

  // 2. The customer asks on the site: Quick actions, the form (R8b).
  const customer = await session(env("CUSTOMER"));
  check(customer.url().endsWith("/home"), "the customer lands on the home page");
  await customer.screenshot({ path: join(shots, "customer-home.png"), fullPage: true });
  await Promise.all([customer.waitForNavigation(), customer.click("section.quick a.button >> nth=0")]);
  const siteRequest = await fileRequest(customer, "Filed on the site");
  await customer.screenshot({ path: join(shots, "request.png"), fullPage: true });

  // 3. The partner finds the customer by searching as it types, and files for it (R9).
  const partner = await session(env("PARTNER"));
  check(partner.url().endsWith("/customers"), "the partner lands on My customers");
  // A name no customer has empties the list, then part of the customer's name finds it: both
  // without pressing Enter, so the list really follows the typing.
  await partner.fill("#q", "zzzz-nobody");
  await partner.locator("#customer-list p.muted").waitFor();
  const hint = env("CUSTOMER_NAME").slice(0, 5);
  await partner.fill("#q", hint);
  const hit = partner.locator("#customer-list a", { hasText: env("CUSTOMER_NAME") });
  await hit.waitFor();
  check(partner.url().includes(`q=${hint}`), "the search ran as the partner typed");
  await partner.screenshot({ path: join(shots, "partner-customers.png"), fullPage: true });
  await Promise.all([partner.waitForNavigation(), hit.click()]);
  await Promise.all([partner.waitForNavigation(), partner.click("main a.button >> nth=0")]);
  await fileRequest(partner, "Filed by the partner");

  // 4. Staff take it up and book a meeting from the offered slots (R10).
  const manager = await session(env("MANAGER"));
  await manager.goto(`${base}/requests?state=submitted`);
  await manager.screenshot({ path: join(shots, "staff-queue.png"), fullPage: true });
  await manager.goto(siteRequest);
  await Promise.all([manager.waitForNavigation(), manager.click("form[action$='/accept'] button")]);
  await Promise.all([manager.waitForNavigation(), manager.click("ul.slots form button >> nth=0")]);
  const booked = await manager.locator("ul.meetings li").count();
  check(booked >= 1, "staff booked a meeting");
  await manager.screenshot({ path: join(shots, "staff-request.png"), fullPage: true });
  await manager.goto(`${base}/dashboard`);
  await manager.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });

  // 5. The customer sees the meeting and the engagement's timeline.
  await customer.goto(siteRequest);
  check(await customer.locator("ul.meetings a", { hasText: "Add to calendar" }).count() >= 1,
    "the customer sees the meeting with its invite");
  await customer.goto(`${base}/engagements`);
  await Promise.all([customer.waitForNavigation(), customer.click("main table a >> nth=0")]);
  const timeline = customer.locator("figure.timeline img");
  await timeline.waitFor();
  const width = await timeline.evaluate((img) => img.complete ? img.naturalWidth : 0);
  check(width > 0, "the timeline image loads");
  await customer.screenshot({ path: join(shots, "engagement.png"), fullPage: true });

  // 6. The language switcher: Japanese, then Thai (R11).
  await customer.goto(`${base}/home`);
  await Promise.all([customer.waitForNavigation(), customer.click("nav.languages a[lang=ja]")]);
  check(await customer.getAttribute("html", "lang") === "ja", "the page is in Japanese");
  check(customer.url().endsWith("/home"), "the switcher returns to the page");
  await customer.screenshot({ path: join(shots, "home-ja.png"), fullPage: true });
  await Promise.all([customer.waitForNavigation(), customer.click("nav.languages a[lang=th]")]);
  check(await customer.getAttribute("html", "lang") === "th", "the page is in Thai");
  const quick = await customer.textContent("#qa");
  check(quick && quick.trim() === env("THAI_QUICK_ACTIONS"), `Thai heading "${quick}"`);
  await customer.screenshot({ path: join(shots, "home-th.png"), fullPage: true });

  // 7. Accessibility: every main page of every role, in English, Japanese and Thai.
  await audit(customer, "home (th)");
  await customer.goto(`${base}/language?to=ja&back=/requests/new`);
  await audit(customer, "request form (ja)");
  await customer.goto(`${base}/language?to=en&back=/home`);
  await audit(customer, "home");
  for (const path of ["/requests/new", "/requests", "/engagements", "/relationships", "/audit"]) {
    await customer.goto(`${base}${path}`);
    await audit(customer, `customer ${path}`);
  }
  await customer.goto(siteRequest);
  await audit(customer, "customer request page");
  await customer.goto(`${base}/engagements`);
  await Promise.all([customer.waitForNavigation(), customer.click("main table a >> nth=0")]);
  await audit(customer, "customer engagement page");
  await audit(partner, "partner request page");
  await partner.goto(`${base}/customers`);
  await audit(partner, "partner /customers");
  for (const path of ["/requests", "/dashboard", "/engagements", "/time-off"]) {
    await manager.goto(`${base}${path}`);
    await audit(manager, `staff ${path}`);
  }
  await manager.goto(siteRequest);
  await audit(manager, "staff request page");
  const anonymous = await (await browser.newContext()).newPage();
  await anonymous.goto(`${base}/language?to=en&back=/sign-in`);
  await audit(anonymous, "sign-in");
  await admin.goto(`http://127.0.0.1:${adminPort}/`);
  await admin.click("button[data-fasttrack-widget=button]");
  // Under load the frame attaches after the click returns: wait for its form, then audit it.
  await admin.frameLocator("dialog iframe").locator("form").waitFor();
  const frame = await (await admin.locator("dialog iframe").elementHandle()).contentFrame();
  if (frame) {
    await frame.evaluate(axeSource);
    const r = await frame.evaluate(() => window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } }));
    const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    for (const v of bad) { console.error(`a11y widget: ${v.id} ${v.help}`); }
    audited.push({ page: "widget form", passes: r.passes.length, violations: bad.length,
      minor: r.violations.length - bad.length });
  } else {
    check(false, "the widget's frame is found for the accessibility audit");
  }
  console.log(`A11Y ${JSON.stringify(audited)}`);
  const findings = audited.reduce((n, a) => n + a.violations, 0);
  check(audited.length >= 15 && findings === 0,
    `accessibility (axe, WCAG 2.1 AA) of ${audited.length} pages: ${findings} serious or critical findings`);
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  adminServer.close();
}
process.exit(failed ? 1 : 0);
