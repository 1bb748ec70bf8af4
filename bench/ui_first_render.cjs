// Time to first render of dashboard pages in Debian's chromium: opens each
// URL RUNS times in a fresh page and prints the median first contentful paint
// and load time (ms, from the navigation's start, as the browser measures).
//   node bench/ui_first_render.cjs RUNS URL...
const path = require("node:path");
const { chromium } = require(path.join(__dirname, "../tests/peers/node_modules/playwright-core"));

const [runs, ...urls] = process.argv.slice(2);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                          args: ["--no-sandbox", "--disable-gpu"], headless: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  for (const url of urls) {
    const paints = [], loads = [];
    let bytes = 0;
    for (let i = 0; i < Number(runs); ++i) {
      const page = await context.newPage();
      const response = await page.goto(url, { waitUntil: "load" });
      bytes = (await response.body()).length;
      const t = await page.evaluate(() => ({
        paint: performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint"),
        nav: performance.getEntriesByType("navigation")[0].toJSON(),
      }));
      if (t.paint) paints.push(t.paint.startTime);
      loads.push(t.nav.loadEventEnd);
      await page.close();
    }
    console.log(`${url}\t${bytes} bytes\tfirst paint ${paints.length ? median(paints).toFixed(1) : "n/a"} ms\tload ${median(loads).toFixed(1)} ms`);
  }
  await browser.close();
})();
