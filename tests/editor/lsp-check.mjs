// lsp-check.mjs - drover's JSON Schema in a real editor's language server:
// yaml-language-server, driven over stdio as an editor drives it (LSP:
// initialize, didOpen, publishDiagnostics). Runbooks carry the modeline
//   # yaml-language-server: $schema=<schema>
// as drover's own files do; a good runbook must get no diagnostic and a bad
// one the schema's errors at the lines of the mistakes.
//
//   node lsp-check.mjs NODE_MODULES SCHEMA WORKDIR RUNBOOK...   prints "editor-lsp: N passed, M failed"
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, schemaPath, work, ...good] = process.argv.slice(2);
const server = path.resolve(modules, 'yaml-language-server/bin/yaml-language-server');
const schemaUrl = pathToFileURL(path.resolve(schemaPath)).href;
let pass = 0, fail = 0;
function ok(what, cond, detail) {
	if (cond) pass++;
	else { fail++; console.log(`FAIL editor-lsp: ${what}`); if (detail) console.log(`    ${detail}`); }
}

// --- a minimal LSP client --------------------------------------------------------------
const child = spawn(process.execPath, [server, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
let buf = Buffer.alloc(0), nextId = 1;
const pending = new Map(), diagnostics = new Map(), waiters = [];
function send(msg) {
	const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg }));
	child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
	child.stdin.write(body);
}
const request = (method, params) => new Promise(resolve => {
	const id = nextId++;
	pending.set(id, resolve);
	send({ id, method, params });
});
function handle(msg) {
	if (msg.id !== undefined && pending.has(msg.id) && msg.method === undefined) {
		pending.get(msg.id)(msg.result);
		pending.delete(msg.id);
	} else if (msg.method === 'workspace/configuration') {
		send({ id: msg.id, result: msg.params.items.map(it => (it.section === 'yaml' ?
			{ validate: true, schemaStore: { enable: false }, format: { enable: false } } : null)) });
	} else if (msg.id !== undefined && msg.method) {
		send({ id: msg.id, result: null }); // client/registerCapability and the like
	} else if (msg.method === 'textDocument/publishDiagnostics') {
		diagnostics.set(msg.params.uri, msg.params.diagnostics);
		waiters.splice(0).forEach(w => w());
	}
}
child.stdout.on('data', chunk => {
	buf = Buffer.concat([buf, chunk]);
	for (;;) {
		const end = buf.indexOf('\r\n\r\n');
		if (end < 0) return;
		const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, end).toString())[1]);
		if (buf.length < end + 4 + len) return;
		handle(JSON.parse(buf.subarray(end + 4, end + 4 + len).toString()));
		buf = buf.subarray(end + 4 + len);
	}
});

// The diagnostics of uri once the server has published them twice or settled (it validates on open).
async function diagnosticsOf(uri, text) {
	diagnostics.delete(uri);
	send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'yaml', version: 1, text } } });
	const deadline = Date.now() + 20000;
	while (!diagnostics.has(uri) && Date.now() < deadline)
		await new Promise(r => { waiters.push(r); setTimeout(r, 200); });
	await new Promise(r => setTimeout(r, 300));
	return diagnostics.get(uri);
}

const modeline = `# yaml-language-server: $schema=${schemaUrl}\n`;
const withModeline = text => modeline + text.replace(/^# yaml-language-server:.*\n/m, '');
const timer = setTimeout(() => { console.log('FAIL editor-lsp: yaml-language-server did not answer within 60s'); process.exit(1); }, 60000);

await request('initialize', { processId: process.pid, rootUri: pathToFileURL(path.resolve(work)).href, capabilities: {
	workspace: { configuration: true }, textDocument: { publishDiagnostics: {} } } });
send({ method: 'initialized', params: {} });
send({ method: 'workspace/didChangeConfiguration', params: { settings: { yaml: { validate: true } } } });

for (const file of good) {
	const uri = pathToFileURL(path.resolve(work, path.basename(file))).href;
	const d = await diagnosticsOf(uri, withModeline(fs.readFileSync(file, 'utf8')));
	ok(`${file}: no diagnostic`, Array.isArray(d) && d.length === 0,
		d ? d.map(x => `${x.range.start.line + 1}: ${x.message}`).join('; ') : 'no diagnostics published');
}

const bad = `drover: 1
name: bad
steps:
  - id: s
    action: log
    timeout: 0s
    retries: 3
    with: { message: hi }
  - id: t
    action: check.ssh
    with: { host: vm-1 }
`;
const d = await diagnosticsOf(pathToFileURL(path.resolve(work, 'bad.yaml')).href, withModeline(bad)) || [];
const lines = d.map(x => x.range.start.line); // 0-based, the modeline is line 0
const show = d.map(x => `${x.range.start.line}: ${x.message}`).join('; ');
ok('a bad runbook gets diagnostics', d.length >= 3, show);
ok('timeout: 0s is reported at its line', lines.includes(6), show);
ok('the unknown key retries is reported at its line', lines.includes(7) && /retries/.test(show), show);
ok('check.ssh without known_hosts is reported', d.some(x => /known_hosts/.test(x.message)), show);

clearTimeout(timer);
await request('shutdown', null);
send({ method: 'exit' });
child.kill();
console.log(`editor-lsp: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
