// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// The console in a real browser (Debian's chromium, driven by
// playwright-core): the study note's practice end to end, finding every
// element by role and accessible name as SPEC §4 fixes them. Run by
// tests/ns/test_console_browser.sh, which builds the lab and passes:
//
//   CONSOLE_URL          the console (http://127.0.0.1:PORT)
//   CONSOLE_GROUP        the web server's group (sg-web)
//   CONSOLE_PROBE        a command "PROBE ADDR PORT TIMEOUT" run on the
//                        outside client: prints connected / timeout / ...
//   WEB_ADDR, CLIENT_ADDR  the web server's and the client's addresses
//   CONSOLE_RO_URL       optional: a --read-only console of the same state
//   CONSOLE_SCREENSHOTS  optional: a directory for docs/img/console-*.png
//   CONSOLE_PART=etcd    instead: a console on etcd whose agent CONSOLE_HOST
//                        applied CONSOLE_REV (the Hosts page, a save)
//
// Prints PASS/FAIL lines (tests/run.sh counts them); exit 1 on a FAIL.
// Without CONSOLE_PROBE the traffic steps are left out (a dry run on any
// console).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const URL = process.env.CONSOLE_URL;
const GROUP = process.env.CONSOLE_GROUP || 'sg-web';
const PROBE = process.env.CONSOLE_PROBE || '';
const WEB = process.env.WEB_ADDR || '';
const CLIENT = process.env.CLIENT_ADDR || '';
const RO_URL = process.env.CONSOLE_RO_URL || '';
const SHOTS = process.env.CONSOLE_SCREENSHOTS || '';
const XSS = '<script>alert(1)</script>';
const T = 10000; // ms to wait for anything on a page

let failed = 0;
const report = (ok, name, why) => {
	if (!ok)
		failed++;
	console.log((ok ? 'PASS' : 'FAIL') + ' browser: ' + name +
		    (ok || !why ? '' : ' (' + why + ')'));
};

// step(name, fn): fn returns true, or a string saying what went wrong, or
// throws; a step that fails does not stop the others.
async function step(name, fn) {
	try {
		const r = await fn();
		report(r === true || r === undefined, name, typeof r === 'string' ? r : '');
		return r === true || r === undefined;
	} catch (e) {
		report(false, name, String(e.message || e).split('\n')[0]);
		return false;
	}
}

async function until(fn, ms = T, every = 250) {
	const end = Date.now() + ms;
	for (;;) {
		let v;
		try {
			v = await fn();
		} catch (e) {
			v = false;
		}
		if (v)
			return v;
		if (Date.now() > end)
			return false;
		await new Promise((r) => setTimeout(r, every));
	}
}

function probe(port) {
	if (!PROBE)
		return 'skipped';
	try {
		return execFileSync(PROBE, [WEB, String(port), port === 80 ? '2' : '1'],
				    { encoding: 'utf8', timeout: 15000 }).trim();
	} catch (e) {
		return 'probe-failed: ' + e.message.split('\n')[0];
	}
}

if (!URL) {
	console.log('FAIL browser: CONSOLE_URL not set');
	process.exit(1);
}

const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	// Root in a VM: chromium's sandbox needs user namespaces it lacks.
	args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await ctx.newPage();
page.setDefaultTimeout(T);
const problems = []; // script errors, CSP violations, dialogs (XSS)
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
page.on('console', (m) => {
	if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
		problems.push('console: ' + m.text());
});
page.on('dialog', (d) => {
	problems.push('dialog: ' + d.message());
	d.dismiss().catch(() => {});
});

const hash = () => page.evaluate(() => location.hash);
const groupUrl = URL + '/#/groups/' + GROUP;
const tabpanel = () => page.getByRole('tabpanel');

// The visible rule table's row whose Type cell is exactly `type`.
const ruleRow = (type) => tabpanel().getByRole('row')
	.filter({ has: page.getByRole('cell', { name: type, exact: true }) });

// The text of `row`'s cell under the column header `head`.
async function cellOf(table, row, head) {
	const heads = (await table.locator('thead th').allTextContents()).map((s) => s.trim());
	const i = heads.indexOf(head);
	if (i < 0)
		throw new Error('no column ' + head + ' in ' + heads.join('|'));
	return (await row.locator('td').nth(i).textContent()).trim();
}

async function openEditor(dir) {
	await page.goto(groupUrl);
	await page.getByRole('button', { name: 'Edit ' + dir + ' rules', exact: true }).click();
	await page.getByRole('button', { name: 'Save rules', exact: true }).waitFor();
}

// Add rule, then fill the new (last) row by its labels.
async function addRule(type, peerChoice, extra = {}) {
	await page.getByRole('button', { name: 'Add rule', exact: true }).click();
	const row = page.locator('table tbody tr').last();
	await row.getByLabel('Type', { exact: true }).selectOption(type);
	if (extra.port !== undefined)
		await row.getByLabel('Port range', { exact: true }).fill(extra.port);
	const peerLabel = extra.outbound ? 'Destination' : 'Source';
	await row.getByLabel(peerLabel, { exact: true }).selectOption(peerChoice);
	if (extra.cidr !== undefined)
		await row.getByLabel('CIDR, security group or prefix list', { exact: true }).fill(extra.cidr);
	if (extra.description !== undefined)
		await row.getByLabel('Description', { exact: true }).fill(extra.description);
	return row;
}

async function saveAndReturn() {
	await page.getByRole('button', { name: 'Save rules', exact: true }).click();
	const back = await until(async () => /^#\/groups\/[^/?]+(\?|$)/.test(await hash()));
	if (!back) {
		const a = page.getByRole('alert');
		throw new Error('still on the editor' + ((await a.count())
			? ': ' + (await a.first().textContent()) : ''));
	}
	await tabpanel().getByRole('table').waitFor();
}

// shot(name): the page must show no error (but the one expected), then
// its screenshot when CONSOLE_SCREENSHOTS is set.
async function shot(name, alertExpected, noFile) {
	if (!alertExpected) {
		const a = page.getByRole('alert');
		if (await a.count())
			report(false, 'the ' + name + ' page shows no error',
			       (await a.first().textContent()).slice(0, 200));
	}
	if (!SHOTS || noFile)
		return;
	mkdirSync(SHOTS, { recursive: true });
	await page.waitForTimeout(300); // fonts and the last paint
	await page.screenshot({ path: path.join(SHOTS, 'console-' + name + '.png') });
}

// ---- on etcd: Hosts, and a save that reaches the agent ----

if (process.env.CONSOLE_PART === 'etcd') {
	const HOST = process.env.CONSOLE_HOST;
	const REV = Number(process.env.CONSOLE_REV);
	const hostRow = () => page.getByRole('row').filter({ has:
		page.getByRole('cell', { name: HOST, exact: true }) });
	const applied = async () => Number(await cellOf(page.getByRole('table'),
		hostRow(), 'Applied revision'));
	await step(`etcd: Hosts lists ${HOST} at revision ${REV}, no error`, async () => {
		await page.goto(URL + '/');
		await page.getByRole('link', { name: 'Hosts', exact: true }).click();
		await hostRow().waitFor();
		const err = await cellOf(page.getByRole('table'), hostRow(), 'Error');
		return ((await applied()) >= REV && err === 'none') ||
			'revision ' + (await applied()) + ', error ' + err;
	});
	await step('etcd: Add rule HTTP Anywhere-IPv4 -> Save rules', async () => {
		await openEditor('inbound');
		await addRule('HTTP', 'Anywhere-IPv4');
		await saveAndReturn();
		await ruleRow('HTTP').waitFor();
	});
	await step(`etcd: ${HOST} applies the save (Hosts, reload)`, async () => {
		await page.goto(URL + '/#/hosts');
		const ok = await until(async () => {
			await page.reload();
			await hostRow().waitFor();
			return (await applied()) > REV;
		}, 15000, 1000);
		return ok || 'still at ' + (await applied());
	});
	await shot('hosts');
	await step('etcd: no script error, CSP violation or dialog', () =>
		problems.length === 0 || problems.slice(0, 3).join('; '));
	await browser.close();
	process.exit(failed ? 1 : 0);
}

// ---- the way in: "/" -> Security Groups -> the group ----

await step('"/" has the link "Security Groups", which lists the groups', async () => {
	await page.goto(URL + '/');
	await page.getByRole('link', { name: 'Security Groups', exact: true }).click();
	await page.getByRole('link', { name: GROUP, exact: true }).waitFor();
	return (await hash()) === '#/groups' || 'at ' + (await hash());
});
await shot('groups');

await step(`the link "${GROUP}" opens the group with its two rule tabs`, async () => {
	await page.getByRole('link', { name: GROUP, exact: true }).click();
	const inTab = page.getByRole('tab', { name: 'Inbound rules', exact: true });
	const outTab = page.getByRole('tab', { name: 'Outbound rules', exact: true });
	await inTab.waitFor();
	await outTab.waitFor();
	return (await inTab.getAttribute('aria-selected')) === 'true' || 'inbound tab not selected';
});

const HEADS = ['Security group rule ID', 'Type', 'Protocol', 'Port range',
	       'Description', 'Hits', 'Last used'];
await step('the inbound table has the contract\'s column headers (Source)', async () => {
	const t = tabpanel().getByRole('table');
	for (const h of HEADS.concat('Source'))
		await t.getByRole('columnheader', { name: h, exact: true }).waitFor();
});
await step('the outbound tab shows its table (Destination)', async () => {
	await page.getByRole('tab', { name: 'Outbound rules', exact: true }).click();
	const t = tabpanel().getByRole('table');
	for (const h of HEADS.concat('Destination'))
		await t.getByRole('columnheader', { name: h, exact: true }).waitFor();
	await page.getByRole('tab', { name: 'Inbound rules', exact: true }).click();
});

// ---- the editor keeps what it does not touch ----

const ruleIds = async () => (await tabpanel().getByRole('table').locator('tbody tr td:first-child')
	.allTextContents()).map((s) => s.trim()).sort().join(' ');
await step('an untouched editor saves nothing (same rule ids)', async () => {
	await page.goto(groupUrl);
	await tabpanel().getByRole('table').waitFor();
	const before = await ruleIds();
	await openEditor('inbound');
	await saveAndReturn();
	const after = await ruleIds();
	return (before === after && /sgr-/.test(before)) || before + ' -> ' + after;
});
await step('a rule edited in place: ICMP type 8 -> 0 (one rule, a new id)', async () => {
	const icmp = 'Custom ICMP - IPv4';
	const old = await cellOf(tabpanel().getByRole('table'), ruleRow(icmp), 'Security group rule ID');
	await openEditor('inbound');
	const rows = page.locator('table tbody tr');
	const n = await rows.count();
	let row = null;
	for (let i = 0; i < n && !row; i++)
		if ((await rows.nth(i).getByLabel('Type', { exact: true }).inputValue()) === icmp)
			row = rows.nth(i);
	if (!row)
		return 'no ' + icmp + ' row';
	const port = row.getByLabel('Port range', { exact: true });
	if ((await port.inputValue()) !== '8')
		return 'the ICMP row shows "' + (await port.inputValue()) + '"';
	await port.fill('0');
	await saveAndReturn();
	const t = tabpanel().getByRole('table');
	if ((await ruleRow(icmp).count()) !== 1)
		return (await ruleRow(icmp).count()) + ' ICMP rows';
	const id = await cellOf(t, ruleRow(icmp), 'Security group rule ID');
	const ports = await cellOf(t, ruleRow(icmp), 'Port range');
	return (id !== old && ports === '0') || 'id ' + old + ' -> ' + id + ', port range ' + ports;
});

if (PROBE)
	await step('before: the outside client -> web:80 times out', () =>
		probe(80) === 'timeout' || 'got ' + probe(80));

// ---- Edit inbound rules -> Add rule -> HTTP -> Anywhere-IPv4 -> Save rules ----

let httpId = '';
await step('Add rule: Type HTTP sets TCP and port 80 (locked)', async () => {
	await openEditor('inbound');
	const row = await addRule('HTTP', 'Anywhere-IPv4');
	const port = row.getByLabel('Port range', { exact: true });
	const proto = await row.getByLabel('Protocol', { exact: true }).inputValue();
	if ((await port.inputValue()) !== '80')
		return 'port range ' + (await port.inputValue());
	if (!(await port.isDisabled()))
		return 'port range editable';
	return proto === 'TCP' || 'protocol ' + proto;
});
await step('Source: My IP fills the client address, Anywhere-IPv4 0.0.0.0/0', async () => {
	const row = page.locator('table tbody tr').last();
	const src = row.getByLabel('Source', { exact: true });
	const cidr = row.getByLabel('CIDR, security group or prefix list', { exact: true });
	await src.selectOption('My IP');
	const mine = await cidr.inputValue();
	if (!/^[0-9a-f.:]+\/(32|128)$/.test(mine))
		return 'My IP gave "' + mine + '"';
	await src.selectOption('Anywhere-IPv4');
	return (await cidr.inputValue()) === '0.0.0.0/0' || 'Anywhere-IPv4 gave ' + (await cidr.inputValue());
});
await step('Preview changes shows the rule to add', async () => {
	await page.getByRole('button', { name: 'Preview changes', exact: true }).click();
	const pv = page.getByRole('region', { name: 'Preview' });
	await pv.waitFor();
	const t = await pv.textContent();
	if ((await page.getByRole('alert').count()) > 0)
		return 'alert: ' + (await page.getByRole('alert').first().textContent());
	return (/http|tcp\/80|\b80\b/i.test(t) && t.includes('0.0.0.0/0')) || 'preview: ' + t.slice(0, 200);
});
await shot('editor');
await step('Save rules applies it and returns to the group page', async () => {
	await saveAndReturn();
	const row = ruleRow('HTTP');
	await row.first().waitFor();
	if ((await row.count()) !== 1)
		return (await row.count()) + ' HTTP rows';
	httpId = await cellOf(tabpanel().getByRole('table'), row, 'Security group rule ID');
	return /^sgr-/.test(httpId) || 'rule id "' + httpId + '"';
});

if (PROBE) {
	await step('the outside client -> web:80 connects', () => {
		const r = probe(80);
		return r === 'connected' || 'got ' + r;
	});
	await step('the HTTP rule\'s Hits rise (reload)', async () => {
		let last = '';
		const ok = await until(async () => {
			await page.reload();
			const row = ruleRow('HTTP');
			await row.waitFor();
			last = await cellOf(tabpanel().getByRole('table'), row, 'Hits');
			return Number(last) >= 1;
		}, 10000, 1000);
		return ok || 'Hits ' + last;
	});
	await step('Last used says when', async () => {
		const v = await cellOf(tabpanel().getByRole('table'), ruleRow('HTTP'), 'Last used');
		return /ago/.test(v) || 'Last used "' + v + '"';
	});
}
await shot('group');

// ---- a duplicate is refused with its AWS code beside the row ----

await step('a duplicate rule: role="alert" with InvalidPermission.Duplicate beside the row', async () => {
	await openEditor('inbound');
	const row = await addRule('HTTP', 'Anywhere-IPv4');
	await page.getByRole('button', { name: 'Save rules', exact: true }).click();
	const a = row.getByRole('alert');
	await a.waitFor();
	const t = await a.textContent();
	if ((await page.getByRole('alert').count()) !== 1)
		return (await page.getByRole('alert').count()) + ' alerts';
	return t.includes('InvalidPermission.Duplicate') || 'alert: ' + t;
});
await shot('editor-error', true);
await step('... nothing applied: Cancel, still one HTTP rule', async () => {
	await page.getByRole('button', { name: 'Cancel', exact: true }).click();
	await until(async () => !(await hash()).includes('/edit/'));
	await ruleRow('HTTP').first().waitFor();
	return (await ruleRow('HTTP').count()) === 1 || (await ruleRow('HTTP').count()) + ' HTTP rows';
});

// ---- the other pages ----

if (PROBE)
	await step('Flow logs: the ACCEPT names its rule, linking to the rule\'s group', async () => {
		await page.goto(URL + '/#/flowlogs?action=ACCEPT&port=80');
		const link = page.getByRole('link', { name: httpId, exact: true }).first();
		const ok = await until(async () => {
			if (await link.count())
				return true;
			await page.reload();
			return false;
		}, 10000, 1000);
		if (!ok)
			return 'no ACCEPT row with ' + httpId;
		await link.click();
		return await until(async () => (await hash()).startsWith('#/groups/' + GROUP)) ||
			'went to ' + (await hash());
	});

await step('Instances page lists the instance with its groups', async () => {
	await page.goto(URL + '/');
	await page.getByRole('link', { name: 'Instances', exact: true }).click();
	const t = page.getByRole('table');
	await t.getByRole('columnheader', { name: 'Instance ID' }).waitFor();
	await t.getByRole('link', { name: GROUP, exact: true }).first().waitFor();
});
await shot('instances');

await step('Reachability map draws an arrow that opens its rule\'s group', async () => {
	await page.getByRole('link', { name: 'Reachability map', exact: true }).click();
	const map = page.getByRole('img', { name: 'Reachability map' });
	await map.waitFor();
	const edge = map.locator('a.edge').first();
	const n = await map.locator('a.edge').count();
	if (!n)
		return 'no arrow';
	const href = await edge.getAttribute('href');
	return /^#\/groups\/sg-/.test(href) || 'arrow href ' + href;
});
await shot('map');

await step('Hosts page answers', async () => {
	await page.getByRole('link', { name: 'Hosts', exact: true }).click();
	await page.getByRole('heading', { name: 'Hosts', exact: true }).waitFor();
});
await shot('hosts-local', false, true); // the etcd part shoots Hosts

// ---- Delete -> Save rules: the client times out ----

await step('Edit inbound rules -> Delete the HTTP row -> Save rules', async () => {
	await openEditor('inbound');
	const rows = page.locator('table tbody tr');
	const n = await rows.count();
	let found = false;
	for (let i = 0; i < n; i++) {
		const r = rows.nth(i);
		if ((await r.getByLabel('Type', { exact: true }).inputValue()) === 'HTTP') {
			await r.getByRole('button', { name: 'Delete', exact: true }).click();
			found = true;
			break;
		}
	}
	if (!found)
		return 'no HTTP row in the editor';
	await saveAndReturn();
	return (await ruleRow('HTTP').count()) === 0 || 'the HTTP rule is still there';
});

if (PROBE) {
	await step('after the delete: the outside client -> web:80 times out', () => {
		const r = probe(80);
		return r === 'timeout' || 'got ' + r;
	});
	await step('Flow logs shows the REJECT and its reason', async () => {
		await page.goto(URL + '/');
		await page.getByRole('link', { name: 'Flow logs', exact: true }).click();
		await page.getByLabel('Action', { exact: true }).selectOption('REJECT');
		await page.getByLabel('Port', { exact: true }).fill('80');
		await page.getByRole('button', { name: 'Apply filters' }).click();
		const row = page.getByRole('row').filter({ hasText: CLIENT })
			.filter({ hasText: 'REJECT' }).filter({ hasText: 'no-rule' });
		const ok = await until(async () => {
			if (await row.count())
				return true;
			await page.reload();
			return false;
		}, 15000, 1000);
		return ok || 'no REJECT no-rule row from ' + CLIENT;
	});
	await step('Flow logs Live follows a new REJECT without a reload', async () => {
		await page.getByLabel('Live', { exact: true }).check();
		await until(async () => (await hash()).includes('live=1'));
		const rows = page.getByRole('row').filter({ hasText: CLIENT });
		await rows.first().waitFor();
		const before = await rows.count();
		probe(80);
		return await until(async () => (await rows.count()) > before, 10000, 500) ||
			'still ' + before + ' rows';
	});
	await page.getByLabel('Live', { exact: true }).uncheck();
	await shot('flowlogs');
	await step('Why does this time out? gives REJECT and the closest rules', async () => {
		await page.getByRole('link', { name: 'Why does this time out?', exact: true }).click();
		await page.getByLabel('Source', { exact: true }).fill(CLIENT);
		await page.getByLabel('Destination', { exact: true }).fill(WEB);
		await page.getByLabel('Protocol', { exact: true }).selectOption('tcp');
		await page.getByLabel('Port', { exact: true }).fill('80');
		await page.getByRole('button', { name: 'Check', exact: true }).click();
		const h = page.getByRole('heading', { name: /^Verdict/ });
		await h.waitFor();
		const t = await h.textContent();
		return (t.includes('REJECT') && t.includes('time-out')) || 'verdict: ' + t;
	});
	await shot('check');
} else {
	await page.goto(URL + '/#/flowlogs');
	await shot('flowlogs');
	await page.goto(URL + '/#/check');
	await shot('check');
}

// ---- all user text is escaped ----

await step('a description "<script>…" shows as text', async () => {
	await openEditor('outbound');
	await addRule('Custom TCP', 'Custom', { port: '8443', cidr: '198.51.100.0/24',
		description: XSS, outbound: true });
	await saveAndReturn();
	await page.getByRole('tab', { name: 'Outbound rules', exact: true }).click();
	const cell = tabpanel().getByRole('cell', { name: XSS, exact: true });
	await cell.waitFor();
	const scripts = await page.evaluate(() => document.querySelectorAll('main script').length);
	return scripts === 0 || scripts + ' script elements in the page';
});

// ---- groups and instances ----

let made = '';
await step('Create security group makes a group and opens it', async () => {
	await page.goto(URL + '/#/groups');
	await page.getByRole('button', { name: 'Create security group', exact: true }).click();
	await page.getByLabel('Security group name', { exact: true }).fill('browser-test');
	await page.getByLabel('Description', { exact: true }).fill('made by the browser test');
	await page.getByRole('button', { name: 'Create security group', exact: true }).click();
	const ok = await until(async () => /^#\/groups\/sg-[0-9a-f]{17}$/.test(await hash()));
	if (!ok)
		return 'at ' + (await hash()) + ((await page.getByRole('alert').count())
			? ': ' + (await page.getByRole('alert').first().textContent()) : '');
	made = decodeURIComponent((await hash()).slice('#/groups/'.length));
	await page.getByRole('status').waitFor();
});

const groupRow = (id) => page.getByRole('row')
	.filter({ has: page.getByRole('link', { name: id, exact: true }) });
await step(`Delete of ${GROUP} (in use): role="alert" with DependencyViolation`, async () => {
	await page.goto(URL + '/#/groups');
	await groupRow(GROUP).getByRole('button', { name: 'Delete', exact: true }).click();
	const a = page.getByRole('alert');
	await a.waitFor();
	const t = await a.textContent();
	return t.includes('DependencyViolation') || 'alert: ' + t;
});
if (made)
	await step('Delete of the new group removes it', async () => {
		await groupRow(made).getByRole('button', { name: 'Delete', exact: true }).click();
		await page.getByRole('status').waitFor();
		return (await until(async () => (await groupRow(made).count()) === 0)) ||
			'still listed';
	});

await step('Change security groups: i-web1 gets sg-db, then only ' + GROUP + ' again', async () => {
	const row = page.getByRole('row').filter({ hasText: 'i-web1' });
	const groups = async () => (await row.getByRole('link').allTextContents()).join(' ');
	// change(fn, want): the panel, fn's edits, Save; the row must then list want.
	const change = async (fn, want) => {
		await page.goto(URL + '/#/instances');
		await page.reload(); // a fresh page: no status left from before
		await row.getByRole('button', { name: 'Change security groups', exact: true }).click();
		const form = page.getByRole('form', { name: 'Change security groups' });
		await fn(form);
		await form.getByRole('button', { name: 'Save', exact: true }).click();
		return (await until(async () => (await groups()) === want)) ||
			'groups ' + (await groups()) + ', not ' + want;
	};
	const two = await change(async (f) => {
		await f.getByLabel('Security group', { exact: true }).selectOption('sg-db');
		await f.getByRole('button', { name: 'Add security group', exact: true }).click();
	}, GROUP + ' sg-db');
	if (two !== true)
		return 'after the add: ' + two;
	const one = await change((f) =>
		f.getByRole('button', { name: 'Remove sg-db', exact: true }).click(), GROUP);
	return one === true || 'after the remove: ' + one;
});

await page.goto(URL + '/');
await shot('home');

// ---- --read-only: no way to edit ----

if (RO_URL)
	await step('--read-only: no edit buttons, no Delete, no Create', async () => {
		await page.goto(RO_URL + '/#/groups/' + GROUP);
		await page.getByRole('tab', { name: 'Inbound rules', exact: true }).waitFor();
		const n = await page.getByRole('button', { name: /^Edit (inbound|outbound) rules$/ }).count();
		await page.goto(RO_URL + '/#/groups');
		await page.getByRole('link', { name: GROUP, exact: true }).waitFor();
		const d = await page.getByRole('button', { name: /^(Delete|Create security group)$/ }).count();
		return (n === 0 && d === 0) || n + ' edit buttons, ' + d + ' delete/create buttons';
	});

await step('no script error, CSP violation or dialog on any page', () =>
	problems.length === 0 || problems.slice(0, 3).join('; '));

await browser.close();
process.exit(failed ? 1 : 0);
