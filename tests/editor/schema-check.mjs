// schema-check.mjs - docs/runbook.schema.json as editors and CI tools read it,
// checked with a real validator (ajv, strict mode):
//   - the schema compiles under ajv's strict mode (no unknown keywords, every
//     `required` name defined in `properties` beside it, no ignored types);
//   - every `default` satisfies the schema of its own property, so completion
//     inserts values that both the schema and drover accept;
//   - every shipped runbook and composite validates;
//   - values drover refuses are refused by the schema too where JSON Schema
//     can say it (the rest is listed in docs/language.md, "Editors").
//
//   node schema-check.mjs NODE_MODULES SCHEMA REPO     prints "editor-schema: N passed, M failed"
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const [modules, schemaPath, repo] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modules), 'x.js'));
const Ajv = require('ajv8'); // ajv 8 (npm:ajv@8), for strict mode; tests/npm/package.json
const YAML = require('yaml');

// The two formats the schema uses, as drover reads them (ajv leaves formats to the caller).
const formats = {
	regex: s => { try { new RegExp(s, 'u'); return true; } catch { return false; } },
	'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i,
};

let pass = 0, fail = 0;
function ok(what, cond, detail) {
	if (cond) pass++;
	else { fail++; console.log(`FAIL editor-schema: ${what}`); if (detail) console.log(`    ${detail}`); }
}
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
const ajvOf = strict => new Ajv({ strict, allErrors: true, formats });
const errText = errs => (errs || []).slice(0, 4).map(e => `${e.instancePath || '/'} ${e.message}`).join('; ');

// 1. strict mode
let validate = null;
try {
	validate = ajvOf(true).compile(schema);
	ok('the schema compiles in ajv strict mode', true);
} catch (e) {
	ok('the schema compiles in ajv strict mode', false, e.message);
	validate = ajvOf(false).compile(schema);
}

// 2. every default satisfies its own property's schema
const defaults = [];
(function walk(node, where) { // schema positions only: a property may well be called "default"
	if (!node || typeof node !== 'object') return;
	if ('default' in node) defaults.push({ where, node });
	for (const k of ['definitions', 'properties'])
		for (const [name, sub] of Object.entries(node[k] || {})) walk(sub, `${where}/${k}/${name}`);
	for (const k of ['items', 'additionalProperties', 'if', 'then', 'else', 'not', 'propertyNames'])
		walk(node[k], `${where}/${k}`);
	for (const k of ['anyOf', 'oneOf', 'allOf'])
		(node[k] || []).forEach((sub, i) => walk(sub, `${where}/${k}/${i}`));
})(schema, '#');
const loose = ajvOf(false);
let bad = [];
for (const { where, node } of defaults) {
	const { default: dflt, ...rest } = node;
	const check = loose.compile({ ...rest, definitions: schema.definitions });
	if (!check(dflt)) bad.push(`${where}: default ${JSON.stringify(dflt)}: ${errText(check.errors)}`);
}
ok(`every default (${defaults.length}) satisfies its property's schema`, defaults.length > 30 && bad.length === 0,
	bad.slice(0, 6).join('\n    '));

// 3. every shipped runbook validates
const files = ['examples', 'runbooks', 'stdlib']
	.flatMap(d => fs.readdirSync(path.join(repo, d)).filter(f => f.endsWith('.yaml')).map(f => path.join(d, f)));
bad = [];
for (const f of files) {
	const doc = YAML.parse(fs.readFileSync(path.join(repo, f), 'utf8'));
	if (!validate(doc)) bad.push(`${f}: ${errText(validate.errors)}`);
}
ok(`every shipped runbook (${files.length}) validates`, files.length >= 8 && bad.length === 0, bad.join('\n    '));

// 4. what drover refuses, the schema refuses
const base = { drover: 1, name: 'x', steps: [] };
const step = extra => ({ ...base, steps: [{ id: 's', action: 'log', with: { message: 'hi' }, ...extra }] });
const refused = {
	'timeout: 0s (drover: at least 1ms)': step({ timeout: '0s' }),
	'attempt_timeout: 0ms': step({ attempt_timeout: '0ms' }),
	'retry.attempts: 0': step({ retry: { attempts: 0 } }),
	'concurrency: 0': step({ concurrency: 0 }),
	'retry.attempts: "2" (a string)': step({ retry: { attempts: '2' } }),
	'a step without action or use': { ...base, steps: [{ id: 's' }] },
	'an unknown key': step({ retries: 3 }),
	'check.ssh without known_hosts': { ...base, steps: [{ id: 's', action: 'check.ssh', with: { host: 'h' } }] },
	'check.rdp offering an unknown protocol':
		{ ...base, steps: [{ id: 's', action: 'check.rdp', with: { host: 'h', protocols: ['ssl3'] } }] },
};
for (const [what, doc] of Object.entries(refused))
	ok(`the schema refuses ${what}`, !validate(doc));
const accepted = {
	'timeout: 1ms': step({ timeout: '1ms' }),
	'timeout: 10s': step({ timeout: '10s' }),
	'timeout: 1m30s': step({ timeout: '1m30s' }),
	'max_failures: 0 (a count)': step({ max_failures: 0 }),
	"max_failures: '10%'": step({ max_failures: '10%' }),
	'check.ssh with known_hosts: accept-new':
		{ ...base, steps: [{ id: 's', action: 'check.ssh', with: { host: 'h', known_hosts: 'accept-new' } }] },
};
for (const [what, doc] of Object.entries(accepted))
	ok(`the schema accepts ${what}`, validate(doc), errText(validate.errors));

// 5. what JSON Schema cannot say is documented
const lang = fs.readFileSync(path.join(repo, 'docs/language.md'), 'utf8');
ok('docs/language.md lists what the schema cannot check (2.0 for an integer)', /2\.0/.test(lang) && /cannot/.test(lang));

console.log(`editor-schema: ${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
