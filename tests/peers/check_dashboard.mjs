// Opens the pages of a running `loadcast ui` in a real browser (Debian's
// chromium, headless, driven by playwright-core) and writes what a person
// would see on each as JSON, with a screenshot per page; the test compares it
// with the run history.
//
// usage: node check_dashboard.mjs BASE_URL PLAN.json REPORT.json SCREENSHOT_DIR
//   PLAN: {"trainRun": ID, "failedRun": ID, "compare": [ID, ID], "server": "IP"}
import { writeFileSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [base, planPath, reportPath, shots] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planPath, "utf8"));
const report = { pages: {}, consoleErrors: [], offLoopback: [], failedRequests: [] };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
  headless: true,
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.on("request", (r) => {
    const url = new URL(r.url());
    if (url.protocol !== "data:" && url.hostname !== "127.0.0.1") report.offLoopback.push(r.url());
  });
  context.on("requestfailed", (r) => report.failedRequests.push(r.url()));
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") report.consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => report.consoleErrors.push(`${page.url()}: ${e}`));

  // Loads a page (or follows a click) and records its status, timing and screenshot.
  async function visit(name, go) {
    const response = await go();
    const timing = await page.evaluate(() => {
      const paint = performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint");
      const nav = performance.getEntriesByType("navigation")[0];
      return { firstPaintMs: paint ? paint.startTime : null, loadMs: nav ? nav.loadEventEnd : null };
    });
    await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
    const entry = { url: page.url(), status: response ? response.status() : null, ...timing };
    report.pages[name] = entry;
    return entry;
  }
  const rowsOf = () =>
    page.$$eval("#runs tbody tr", (trs) =>
      trs.map((tr) => ({
        id: Number(tr.dataset.run),
        command: tr.dataset.command,
        status: tr.dataset.status,
        metrics: Object.fromEntries(
          [...tr.querySelectorAll("[data-metric]")].map((s) => [s.dataset.metric, s.textContent.trim()])),
      })));

  const runs = await visit("runs", () => page.goto(`${base}/`));
  runs.rows = await rowsOf();
  runs.count = await page.textContent("#count");

  const filtered = await visit("runs-train", async () => {
    await page.selectOption("select[name=command]", "train");
    const [response] = await Promise.all([page.waitForNavigation(), page.click("form.filters button")]);
    return response;
  });
  filtered.rows = await rowsOf();

  // Compare, as a person does it: tick the runs on the runs page, press the button.
  await page.goto(`${base}/`);
  for (const id of plan.compare) await page.check(`#runs tr[data-run="${id}"] input[type=checkbox]`);
  const compare = await visit("compare", async () => {
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.click("text=Compare the runs ticked"),
    ]);
    return response;
  });
  compare.points = await page.$$eval("#compare-chart circle.point", (cs) =>
    cs.map((c) => ({ x: c.dataset.x, value: Number(c.dataset.value) })));
  compare.metricRows = await page.$$eval("#compare-metrics tbody tr", (trs) => trs.length);
  compare.chosen = await page.inputValue("select[name=metric]");

  const train = await visit("run-train", () => page.goto(`${base}/runs/${plan.trainRun}`));
  train.title = await page.textContent("#title");
  train.metrics = await page.$$eval("#metrics tr[data-metric]", (trs) =>
    Object.fromEntries(trs.map((tr) => [tr.dataset.metric, tr.children[1].textContent.trim()])));
  train.confusion = await page.$$eval("#confusion rect.cell", (cells) =>
    cells.map((c) => ({
      row: Number(c.dataset.row),
      col: Number(c.dataset.col),
      count: Number(c.dataset.count),
      shown: c.nextElementSibling ? c.nextElementSibling.textContent : null,
    })));
  train.perClass = await page.$$eval("#per-class tbody tr", (trs) => trs.length);
  train.importances = await page.$$eval("#importances rect.bar", (bars) => bars.length);
  train.artifacts = await page.$$eval("#artifacts tbody tr", (trs) =>
    trs.map((tr) => ({ name: tr.dataset.artifact, sha256: tr.dataset.sha256 })));

  const failed = await visit("run-failed", () => page.goto(`${base}/runs/${plan.failedRun}`));
  failed.title = await page.textContent("#title");
  failed.error = await page.textContent("#error");

  const models = await visit("models", () => page.goto(`${base}/models`));
  models.rows = await page.$$eval("#models tbody tr", (trs) =>
    trs.map((tr) => ({ name: tr.dataset.model, version: Number(tr.dataset.version), stage: tr.dataset.stage })));

  const fleet = await visit("fleet", () => page.goto(`${base}/fleet`));
  fleet.summary = await page.$eval("#fleet-summary", (p) => ({ ...p.dataset }));
  fleet.servers = await page.$$eval("#servers tbody tr", (trs) => trs.map((tr) => tr.dataset.server));
  fleet.chartLines = await page.$$eval("#fleet-chart path.line", (ps) => ps.length);

  const server = await visit("server", async () => {
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.goto(`${base}/fleet`).then(() => page.click(`#servers a:text-is("${plan.server}")`)),
    ]);
    return response;
  });
  server.hours = await page.$$eval("#forecast tbody tr", (trs) =>
    trs.map((tr) => ({ hour: tr.dataset.hour, label: tr.dataset.label })));
  server.history = await page.$$eval("#history-chart path.line", (ps) => ps.map((p) => p.getAttribute("d").length));
  server.thresholds = await page.$$eval("#history-chart line.threshold", (ls) => ls.map((l) => Number(l.dataset.value)));

  // A page that is not there: its 404 is the point, not a console error.
  const errorsBefore = report.consoleErrors.length;
  const missing = await visit("missing", () => page.goto(`${base}/runs/999999`));
  missing.message = await page.textContent("#message");
  report.consoleErrors.splice(errorsBefore);
} finally {
  await browser.close();
}
writeFileSync(reportPath, JSON.stringify(report, null, 1));
