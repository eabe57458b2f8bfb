// md-tables.mjs NPM_DIR FILE: parse a Markdown file with marked (a real GFM parser) and print its
// tables as JSON lines, one per table: {"header": [cell text...], "rows": [[cell text...]...]}.
// Exits 1 when a row's cell count differs from its header's (a name that broke the table).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const { marked } = await import(pathToFileURL(resolve(process.argv[2], 'node_modules/marked/lib/marked.esm.js')));
const text = (cell) => cell.tokens.map((t) => (t.type === 'codespan' ? `\`${t.text}\`` : t.raw)).join('');
let bad = 0;
marked.walkTokens(marked.lexer(readFileSync(process.argv[3], 'utf8')), (t) => {
	if (t.type !== 'table') return;
	const rows = t.rows.map((r) => r.map(text));
	bad += rows.filter((r) => r.length !== t.header.length).length;
	console.log(JSON.stringify({ header: t.header.map(text), rows }));
});
process.exit(bad ? 1 : 0);
