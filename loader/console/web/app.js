// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// The console's pages (docs/console.md): one page, hash routes, every view
// drawn from the JSON API under /api/. Plain JavaScript, no build step.
//
// Rules this file keeps:
//  - All text from the server goes into the page through el()/text nodes
//    (textContent), never innerHTML: a description "<script>..." is text.
//  - Accessible names are a contract (SPEC §4): outside tests find tabs,
//    buttons, selects and inputs by them, so they are spelled exactly.
//  - role="alert" is for errors only, and there is at most one at a time
//    on a page (tests read "the" alert).
//  - Every write carries X-CSRF-Token (the value of GET /api/session).
'use strict';

const S = {
	session: null, // GET /api/session
	types: null, // GET /api/types, the editor's Type list
	flash: null, // a success message for the next page (role="status")
};
let viewId = 0; // bumped on each route: answers for an older view are dropped
let timers = []; // intervals of the current view, cleared on route change

// ---------------------------------------------------------------- DOM

// el('tr', {class: 'x', onclick: fn}, kids...): strings become text nodes.
function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	setAttrs(e, attrs);
	append(e, kids);
	return e;
}

const SVGNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...kids) {
	const e = document.createElementNS(SVGNS, tag);
	setAttrs(e, attrs);
	append(e, kids);
	return e;
}

function setAttrs(e, attrs) {
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith('on'))
			e.addEventListener(k.slice(2), v);
		else if (k === 'class')
			e.setAttribute('class', v);
		else if (k === 'value')
			e.value = v;
		else if (k === 'disabled' || k === 'checked' || k === 'selected' ||
			 k === 'hidden' || k === 'required')
			e[k] = true;
		else
			e.setAttribute(k, v === true ? '' : String(v));
	}
}

// add(parent, kids...) and fill(parent, kids...): as append() and
// replaceChildren(), but null/false kids are skipped and arrays flattened.
function add(e, ...kids) {
	append(e, kids);
}

function fill(e, ...kids) {
	e.replaceChildren();
	append(e, kids);
}

function append(e, kids) {
	for (const k of kids.flat(Infinity)) {
		if (k === null || k === undefined || k === false)
			continue;
		e.append(k instanceof Node ? k : document.createTextNode(String(k)));
	}
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
	constructor(status, j) {
		super((j && j.error) || 'HTTP ' + status);
		this.status = status;
		this.code = (j && j.code) || 'HTTP' + status;
		this.row = j && typeof j.row === 'number' ? j.row : -1;
		this.errors = (j && j.errors) || [];
	}
}

// api('POST', '/api/groups', {...}) -> the parsed answer, or throws ApiError.
async function api(method, path, body, retried) {
	const opt = { method, headers: { Accept: 'application/json' },
		      credentials: 'same-origin' };
	if (method !== 'GET')
		opt.headers['X-CSRF-Token'] = S.session ? S.session.csrf_token : '';
	if (body !== undefined) {
		opt.headers['Content-Type'] = 'application/json';
		opt.body = JSON.stringify(body);
	}
	let res;
	try {
		res = await fetch(path, opt);
	} catch (e) {
		throw new ApiError(0, { error: 'the console does not answer (' +
					e.message + ')', code: 'NetworkError' });
	}
	let j = null;
	try {
		j = await res.json();
	} catch (e) { /* not JSON: the status says enough */ }
	// A restarted console has a new token: fetch it once and retry.
	if (res.status === 403 && j && j.code === 'InvalidCsrfToken' && !retried) {
		await loadSession();
		return api(method, path, body, true);
	}
	if (!res.ok)
		throw new ApiError(res.status, j);
	return j;
}

// qs({a: 1, b: ''}) -> '?a=1' (empty values left out).
function qs(o) {
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(o))
		if (v !== undefined && v !== null && v !== '')
			p.set(k, v);
	const s = p.toString();
	return s ? '?' + s : '';
}

async function loadSession() {
	S.session = await api('GET', '/api/session');
	drawContext();
}

const readOnly = () => !!(S.session && S.session.read_only);
const enc = encodeURIComponent;

// ---------------------------------------------------------------- helpers

function fmtTime(sec) {
	if (sec === null || sec === undefined || sec === '' || sec === '-')
		return '';
	const d = new Date(Number(sec) * 1000);
	if (isNaN(d))
		return String(sec);
	return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

// "13:01:46" (local time): flow logs cover the last minutes only.
function clock(sec) {
	const d = new Date(Number(sec) * 1000);
	return isNaN(d) ? String(sec ?? '') : d.toTimeString().slice(0, 8);
}

function fmtAge(s) {
	s = Math.max(0, Math.round(Number(s)));
	if (s < 60) return s + ' s ago';
	if (s < 3600) return Math.floor(s / 60) + ' min ago';
	if (s < 86400) return Math.floor(s / 3600) + ' h ago';
	return Math.floor(s / 86400) + ' d ago';
}

// "Last used" of a rule: when and how long ago; "Never" when unused.
function lastUsed(r) {
	if (r.last_used === null || r.last_used === undefined || r.last_used === 0)
		return el('span', { class: 'muted' }, 'Never');
	const age = r.last_used_age_s !== undefined && r.last_used_age_s !== null
		? r.last_used_age_s : Date.now() / 1000 - r.last_used;
	return el('span', { title: fmtTime(r.last_used) }, fmtAge(age));
}

const PROTO_NAMES = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 47: 'GRE', 58: 'ICMPv6',
		      all: 'All', '-1': 'All' };
// The AWS console's protocol column: "TCP", "UDP", "All", "47".
function protoLabel(p) {
	if (p === undefined || p === null || p === '')
		return '';
	const s = String(p).toLowerCase();
	const byName = { tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', icmpv6: 'ICMPv6',
			 all: 'All' };
	return byName[s] || PROTO_NAMES[s] || String(p);
}

// The EDIT body's protocol ("tcp", "udp", "icmp", "icmpv6", "all", "47")
// from a rule's show -j protocol (a number, or "all").
function protoSpec(p) {
	const s = String(p).toLowerCase();
	return { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6', '-1': 'all' }[s] || s;
}

const isIcmp = (p) => p === 'icmp' || p === 'icmpv6';

function groupLink(id, extra) {
	return el('a', { href: '#/groups/' + enc(id) + (extra || '') }, id);
}

// A peer: a group id links to its group, anything else is text.
function peerCell(peer) {
	if (typeof peer === 'string' && /^sg-/.test(peer))
		return groupLink(peer);
	return peer === undefined || peer === null ? '' : String(peer);
}

// The page's one error: role="alert", with the AWS code first.
function alertBox(e) {
	const codes = [];
	// A narrow cell may break the code after its dots only.
	if (e.code)
		codes.push(el('strong', { class: 'code' }, e.code.split('.').map((p, i) =>
			i ? ['.', el('wbr'), p] : p)), ': ');
	const extra = (e.errors || []).filter((x) => x.message !== e.message)
		.map((x) => el('li', {}, x.code ? x.code + ': ' : '', x.message));
	return el('div', { role: 'alert', class: 'alert' }, codes, e.message,
		  extra.length ? el('ul', {}, extra) : null);
}

// Replaces the content of a slot with one alert (or nothing).
function showError(slot, e) {
	slot.replaceChildren(e ? alertBox(e) : '');
}

function statusBox(msg) {
	return el('div', { role: 'status', class: 'flash' }, msg);
}

function takeFlash() {
	const f = S.flash;
	S.flash = null;
	return f ? statusBox(f) : null;
}

// A table from column names and rows of cells.
function table(caption, heads, rows, attrs) {
	return el('table', Object.assign({ class: 'grid' }, attrs || {}),
		caption ? el('caption', { class: 'sr-only' }, caption) : null,
		el('thead', {}, el('tr', {},
			heads.map((h) => el('th', { scope: 'col' }, h)))),
		rows instanceof HTMLTableSectionElement ? rows : el('tbody', {}, rows));
}

function emptyRow(n, msg) {
	return el('tr', {}, el('td', { colspan: n, class: 'empty' }, msg));
}

function header(title, sub, ...actions) {
	return el('div', { class: 'pagehead' },
		el('div', {}, el('h1', {}, title),
			sub ? el('p', { class: 'muted' }, sub) : null),
		el('div', { class: 'actions' }, actions));
}

function kv(pairs) {
	return el('dl', { class: 'details' }, pairs.map(([k, v]) =>
		el('div', {}, el('dt', {}, k), el('dd', {}, v === '' ||
			v === undefined || v === null ? '–' : v))));
}

// Paging for lists (offset/limit/total of the API).
function pager(total, offset, limit, go) {
	if (total <= limit && offset === 0)
		return null;
	const last = Math.min(offset + limit, total);
	return el('div', { class: 'pager' },
		el('button', { type: 'button', disabled: offset === 0,
			       onclick: () => go(Math.max(0, offset - limit)) },
		   'Previous page'),
		el('span', {}, (total ? offset + 1 : 0) + '–' + last + ' of ' + total),
		el('button', { type: 'button', disabled: last >= total,
			       onclick: () => go(offset + limit) }, 'Next page'));
}

// ---------------------------------------------------------------- router

const routes = [
	[/^\/?$/, pageHome, 'home'],
	[/^\/groups$/, pageGroups, 'groups'],
	[/^\/groups\/([^/]+)$/, pageGroup, 'groups'],
	[/^\/groups\/([^/]+)\/edit\/(inbound|outbound)$/, pageEditor, 'groups'],
	[/^\/rules\/([^/]+)$/, pageRule, 'groups'],
	[/^\/instances$/, pageInstances, 'instances'],
	[/^\/flowlogs$/, pageFlowLogs, 'flowlogs'],
	[/^\/check$/, pageCheck, 'check'],
	[/^\/map$/, pageMap, 'map'],
	[/^\/hosts$/, pageHosts, 'hosts'],
];

// "#/groups/sg-1?tab=outbound" -> ["/groups/sg-1", URLSearchParams]
function parseHash() {
	const h = location.hash.replace(/^#/, '');
	const i = h.indexOf('?');
	return i < 0 ? [h, new URLSearchParams()]
		: [h.slice(0, i), new URLSearchParams(h.slice(i + 1))];
}

function go(hash) {
	if (location.hash === hash)
		render();
	else
		location.hash = hash;
}

async function render() {
	const my = ++viewId;
	timers.forEach(clearInterval);
	timers = [];
	const [path, query] = parseHash();
	const main = document.getElementById('main');
	main.replaceChildren();
	let found = null, args = [];
	for (const [re, fn, nav] of routes) {
		const m = path.match(re);
		if (m) {
			found = [fn, nav];
			args = m.slice(1).map(decodeURIComponent);
			break;
		}
	}
	for (const a of document.querySelectorAll('.sidenav a')) {
		if (found && a.dataset.route === found[1])
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
	if (!found) {
		add(main, header('Not found'), el('p', {}, 'No page at ',
			el('code', {}, location.hash), '.'));
		return;
	}
	const alive = () => my === viewId;
	try {
		if (!S.session)
			await loadSession();
		await found[0](main, args, query, alive);
	} catch (e) {
		if (alive())
			add(main, alertBox(e));
	}
}

function drawContext() {
	const c = document.getElementById('context');
	const s = S.session;
	if (!c || !s)
		return;
	fill(c,
		el('span', {}, s.source === 'etcd' ? 'etcd' : 'local config'),
		s.vpc ? el('span', {}, s.vpc) : null,
		s.read_only ? el('span', { class: 'badge' }, 'read-only') : null,
		s.version ? el('span', { class: 'muted' }, 'sgctl ' + s.version) : null);
}

// ---------------------------------------------------------------- home

async function pageHome(main, _args, _q, alive) {
	const [g, i] = await Promise.all([
		api('GET', '/api/groups?limit=1'),
		api('GET', '/api/instances?limit=1').catch(() => null),
	]);
	if (!alive())
		return;
	const s = S.session;
	add(main, header('EC2 Dashboard', 'Security groups enforced in the kernel by sgctl'),
		el('section', { class: 'panel' },
			el('h2', {}, 'Resources'),
			el('div', { class: 'cards' },
				card('Security groups', g.total),
				card('Instances', i ? i.total : '–'),
				card('VPC', s.vpc || g.vpc || '–'),
				card('Source', s.source === 'etcd' ? 'etcd' : 'local config'))),
		el('section', { class: 'panel' },
			el('h2', {}, 'The practice'),
			el('p', {}, 'Network & Security → Security Groups → a group → ' +
			   'Edit inbound rules → Add rule → Type HTTP → Source ' +
			   'Anywhere-IPv4 → Save rules. Every rule shows its hits and ' +
			   'last use; Preview changes replays the last minutes of flow ' +
			   'logs against the draft.')));
}

function card(label, value) {
	return el('div', { class: 'card' }, el('div', { class: 'muted' }, label),
		  el('div', { class: 'big' }, value));
}

// ---------------------------------------------------------------- groups

const PAGE = 100;

async function pageGroups(main, _args, query, alive) {
	const q = query.get('q') || '';
	const offset = Number(query.get('offset')) || 0;
	const d = await api('GET', '/api/groups' + qs({ q, offset, limit: PAGE }));
	if (!alive())
		return;
	const errSlot = el('div', {});
	const create = createGroupForm(errSlot);
	const createBtn = el('button', { type: 'button', class: 'primary',
		hidden: readOnly(), onclick: () => {
			create.hidden = false;
			createBtn.hidden = true;
			create.querySelector('input').focus();
		} }, 'Create security group');
	create.addEventListener('reset', () => {
		create.hidden = true;
		createBtn.hidden = readOnly();
	});
	const filter = el('form', { class: 'filter', role: 'search', onsubmit: (ev) => {
		ev.preventDefault();
		go('#/groups' + qs({ q: filter.elements.q.value.trim() }));
	} }, el('input', { name: 'q', type: 'search', value: q,
			   'aria-label': 'Filter security groups',
			   placeholder: 'Filter security groups' }),
	el('button', { type: 'submit' }, 'Search'));

	const rows = d.groups.map((g) => el('tr', {},
		el('td', {}, groupLink(g.id)),
		el('td', {}, g.name || g.name_tag || ''),
		el('td', {}, g.vpc || d.vpc || ''),
		el('td', {}, g.description || ''),
		el('td', { class: 'num' }, g.inbound_rules),
		el('td', { class: 'num' }, g.outbound_rules),
		el('td', { class: 'num' }, Array.isArray(g.instances)
			? g.instances.length : g.instances),
		readOnly() ? null : el('td', {}, el('button', { type: 'button',
			onclick: (ev) => deleteGroup(ev.target, g.id, errSlot) }, 'Delete'))));
	const heads = ['Security group ID', 'Name', 'VPC ID', 'Description',
		       'Inbound rules count', 'Outbound rules count', 'Instances'];
	if (!readOnly())
		heads.push('Actions');
	add(main, 
		header('Security Groups (' + d.total + ')',
		       'A security group acts as a virtual firewall for your instances.',
		       createBtn),
		takeFlash(), errSlot, create, filter,
		table('Security groups', heads,
		      rows.length ? rows : emptyRow(heads.length,
			q ? 'No security group matches.' : 'No security groups.')),
		pager(d.total, d.offset || offset, PAGE,
		      (o) => go('#/groups' + qs({ q, offset: o }))));
}

function createGroupForm(errSlot) {
	const f = el('form', { class: 'panel form', hidden: true,
			       'aria-label': 'Create security group' },
		el('h2', {}, 'Create security group'),
		field('Security group name', el('input', { name: 'name', required: true,
			id: 'cg-name', maxlength: 255 })),
		field('Description', el('input', { name: 'description', id: 'cg-desc',
			maxlength: 255 })),
		field('Security group ID (optional)', el('input', { name: 'id',
			id: 'cg-id', placeholder: 'sg- and 17 hex digits, made when empty' })),
		el('div', { class: 'actions' },
			el('button', { type: 'reset' }, 'Cancel'),
			el('button', { type: 'submit', class: 'primary' }, 'Create security group')));
	f.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const body = { name: f.elements.name.value.trim(),
			       description: f.elements.description.value };
		const id = f.elements.id.value.trim();
		if (id)
			body.id = id;
		const btn = f.querySelector('button[type=submit]');
		btn.disabled = true;
		try {
			const r = await api('POST', '/api/groups', body);
			S.flash = 'Security group (' + r.id + ') was created.';
			go('#/groups/' + enc(r.id));
		} catch (e) {
			showError(errSlot, e);
		} finally {
			btn.disabled = false;
		}
	});
	return f;
}

// A labelled form field (<label for>).
function field(label, input) {
	return el('div', { class: 'field' }, el('label', { for: input.id }, label), input);
}

async function deleteGroup(btn, id, errSlot) {
	btn.disabled = true;
	showError(errSlot, null);
	try {
		await api('DELETE', '/api/groups/' + enc(id));
		S.flash = 'Security group (' + id + ') was deleted.';
		render();
	} catch (e) {
		showError(errSlot, e);
		btn.disabled = false;
	}
}

// ---------------------------------------------------------------- a group

const DIRS = {
	inbound: { tab: 'Inbound rules', edit: 'Edit inbound rules', peer: 'Source',
		   title: 'Edit inbound rules',
		   help: 'Inbound rules control the incoming traffic that is allowed to reach the instance.' },
	outbound: { tab: 'Outbound rules', edit: 'Edit outbound rules', peer: 'Destination',
		    title: 'Edit outbound rules',
		    help: 'Outbound rules control the outgoing traffic that is allowed to leave the instance.' },
};

async function pageGroup(main, [id], query, alive) {
	const g = await api('GET', '/api/groups/' + enc(id));
	if (!alive())
		return;
	const rules = g.rules || [];
	const focus = query.get('rule');
	let tab = query.get('tab') === 'outbound' ? 'outbound' : 'inbound';
	const hit = focus && rules.find((r) => r.id === focus);
	if (hit)
		tab = hit.direction === 'outbound' ? 'outbound' : 'inbound';

	const insts = Array.isArray(g.instances) ? g.instances : [];
	add(main, 
		header(g.id + (g.name ? ' - ' + g.name : ''), g.description || null),
		takeFlash(),
		el('section', { class: 'panel' }, el('h2', {}, 'Details'), kv([
			['Security group name', g.name],
			['Security group ID', g.id],
			['Description', g.description],
			['VPC ID', g.vpc],
			['Inbound rules count', g.inbound_rules],
			['Outbound rules count', g.outbound_rules],
			['Instances', insts.length ? el('span', { class: 'list' }, insts.map((i) =>
				el('a', { href: '#/instances' + qs({ q: i }) }, i))) : '0'],
		])));

	// The tabs (WAI-ARIA tabs pattern); both edit buttons stay visible so
	// either is reachable without choosing its tab first.
	const tabs = {}, panels = {};
	const select = (d) => {
		for (const k of Object.keys(DIRS)) {
			tabs[k].setAttribute('aria-selected', String(k === d));
			tabs[k].tabIndex = k === d ? 0 : -1;
			panels[k].hidden = k !== d;
		}
	};
	for (const d of Object.keys(DIRS)) {
		tabs[d] = el('button', { type: 'button', role: 'tab', id: 'tab-' + d,
			'aria-controls': 'panel-' + d, onclick: () => select(d),
			onkeydown: (ev) => {
				if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
					const o = d === 'inbound' ? 'outbound' : 'inbound';
					select(o);
					tabs[o].focus();
				}
			} }, DIRS[d].tab);
		const mine = rules.filter((r) => (r.direction || 'inbound') === d);
		panels[d] = el('div', { role: 'tabpanel', id: 'panel-' + d,
					'aria-labelledby': 'tab-' + d },
			ruleTable(d, mine, focus));
	}
	const edits = readOnly() ? null : Object.keys(DIRS).map((d) =>
		el('button', { type: 'button', onclick: () => go('#/groups/' + enc(g.id) + '/edit/' + d) },
		   DIRS[d].edit));
	add(main, el('section', { class: 'panel' },
		el('div', { class: 'tabbar' },
			el('div', { role: 'tablist', 'aria-label': 'Rules' },
			   tabs.inbound, tabs.outbound),
			el('div', { class: 'actions' }, edits)),
		panels.inbound, panels.outbound));
	select(tab);
	if (hit) {
		const row = document.getElementById('rule-' + focus);
		if (row)
			row.scrollIntoView({ block: 'center' });
	}
}

function ruleTable(dir, rules, focus) {
	const rows = rules.map((r) => el('tr', { id: 'rule-' + r.id,
			class: r.id === focus ? 'focus' : null },
		el('td', {}, el('a', { href: '#/flowlogs' + qs({ rule: r.id }),
				       title: 'Flow logs of this rule' }, r.id)),
		el('td', {}, r.type || ''),
		el('td', {}, protoLabel(r.protocol)),
		el('td', {}, rulePorts(r)),
		el('td', {}, peerCell(r.peer)),
		el('td', { class: 'desc' }, r.description || ''),
		el('td', { class: 'num' }, r.hits === undefined || r.hits === null ? '–' : r.hits),
		el('td', {}, lastUsed(r))));
	const heads = ['Security group rule ID', 'Type', 'Protocol', 'Port range',
		       DIRS[dir].peer, 'Description', 'Hits', 'Last used'];
	return table(DIRS[dir].tab, heads, rows.length ? rows
		: emptyRow(heads.length, 'No ' + dir + ' rules: ' + (dir === 'inbound'
			? 'nothing may come in.' : 'nothing may go out.')));
}

// Port range; for ICMP the type and code ("8", "3/4"), which the API's
// port_range leaves as "N/A".
function rulePorts(r) {
	if (isIcmp(protoSpec(r.protocol)) && r.icmp_type !== undefined &&
	    r.icmp_type !== null && r.icmp_type !== 'all')
		return icmpText(r);
	return r.port_range || '';
}

// #/rules/sgr-...: finds the rule's group (the map's edges name it) and goes there.
async function pageRule(main, [rule], _q, alive) {
	const g = await ruleGroup(rule);
	if (!alive())
		return;
	if (g)
		location.replace('#/groups/' + enc(g) + qs({ rule }));
	else
		add(main, header(rule), el('p', {}, 'This rule is not in the current config.'));
}

const ruleIndex = {}; // rule id -> group id, from GET /api/rules/ID
async function ruleGroup(rule, fresh) {
	if (fresh || !(rule in ruleIndex)) {
		try {
			ruleIndex[rule] = (await api('GET', '/api/rules/' + enc(rule))).group;
		} catch (e) {
			ruleIndex[rule] = null; // not in the current config
		}
	}
	return ruleIndex[rule] || null;
}

// ---------------------------------------------------------------- editor

async function loadTypes() {
	if (!S.types)
		S.types = (await api('GET', '/api/types')).types || [];
	return S.types;
}

async function pageEditor(main, [id, dir], _q, alive) {
	const [g, types] = await Promise.all([api('GET', '/api/groups/' + enc(id)),
					      loadTypes()]);
	if (!alive())
		return;
	const D = DIRS[dir];
	const ed = { id: g.id, dir, rows: [], removed: [], types };
	const tbody = el('tbody', {});
	ed.tbody = tbody;
	ed.topErr = el('div', {});
	ed.preview = el('section', { class: 'preview', 'aria-label': 'Preview', hidden: true });

	const heads = ['Security group rule ID', 'Type', 'Protocol', 'Port range',
		       D.peer, 'Description', ''];
	for (const r of (g.rules || []).filter((r) => (r.direction || 'inbound') === dir))
		addRow(ed, r);

	const save = el('button', { type: 'button', class: 'primary',
				    disabled: readOnly() }, 'Save rules');
	const preview = el('button', { type: 'button' }, 'Preview changes');
	save.addEventListener('click', () => saveRules(ed, save));
	preview.addEventListener('click', () => previewRules(ed, preview));

	add(main, 
		header(D.title, D.help),
		el('p', { class: 'crumb' }, 'Security group ', groupLink(g.id),
		   g.name ? ' (' + g.name + ')' : ''),
		readOnly() ? el('p', { class: 'note' },
			'This console is read-only: Preview changes works, Save rules does not.') : null,
		ed.topErr,
		el('section', { class: 'panel' },
			el('h2', {}, D.tab),
			el('table', { class: 'grid editor' },
				el('caption', { class: 'sr-only' }, D.tab),
				// Fixed widths: an error beside a row must not widen the table.
				el('colgroup', {}, [12, 16, 7, 8, 28, 13, 16].map((w) =>
					el('col', { class: 'w' + w }))),
				el('thead', {}, el('tr', {}, heads.map((h) =>
					el('th', { scope: 'col' }, h)))),
				tbody),
			el('div', { class: 'actions left' },
				el('button', { type: 'button', onclick: () => {
					const row = addRow(ed, null);
					row.typeSel.focus();
				} }, 'Add rule'))),
		el('div', { class: 'actions footer' },
			el('button', { type: 'button', class: 'link',
				       onclick: () => go('#/groups/' + enc(g.id) + qs({ tab: dir })) },
			   'Cancel'),
			preview, save),
		ed.preview);
}

// The Type select's options: the console's names; a rule's own type is
// kept even if the list lacks it.
function typeSelect(ed, current) {
	const names = ed.types.map((t) => t.name);
	const opts = names.slice();
	if (current && !names.includes(current))
		opts.unshift(current);
	return el('select', { 'aria-label': 'Type' }, opts.map((n) =>
		el('option', { value: n, selected: n === current }, n)));
}

const PEERS = ['Custom', 'Anywhere-IPv4', 'Anywhere-IPv6', 'My IP'];

function myIp() {
	const ip = (S.session && S.session.client_ip) || '';
	if (!ip)
		return '';
	return ip + (ip.includes(':') ? '/128' : '/32');
}

// One editor row (<tr>): r is a rule of GET /api/groups/ID, or null for
// a new row (Add rule). Returns the row object.
function addRow(ed, r) {
	const D = DIRS[ed.dir];
	const row = { ruleId: r ? r.id : null, orig: null };
	const defType = ed.types.find((t) => t.name === 'Custom TCP') || ed.types[0];
	row.typeSel = typeSelect(ed, r ? (r.type || 'Custom protocol') : (defType && defType.name));
	row.protoIn = el('input', { type: 'text', 'aria-label': 'Protocol', size: 6 });
	row.portIn = el('input', { type: 'text', 'aria-label': 'Port range', size: 11 });
	row.peerSel = el('select', { 'aria-label': D.peer }, PEERS.map((p) =>
		el('option', { value: p }, p)));
	row.cidrIn = el('input', { type: 'text', size: 20,
				   'aria-label': 'CIDR, security group or prefix list',
				   placeholder: 'CIDR, sg- or pl-' });
	row.descIn = el('input', { type: 'text', 'aria-label': 'Description',
				   size: 22, maxlength: 255 });
	row.err = el('div', { class: 'rowerr' });
	const del = el('button', { type: 'button' }, 'Delete');
	row.tr = el('tr', {},
		el('td', { class: 'ruleid' }, r ? r.id : el('span', { class: 'muted' }, '–')),
		el('td', {}, row.typeSel),
		el('td', {}, row.protoIn),
		el('td', {}, row.portIn),
		el('td', {}, el('div', { class: 'peer' }, row.peerSel, row.cidrIn)),
		el('td', {}, row.descIn),
		el('td', { class: 'rowact' }, del, row.err));

	row.typeSel.addEventListener('change', () => applyType(ed, row, true));
	row.peerSel.addEventListener('change', () => applyPeer(row));
	// Typing an address makes the source Custom, as in the AWS console.
	row.cidrIn.addEventListener('input', () => {
		const v = row.cidrIn.value.trim();
		row.peerSel.value = v === '0.0.0.0/0' ? 'Anywhere-IPv4'
			: v === '::/0' ? 'Anywhere-IPv6' : 'Custom';
	});
	del.addEventListener('click', () => {
		ed.rows = ed.rows.filter((x) => x !== row);
		if (row.ruleId)
			ed.removed.push(row.ruleId);
		row.tr.remove();
	});

	if (r) {
		const p = protoSpec(r.protocol);
		row.protoIn.value = protoLabel(r.protocol);
		row.protoIn.dataset.spec = p;
		row.portIn.value = isIcmp(p) ? icmpText(r) : (r.port_range || '');
		row.cidrIn.value = r.peer || '';
		row.peerSel.value = r.peer === '0.0.0.0/0' ? 'Anywhere-IPv4'
			: r.peer === '::/0' ? 'Anywhere-IPv6' : 'Custom';
		row.descIn.value = r.description || '';
		applyType(ed, row, false);
	} else {
		applyType(ed, row, true);
	}
	ed.rows.push(row);
	ed.tbody.append(row.tr);
	if (r)
		row.orig = JSON.stringify(rowSpec(ed, row));
	return row;
}

function icmpText(r) {
	if (r.icmp_type === undefined || r.icmp_type === null || r.icmp_type === 'all')
		return 'All';
	if (r.icmp_code === undefined || r.icmp_code === null || r.icmp_code === 'all')
		return String(r.icmp_type);
	return r.icmp_type + '/' + r.icmp_code;
}

// Type -> protocol and port range, as the AWS console does: a fixed type
// (HTTP: TCP 80) fills both and locks the port range; "Custom TCP" leaves
// the port range to the user; "Custom protocol" unlocks the protocol.
// fill=false (an existing rule) keeps the rule's own values.
function applyType(ed, row, fill) {
	const t = ed.types.find((x) => x.name === row.typeSel.value);
	if (!t) { // a type the list lacks: leave the rule's values editable
		row.protoIn.disabled = false;
		row.portIn.disabled = false;
		return;
	}
	const customProto = !t.protocol || t.name === 'Custom protocol';
	row.protoIn.disabled = !customProto;
	row.portIn.disabled = !!t.fixed;
	if (!fill)
		return;
	if (!customProto) {
		row.protoIn.value = protoLabel(t.protocol);
		row.protoIn.dataset.spec = String(t.protocol).toLowerCase();
	} else {
		row.protoIn.value = '';
		delete row.protoIn.dataset.spec;
	}
	if (t.fixed)
		row.portIn.value = portShown(t.port_range);
	else
		row.portIn.value = '';
	// Custom ICMP: the field takes the ICMP type and code ("8", "3/4").
	row.portIn.placeholder = isIcmp(row.protoIn.dataset.spec) ? 'type/code' : '';
}

function portShown(p) {
	if (p === undefined || p === null)
		return '';
	return String(p).toLowerCase() === 'all' ? 'All' : String(p);
}

function applyPeer(row) {
	const v = row.peerSel.value;
	if (v === 'Anywhere-IPv4')
		row.cidrIn.value = '0.0.0.0/0';
	else if (v === 'Anywhere-IPv6')
		row.cidrIn.value = '::/0';
	else if (v === 'My IP')
		row.cidrIn.value = myIp();
	else if (v === 'Custom' && (row.cidrIn.value === '0.0.0.0/0' ||
				    row.cidrIn.value === '::/0'))
		row.cidrIn.value = '';
	if (v === 'Custom')
		row.cidrIn.focus();
}

// The EDIT body's SPEC for a row (docs/console.md "EDIT").
function rowSpec(ed, row) {
	const t = ed.types.find((x) => x.name === row.typeSel.value);
	let proto = row.protoIn.disabled ? (row.protoIn.dataset.spec || '')
		: row.protoIn.value.trim().toLowerCase();
	proto = { 'all': 'all', '-1': 'all', 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6' }[proto] || proto;
	const s = { type: row.typeSel.value, protocol: proto };
	const port = (t && t.fixed ? portShown(t.port_range) : row.portIn.value).trim();
	if (isIcmp(proto)) {
		// ICMP: the "port range" field holds the ICMP type and code
		// ("All", "8", "3/4").
		const m = port.match(/^(\d+)(?:[/:](\d+))?$/);
		if (m) {
			s.icmp_type = Number(m[1]);
			if (m[2] !== undefined)
				s.icmp_code = Number(m[2]);
		}
		s.port_range = 'all';
	} else if (proto === 'all' || /^(all|n\/a)$/i.test(port)) {
		s.port_range = 'all';
	} else {
		s.port_range = port;
	}
	s.peer = row.cidrIn.value.trim();
	const d = row.descIn.value;
	if (d !== '')
		s.description = d;
	return s;
}

// One save's EDIT: removed rows and changed rows are deletes, new and
// changed rows are adds; addRows[i] is the row of add[i] (for "row").
function editBody(ed) {
	const body = { direction: ed.dir, delete: ed.removed.slice(), add: [] };
	const addRows = [];
	for (const row of ed.rows) {
		const s = rowSpec(ed, row);
		if (row.ruleId && JSON.stringify(s) === row.orig)
			continue;
		if (row.ruleId)
			body.delete.push(row.ruleId);
		body.add.push(s);
		addRows.push(row);
	}
	return [body, addRows];
}

// Puts the error beside the row at fault (the answer's "row"), else on top.
function editError(ed, e, addRows) {
	ed.topErr.replaceChildren();
	for (const r of ed.rows) {
		r.err.replaceChildren();
		r.tr.classList.remove('fault');
	}
	if (!e)
		return;
	// "row" indexes the adds; a delete that failed (its rule gone:
	// InvalidPermission.NotFound) belongs to no add row, so it goes on top.
	const row = e.row >= 0 && e.code !== 'InvalidPermission.NotFound' ? addRows[e.row] : null;
	if (row) {
		row.err.append(alertBox(e));
		row.tr.classList.add('fault');
		row.tr.scrollIntoView({ block: 'center', inline: 'nearest' });
	} else {
		ed.topErr.append(alertBox(e));
	}
}

async function saveRules(ed, btn) {
	const [body, addRows] = editBody(ed);
	editError(ed, null);
	if (!body.delete.length && !body.add.length) {
		go('#/groups/' + enc(ed.id) + qs({ tab: ed.dir }));
		return;
	}
	btn.disabled = true;
	try {
		await api('POST', '/api/groups/' + enc(ed.id) + '/rules', body);
		S.flash = (ed.dir === 'inbound' ? 'Inbound' : 'Outbound') +
			' security group rules successfully modified on security group (' +
			ed.id + ').';
		go('#/groups/' + enc(ed.id) + qs({ tab: ed.dir }));
	} catch (e) {
		editError(ed, e, addRows);
		btn.disabled = readOnly();
	}
}

async function previewRules(ed, btn) {
	const [body, addRows] = editBody(ed);
	editError(ed, null);
	btn.disabled = true;
	try {
		const p = await api('POST', '/api/groups/' + enc(ed.id) + '/rules/preview', body);
		drawPreview(ed.preview, p);
	} catch (e) {
		ed.preview.hidden = true;
		editError(ed, e, addRows);
	} finally {
		btn.disabled = false;
	}
}

// The preview as lists (no tables: the editor's rows stay the page's last
// table rows, and tests add rows at the end of it).
function drawPreview(box, p) {
	const diff = p.diff || {};
	// A RULE: its CLI text ("http (tcp/80) from 0.0.0.0/0") when given.
	const ruleLine = (r) => [r.id ? el('code', {}, r.id) : null, ' ',
		r.rule || [r.type || '', ' ', protoLabel(r.protocol), ' ', r.port_range || '',
			   r.direction === 'outbound' ? ' to ' : ' from ', r.peer || ''],
		r.description ? ' "' + r.description + '"' : ''];
	// One line per flow: the buffer may hold a flow as several records
	// (one per poll that saw it grow).
	const flows = [], byKey = {};
	for (const f of p.flows || []) {
		const k = [f['instance-id'], f.srcaddr, f.srcport, f.dstaddr, f.dstport,
			   f.protocol, f.action, f.new_action].join(' ');
		if (byKey[k])
			byKey[k].n++;
		else
			flows.push(byKey[k] = Object.assign({ n: 1 }, f));
	}
	const win = p.window_s ? Math.round(p.window_s / 60) + ' min' : 'the last minutes';
	fill(box,
		el('h2', {}, 'Preview'),
		el('h3', {}, 'Rules added'),
		listOr((diff.added || []).map((r) => el('li', { class: 'add' }, '+ ', ruleLine(r))),
		       'None.'),
		el('h3', {}, 'Rules removed'),
		listOr((diff.removed || []).map((r) => el('li', { class: 'del' }, '− ', ruleLine(r))),
		       'None.'),
		(p.changes && p.changes.length) ? [el('h3', {}, 'What the kernel would change'),
			el('ul', { class: 'plain' }, p.changes.map((c) => el('li', {}, changeText(c))))] : null,
		el('h3', {}, 'Flows whose verdict would change (flow logs of ' + win + ')'),
		p.flows_error ? el('p', { class: 'note' }, 'Flow logs could not be replayed: ' +
				   p.flows_error) : null,
		listOr(flows.map((f) => el('li', {},
			flowText(f), ': ', actionTag(f.action), ' → ', actionTag(f.new_action),
			f.new_rule_id && f.new_rule_id !== '-' ? [' by ', el('code', {}, f.new_rule_id)] : null,
			f.n > 1 ? el('span', { class: 'muted' }, ' (' + f.n + ' records)') : null)),
		       'No flow of that window would change its verdict.'));
	box.hidden = false;
	box.scrollIntoView({ block: 'nearest' });
}

function listOr(items, none) {
	return items.length ? el('ul', { class: 'plain' }, items) : el('p', { class: 'muted' }, none);
}

// A `sgctl diff -j` entry in one line: "i-web1 inbound tcp/80 from
// 0.0.0.0/0: REJECT → ACCEPT (sgr-…)"; other shapes as key/value pairs.
function changeText(c) {
	if (typeof c !== 'object' || c === null)
		return String(c);
	if (c.instance && c.before && c.after) {
		const peers = c.sources || c.destinations || [];
		return [c.instance, ' ', c.direction || '', ' ', c.traffic || '',
			peers.length ? (c.sources ? ' from ' : ' to ') + peers.join(', ') : '',
			': ', actionTag(c.before), ' → ', actionTag(c.after),
			(c.rules || []).map((r) => [' ', el('code', {}, r.rule_id)])];
	}
	return Object.entries(c).filter(([, v]) => v !== null && v !== '')
		.map(([k, v]) => k + ' ' + (typeof v === 'object' ? JSON.stringify(v) : v))
		.join(', ');
}

function flowText(f) {
	const pr = PROTO_NAMES[f.protocol] || f.protocol;
	return (f['instance-id'] && f['instance-id'] !== '-' ? f['instance-id'] + ' ' : '') +
		f.srcaddr + (f.srcport ? ':' + f.srcport : '') + ' → ' +
		f.dstaddr + (f.dstport ? ':' + f.dstport : '') + ' ' + pr;
}

function actionTag(a) {
	return el('span', { class: 'tag ' + (a === 'ACCEPT' ? 'ok' : 'bad') }, a || '?');
}

// ---------------------------------------------------------------- instances

async function pageInstances(main, _args, query, alive) {
	const q = query.get('q') || '';
	const offset = Number(query.get('offset')) || 0;
	const d = await api('GET', '/api/instances' + qs({ q, offset, limit: PAGE }));
	if (!alive())
		return;
	const errSlot = el('div', {});
	const editor = el('div', {});
	const filter = el('form', { class: 'filter', role: 'search', onsubmit: (ev) => {
		ev.preventDefault();
		go('#/instances' + qs({ q: filter.elements.q.value.trim() }));
	} }, el('input', { name: 'q', type: 'search', value: q,
			   'aria-label': 'Filter instances', placeholder: 'Filter instances' }),
	el('button', { type: 'submit' }, 'Search'));
	const rows = d.instances.map((i) => el('tr', {},
		el('td', {}, i.id),
		el('td', {}, el('span', { class: 'list' }, (i.ips || []).map((a) => el('code', {}, a)))),
		el('td', {}, el('span', { class: 'list' }, (i.groups || []).map((g) => groupLink(g)))),
		el('td', {}, i.host || ''),
		el('td', {}, attachedIf(i)),
		el('td', {}, i.attached ? el('span', { class: 'tag ok' }, 'Yes')
			: el('span', { class: 'tag' }, 'No')),
		el('td', { class: 'num' }, (i.conntrack_used ?? '–') + ' / ' + (i.conntrack_room ?? '–')),
		readOnly() ? null : el('td', {}, el('button', { type: 'button', class: 'nowrap',
			onclick: () => changeGroups(editor, errSlot, i) }, 'Change security groups'))));
	const heads = ['Instance ID', 'Addresses', 'Security groups', 'Host',
		       'Interface', 'Attached', 'Conntrack used / room'];
	if (!readOnly())
		heads.push('Actions');
	add(main, header('Instances (' + d.total + ')',
			   'Instances and the security groups enforced on them.'),
		takeFlash(), errSlot, editor, filter,
		table('Instances', heads, rows.length ? rows
			: emptyRow(heads.length, 'No instances.')),
		pager(d.total, d.offset || offset, PAGE,
		      (o) => go('#/instances' + qs({ q, offset: o }))));
}

// The interface: the config's, else where it is attached ("eth0 in ns").
function attachedIf(i) {
	if (i.interface)
		return i.interface;
	return (i.attachments || []).map((a) => el('div', {}, a.interface || '',
		a.netns ? el('span', { class: 'muted' }, ' in ' + a.netns) : '',
		a.mode ? el('span', { class: 'muted' }, ' (' + a.mode + ')') : ''));
}

// The "Change security groups" panel: the groups kept, one to add, Save.
async function changeGroups(box, errSlot, inst) {
	showError(errSlot, null);
	const all = await api('GET', '/api/groups?limit=1000').catch(() => ({ groups: [] }));
	let chosen = (inst.groups || []).slice();
	const list = el('ul', { class: 'chips' });
	const pick = el('select', { id: 'cs-add' });
	const draw = () => {
		fill(list, chosen.map((g) => el('li', {}, el('code', {}, g), ' ',
			el('button', { type: 'button', class: 'link', 'aria-label': 'Remove ' + g,
				onclick: () => { chosen = chosen.filter((x) => x !== g); draw(); } },
			   'Remove'))));
		if (!chosen.length)
			list.append(el('li', { class: 'muted' }, 'No security groups'));
		fill(pick, all.groups.filter((g) => !chosen.includes(g.id))
			.map((g) => el('option', { value: g.id }, g.id + (g.name ? ' (' + g.name + ')' : ''))));
	};
	draw();
	const save = el('button', { type: 'submit', class: 'primary' }, 'Save');
	const f = el('form', { class: 'panel form', 'aria-label': 'Change security groups' },
		el('h2', {}, 'Change security groups: ' + inst.id),
		el('p', { class: 'muted' }, 'Associated security groups'), list,
		el('div', { class: 'field inline' }, el('label', { for: 'cs-add' }, 'Security group'), pick,
		   el('button', { type: 'button', onclick: () => {
			   if (pick.value && !chosen.includes(pick.value)) {
				   chosen.push(pick.value);
				   draw();
			   }
		   } }, 'Add security group')),
		el('div', { class: 'actions' },
			el('button', { type: 'button', onclick: () => box.replaceChildren() }, 'Cancel'),
			save));
	f.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		save.disabled = true;
		try {
			await api('PUT', '/api/instances/' + enc(inst.id) + '/groups', { groups: chosen });
			S.flash = 'Security groups of ' + inst.id + ' changed.';
			render();
		} catch (e) {
			showError(errSlot, e);
			save.disabled = false;
		}
	});
	box.replaceChildren(f);
	pick.focus();
}

// ---------------------------------------------------------------- flow logs

const REASONS = {
	'no-rule': 'no rule of the instance\'s security groups allows it',
	'conntrack-full': 'the connection table is full',
	'source-check': 'source/destination check: not the instance\'s address',
};

async function pageFlowLogs(main, _args, query, alive) {
	const F = { instance: query.get('instance') || '', action: query.get('action') || '',
		    addr: query.get('addr') || '', port: query.get('port') || '',
		    rule: query.get('rule') || '' };
	const live = query.get('live') === '1';
	const d = await api('GET', '/api/flowlogs' + qs(Object.assign({ limit: 500 }, F)));
	if (!alive())
		return;
	const input = (name, label, v, extra) => el('div', { class: 'field' },
		el('label', { for: 'fl-' + name }, label),
		el('input', Object.assign({ id: 'fl-' + name, name, value: v }, extra || {})));
	const liveBox = el('input', { type: 'checkbox', id: 'fl-live', checked: live });
	const form = el('form', { class: 'panel filters', role: 'search',
				  'aria-label': 'Flow log filters' },
		input('instance', 'Instance', F.instance, { placeholder: 'i-…' }),
		el('div', { class: 'field' }, el('label', { for: 'fl-action' }, 'Action'),
		   el('select', { id: 'fl-action', name: 'action' },
			['', 'ACCEPT', 'REJECT'].map((a) => el('option', { value: a,
				selected: a === F.action }, a || 'All')))),
		input('addr', 'Address', F.addr, { placeholder: '198.51.100.20' }),
		input('port', 'Port', F.port, { inputmode: 'numeric', size: 6 }),
		input('rule', 'Rule ID', F.rule, { placeholder: 'sgr-…' }),
		el('div', { class: 'field check' }, liveBox, el('label', { for: 'fl-live' }, 'Live')),
		el('button', { type: 'submit', class: 'primary' }, 'Apply filters'));
	const toHash = () => {
		const o = {};
		for (const k of Object.keys(F))
			o[k] = form.elements[k].value.trim();
		o.live = liveBox.checked ? '1' : '';
		return '#/flowlogs' + qs(o);
	};
	form.addEventListener('submit', (ev) => { ev.preventDefault(); go(toHash()); });
	liveBox.addEventListener('change', () => go(toHash()));

	const tbody = el('tbody', {});
	const heads = ['Start', 'Instance', 'Direction', 'Source', 'Destination',
		       'Protocol', 'Action', 'Rule or reason', 'Packets', 'Bytes'];
	const errSlot = el('div', {});
	const count = el('span', { class: 'muted' });
	let shown = 0;
	// Newest first: each batch (oldest first) goes on top, one by one.
	const addRecs = (recs) => {
		for (const f of recs) {
			tbody.prepend(flowRow(f));
			shown++;
		}
		while (tbody.rows.length > 1000)
			tbody.lastChild.remove();
		const empty = tbody.querySelector('td.empty');
		if (shown && empty)
			empty.parentNode.remove();
		count.textContent = shown + ' record' + (shown === 1 ? '' : 's') +
			(live ? ' · following' : '');
	};
	tbody.append(emptyRow(heads.length, 'No flow records in the console\'s window.'));
	addRecs(d.records || []);
	add(main, header('Flow logs', 'Every flow the security groups saw: each ' +
			   'REJECT with its reason, each ACCEPT with the rule that admitted it.'),
		form, errSlot,
		el('section', { class: 'panel' }, el('div', { class: 'tabbar' },
			el('h2', {}, 'Records'), count),
		   table('Flow records', heads, tbody)));
	if (!live)
		return;
	let cursor = d.next, busy = false;
	timers.push(setInterval(async () => {
		if (busy || document.hidden || !alive())
			return;
		busy = true;
		try {
			const n = await api('GET', '/api/flowlogs' +
				qs(Object.assign({ limit: 500, after: cursor }, F)));
			if (!alive())
				return;
			showError(errSlot, null);
			if (n.records && n.records.length)
				addRecs(n.records);
			if (n.next !== undefined && n.next !== null)
				cursor = n.next;
		} catch (e) {
			if (alive())
				showError(errSlot, e);
		} finally {
			busy = false;
		}
	}, 1000));
}

function flowRow(f) {
	const ok = f.action === 'ACCEPT';
	const rid = f['sg-rule-id'];
	let why;
	if (ok && rid && rid !== '-') {
		const g = f['sg-id'] || f.group || (ruleIndex && ruleIndex[rid]);
		why = el('a', { href: g ? '#/groups/' + enc(g) + qs({ rule: rid })
			: '#/rules/' + enc(rid), title: 'Open the rule', class: 'nowrap' }, rid);
	} else if (!ok) {
		const r = f.reason && f.reason !== '-' ? f.reason : 'no-rule';
		const p = PROTO_NAMES[f.protocol] ? String(PROTO_NAMES[f.protocol]).toLowerCase() : f.protocol;
		const inbound = f['flow-direction'] !== 'egress';
		why = [el('span', { class: 'reason', title: REASONS[r] || '' }, r), ' ',
			el('a', { href: '#/check' + qs({ src: f.srcaddr, dst: f.dstaddr,
				protocol: p, port: inbound || f.dstport ? f.dstport : '' }) }, 'Explain')];
	} else {
		why = el('span', { class: 'muted' }, '–');
	}
	return el('tr', { class: ok ? null : 'rejected' },
		el('td', { class: 'nowrap', title: fmtTime(f.start) }, clock(f.start)),
		el('td', {}, f['instance-id'] || ''),
		el('td', {}, f['flow-direction'] || f.direction || ''),
		el('td', {}, el('code', {}, f.srcaddr + (f.srcport ? ':' + f.srcport : ''))),
		el('td', {}, el('code', {}, f.dstaddr + (f.dstport ? ':' + f.dstport : ''))),
		el('td', {}, PROTO_NAMES[f.protocol] || f.protocol || ''),
		el('td', {}, actionTag(f.action), f.audit === 'AUDIT' ? ' (audit)' : ''),
		el('td', {}, why),
		el('td', { class: 'num' }, f.packets ?? ''),
		el('td', { class: 'num' }, f.bytes ?? ''));
}

// ---------------------------------------------------------------- check

async function pageCheck(main, _args, query, alive) {
	const v = { src: query.get('src') || '', dst: query.get('dst') || '',
		    protocol: query.get('protocol') || 'tcp', port: query.get('port') || '' };
	const input = (name, label, extra) => el('div', { class: 'field' },
		el('label', { for: 'ck-' + name }, label),
		el('input', Object.assign({ id: 'ck-' + name, name, value: v[name] }, extra || {})));
	const form = el('form', { class: 'panel filters', 'aria-label': 'Flow to check' },
		input('src', 'Source', { placeholder: 'address or i-…', required: true }),
		input('dst', 'Destination', { placeholder: 'address or i-…', required: true }),
		el('div', { class: 'field' }, el('label', { for: 'ck-protocol' }, 'Protocol'),
		   el('select', { id: 'ck-protocol', name: 'protocol' },
			['tcp', 'udp', 'icmp', 'icmpv6'].map((p) => el('option', { value: p,
				selected: p === v.protocol }, protoLabel(p))))),
		input('port', 'Port', { inputmode: 'numeric', size: 6, placeholder: '80' }),
		el('button', { type: 'submit', class: 'primary' }, 'Check'));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const o = {};
		for (const k of Object.keys(v))
			o[k] = form.elements[k].value.trim();
		go('#/check' + qs(o));
	});
	const out = el('div', {});
	add(main, header('Why does this time out?',
			   'The verdict the security groups give a flow, the rules they ' +
			   'considered, and the closest rules when none allows it.'),
		form, out);
	if (!v.src || !v.dst)
		return;
	// An instance id asks by instance (from/to), anything else by address.
	const p = {};
	p[/^i-/.test(v.src) ? 'from' : 'src'] = v.src;
	p[/^i-/.test(v.dst) ? 'to' : 'dst'] = v.dst;
	p.protocol = v.protocol;
	p.port = isIcmp(v.protocol) ? '' : v.port;
	const r = await api('GET', '/api/check' + qs(p));
	if (!alive())
		return;
	out.append(drawCheck(r));
}

function drawCheck(r) {
	const sides = [];
	if (r.source || r.destination) {
		if (r.source)
			sides.push(['At the source (outbound of ' + (r.source.instance || r.source.address) + ')', r.source]);
		if (r.destination)
			sides.push(['At the destination (inbound of ' + (r.destination.instance || r.destination.address) + ')', r.destination]);
	} else {
		sides.push([(r.direction === 'outbound' ? 'Outbound of ' : 'Inbound of ') + r.instance, r]);
	}
	const ok = r.verdict === 'ACCEPT';
	return el('section', { class: 'panel' },
		el('h2', {}, 'Verdict: ', actionTag(r.verdict),
		   ok ? ' the flow is allowed' : ' the client sees a time-out'),
		el('p', { class: 'muted' }, [protoLabel(r.protocol),
			r.port !== undefined ? ' port ' + r.port : '',
			r.icmp_type !== undefined ? ' ICMP type ' + r.icmp_type + ' code ' + r.icmp_code : '',
			r.config ? ' · config: ' + r.config : ''].join('')),
		sides.map(([title, s]) => checkSide(title, s)));
}

function checkSide(title, s) {
	if (!s.verdict) // an end outside the VPC: no security group there
		return el('div', { class: 'side' }, el('h3', {}, title),
			  el('p', { class: 'muted' }, 'Not an instance of this VPC: no security group applies.'));
	const ruleLi = (x) => el('li', {}, groupLink(x.group, qs({ rule: x.rule_id })), ' ',
		el('code', {}, x.rule_id), ' ', x.rule || '',
		x.description ? ' "' + x.description + '"' : '',
		x.explanation ? el('div', { class: 'muted' }, x.explanation) : null);
	const k = s.kernel || {};
	return el('div', { class: 'side' },
		el('h3', {}, title, ': ', actionTag(s.verdict)),
		kv([
			['Instance', s.instance],
			['Reason', s.reason],
			['Remote', s.remote],
			['Security groups considered', el('span', { class: 'list' },
				(s.groups || []).map((g) => groupLink(g)))],
			s.rule_id ? ['Rule that allows it', el('span', {},
				groupLink(s.group, qs({ rule: s.rule_id })), ' ', el('code', {}, s.rule_id),
				' ', s.rule || '', s.tracked === false ? ' (untracked)' : '')] : null,
			['Conntrack', s.conntrack ? s.conntrack.in_use + ' / ' + s.conntrack.max_entries : ''],
			['Kernel', (k.program || '') + (k.counter ? ' counter ' + k.counter : '') +
				(k.scratch ? ' (scratch copy)' : '')],
			['Kernel and model', s.model_agrees === false
				? el('strong', { class: 'warn' }, 'disagree: please report it')
				: 'agree'],
		].filter(Boolean)),
		s.matching_rules && s.matching_rules.length > 1 ? [el('h4', {}, 'Matching rules'),
			el('ul', { class: 'plain' }, s.matching_rules.map(ruleLi))] : null,
		s.closest_rules ? [el('h4', {}, 'Closest rules'),
			listOr(s.closest_rules.map(ruleLi), 'No rule comes close.')] : null);
}

// ---------------------------------------------------------------- map

// Columns, left to right: where traffic comes from (CIDRs, prefix lists),
// the groups, the instances that carry them.
// Over 150 instances the API gives one "instances" box per group instead.
const MAP_COL = { cidr: 0, 'prefix-list': 0, group: 1, instance: 2, instances: 2 };
const MAP_MAX = 150; // nodes per column drawn (a bigger map is unreadable)

async function pageMap(main, _args, query, alive) {
	const group = query.get('group') || '';
	const m = await api('GET', '/api/map' + qs({ group: group || undefined }));
	if (!alive())
		return;
	// One group's neighbourhood (?group=ID), asked for here; a big VPC's
	// whole map keeps only the rules between groups.
	const pick = el('input', { type: 'text', 'aria-label': 'Group', value: group,
				   placeholder: 'sg-…', size: 24 });
	const focus = el('form', { class: 'mapgroup', onsubmit: (ev) => {
		ev.preventDefault();
		go('#/map' + qs({ group: pick.value.trim() || undefined }));
	} }, el('label', {}, 'Rules of one group: ', pick), ' ',
		el('button', { type: 'submit' }, 'Show'),
		group ? el('a', { href: '#/map' }, ' whole VPC') : null);
	const note = m.rules_omitted ? el('p', { class: 'muted' }, m.rules_omitted +
		' rules with addresses or prefix lists are left out of this map of the ' +
		'whole VPC; only the rules between groups are drawn. Pick a group to see all of its rules.')
		: null;
	// Direction filters: every group's default egress to 0.0.0.0/0 and
	// ::/0 can hide the inbound picture.
	const box = el('section', { class: 'panel mapbox' });
	const show = { inbound: true, outbound: true };
	const redraw = () => fill(box, drawMap(m, show));
	const opt = (dir) => el('label', {}, el('input', { type: 'checkbox', checked: true,
		onchange: (ev) => { show[dir] = ev.target.checked; redraw(); } }),
		'Show ' + dir + ' rules');
	redraw();
	add(main, header('Reachability map',
			   'An arrow for each rule that lets one reach another; click an ' +
			   'arrow to open its rule.'),
		focus,
		el('div', { class: 'mapopts' }, opt('inbound'), opt('outbound')),
		note,
		box,
		el('p', { class: 'muted legend' }, 'Boxes: ',
		   el('span', { class: 'key cidr' }, 'CIDR'), ' ',
		   el('span', { class: 'key prefix-list' }, 'prefix list'), ' ',
		   el('span', { class: 'key group' }, 'security group'), ' ',
		   el('span', { class: 'key instance' }, 'instance'),
		   '. Dashed lines: an instance carries the group.'));
}

function drawMap(m, show) {
	const W = 190, H = 34, GAPX = 200, GAPY = 30, PAD = 20;
	const cols = [[], [], []];
	const pos = {};
	const edges = (m.edges || []).filter((e) => e.kind === 'member' ||
		show[e.direction === 'outbound' ? 'outbound' : 'inbound']);
	// Addresses and prefix lists only when an arrow shown touches them.
	const used = new Set(edges.flatMap((e) => [e.from, e.to]));
	for (const n of (m.nodes || []).filter((n) => n.kind === 'group' ||
			 n.kind === 'instance' || n.kind === 'instances' || used.has(n.id))) {
		const c = MAP_COL[n.kind] ?? 0;
		if (cols[c].length < MAP_MAX)
			cols[c].push(n);
	}
	// Fewer crossings: addresses and instances in the order of the groups
	// they touch (the mean row of those groups).
	const row = {};
	cols[1].forEach((n, i) => { row[n.id] = i; });
	const mean = (id) => {
		const r = edges.filter((e) => e.from === id || e.to === id)
			.map((e) => row[e.from === id ? e.to : e.from]).filter((x) => x !== undefined);
		return r.length ? r.reduce((a, b) => a + b, 0) / r.length : 1e9;
	};
	for (const c of [0, 2]) {
		const k = new Map(cols[c].map((n) => [n, mean(n.id)]));
		cols[c].sort((a, b) => k.get(a) - k.get(b));
	}
	const x0 = (c) => PAD + c * (W + GAPX);
	cols.forEach((col, c) => col.forEach((n, i) => {
		pos[n.id] = { x: x0(c), y: PAD + 24 + i * (H + GAPY), n };
	}));
	const rows = Math.max(1, ...cols.map((c) => c.length));
	const width = x0(2) + W + PAD + 60, height = PAD * 2 + 24 + rows * (H + GAPY);
	const s = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, width, height,
			       role: 'img', 'aria-label': 'Reachability map', class: 'map' },
		svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5,
			markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
			svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }))));
	['Sources and destinations', 'Security groups', 'Instances'].forEach((t, c) =>
		s.append(svg('text', { x: x0(c), y: PAD + 8, class: 'colhead' }, t)));

	// Membership ("member" edges: a group to an instance carrying it)
	// first, under everything.
	for (const e of edges.filter((x) => x.kind === 'member')) {
		const g = pos[e.from], i = pos[e.to];
		if (g && i)
			s.append(svg('line', { x1: g.x + W, y1: g.y + H / 2,
				x2: i.x, y2: i.y + H / 2, class: 'member' }));
	}

	const seen = {};
	const labels = [];
	const placed = []; // label boxes drawn so far
	for (const e of edges.filter((x) => x.kind !== 'member')) {
		const a = pos[e.from], b = pos[e.to];
		if (!a || !b)
			continue;
		// Parallel edges between the same boxes fan out.
		const key = [e.from, e.to].sort().join('\n');
		const k = seen[key] = (seen[key] || 0) + 1;
		const bend = (k - 1) * 22;
		// The curve's four points: a cubic Bézier from a to b.
		let P;
		const ay = a.y + H / 2, by = b.y + H / 2;
		if (a.x < b.x) {
			const x1 = a.x + W, x2 = b.x - 2;
			P = [[x1, ay], [x1 + 90, ay + bend], [x2 - 90, by + bend], [x2, by]];
		} else if (a.x > b.x) {
			const x1 = a.x, x2 = b.x + W + 2;
			P = [[x1, ay], [x1 - 90, ay + bend], [x2 + 90, by + bend], [x2, by]];
		} else if (a === b) { // a group that lets itself in: a loop
			const x = a.x + W, r = 40 + bend;
			P = [[x, ay - 8], [x + r, ay - 30], [x + r, ay + 30], [x + 2, ay + 8]];
		} else { // same column: an arc on the right
			const x = a.x + W, out = 60 + Math.abs(ay - by) / 4 + bend;
			P = [[x, ay], [x + out, ay], [x + out, by], [x + 2, by]];
		}
		const d = `M${P[0]} C${P[1]} ${P[2]} ${P[3]}`;
		const label = e.label || (e.protocol + (e.ports ? '/' + e.ports : ''));
		const href = '#/groups/' + enc(e.group) + qs({ rule: e.rule_id });
		const lw = 7 * label.length + 10;
		// The label goes where the curve is free of other labels.
		const [lx, ly] = placeLabel(P, lw, placed);
		const link = svg('a', { href, class: 'edge ' + (e.direction || '') },
			svg('title', {}, label + ': ' + (e.rule_id || '') + ' of ' + e.group +
			    ' (' + (e.direction || '') + ')'),
			svg('path', { d, class: 'hit' }),
			svg('path', { d, class: 'line', 'marker-end': 'url(#arrow)' }));
		s.append(link);
		labels.push(svg('a', { href, class: 'edge' },
			svg('title', {}, label + ': ' + (e.rule_id || '') + ' of ' + e.group),
			svg('rect', { x: lx - lw / 2, y: ly - 9, width: lw, height: 18, rx: 4, class: 'label' }),
			svg('text', { x: lx, y: ly + 4, 'text-anchor': 'middle' }, label)));
	}
	labels.forEach((l) => s.append(l)); // labels over the lines

	for (const { x, y, n } of Object.values(pos)) {
		const text = n.kind === 'instances' ? n.label + ' of ' + n.id.replace(/:instances$/, '')
			: n.label && n.label !== n.id ? n.id + ' ' + n.label : n.id;
		const short = text.length > 26 ? text.slice(0, 25) + '…' : text;
		const box = [svg('title', {}, text),
			svg('rect', { x, y, width: W, height: H, rx: 6, class: 'node ' + n.kind }),
			svg('text', { x: x + 10, y: y + H / 2 + 4 }, short)];
		if (n.kind === 'group')
			s.append(svg('a', { href: '#/groups/' + enc(n.id) }, box));
		else if (n.kind === 'instance')
			s.append(svg('a', { href: '#/instances' + qs({ q: n.id }) }, box));
		else if (n.kind === 'instances') // a group's instances, summarised
			s.append(svg('a', { href: '#/instances' + qs({ q: n.id.replace(/:instances$/, '') }) }, box));
		else
			s.append(svg('g', {}, box));
	}
	if (!(m.nodes || []).length)
		return el('p', { class: 'muted' }, 'Nothing to draw: no groups.');
	return s;
}

// The point at t of a cubic Bézier.
function bezier(P, t) {
	const u = 1 - t;
	const k = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
	return [0, 1].map((i) => k.reduce((sum, w, j) => sum + w * P[j][i], 0));
}

// The first point along the curve (middle first) where a label of width w
// overlaps no label placed before; the middle when none is free.
function placeLabel(P, w, placed) {
	const h = 18;
	for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78, 0.15, 0.85]) {
		const [x, y] = bezier(P, t);
		const box = [x - w / 2 - 2, y - h / 2 - 2, x + w / 2 + 2, y + h / 2 + 2];
		if (!placed.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) {
			placed.push(box);
			return [x, y];
		}
	}
	return bezier(P, 0.5);
}

// ---------------------------------------------------------------- hosts

async function pageHosts(main, _args, _q, alive) {
	const d = await api('GET', '/api/hosts');
	if (!alive())
		return;
	const hosts = d.hosts || [];
	add(main, header('Hosts', 'The agents that apply the VPC\'s desired state, ' +
			   'each with the revision it applied.'));
	if (d.source === 'local') {
		add(main, el('section', { class: 'panel' }, el('p', {},
			'This console shows the config loaded on this host: there are no ' +
			'agents. Start it with --etcd to see a fleet.')));
		return;
	}
	add(main, el('section', { class: 'panel' }, kv([
		['VPC', d.vpc], ['etcd revision', d.revision], ['Desired revision', d.desired_revision]])));
	const rows = hosts.map((h) => el('tr', { class: h.error ? 'rejected' : null },
		el('td', {}, h.host),
		el('td', { class: 'num' }, h.revision),
		el('td', { class: 'num' }, h.lag),
		el('td', {}, fmtTime(h.applied_at)),
		el('td', {}, h.version || ''),
		el('td', { class: 'num' }, h.pid ?? ''),
		el('td', {}, h.error ? [el('code', {}, h.error.key || ''), ' ', h.error.message || '']
			: el('span', { class: 'muted' }, 'none'))));
	add(main, table('Hosts', ['Host', 'Applied revision', 'Lag', 'Applied at',
				    'Version', 'PID', 'Error'],
			  rows.length ? rows : emptyRow(7, 'No agent has reported.')));
}

// ---------------------------------------------------------------- start

window.addEventListener('hashchange', render);
document.addEventListener('DOMContentLoaded', render);
