// Drives the citizens' /verifier page in Debian's headless Chromium:
// uploads each file, reads the verdict a citizen sees, and saves a
// screenshot for the test log.
// usage: node verifier.js BASE_URL OUTDIR FILE...
// Prints one line per file: "<file>\t<verdict>\t<whole page text>".
'use strict';
const { chromium } = require('playwright-core');

async function main() {
	const [base, outdir, ...files] = process.argv.slice(2);
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-quic', '--no-first-run',
			'--disable-background-networking',
			'--disable-component-update', '--disable-sync'],
	});
	try {
		const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
		let i = 0;
		for (const f of files) {
			await page.goto(base + '/verifier');
			await page.setInputFiles('input[name=document]', f);
			await Promise.all([
				page.waitForNavigation(),
				page.click('button[type=submit]'),
			]);
			const verdict = (await page.textContent('.v')) || '';
			const body = ((await page.textContent('body')) || '').replace(/\s+/g, ' ');
			await page.screenshot({ path: `${outdir}/verifier-${++i}.png`, fullPage: true });
			console.log(`${f}\t${verdict.trim()}\t${body.trim()}`);
		}
	} finally {
		await browser.close();
	}
}
main().catch((e) => { console.error(e); process.exit(1); });
