// yaml-json.mjs NPM_DIR FILE: parse a YAML file (every document) with the yaml package and print
// the documents as one JSON array; exit 1 with the parser's messages when it is not valid YAML.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const YAML = await import(pathToFileURL(resolve(process.argv[2], 'node_modules/yaml/dist/index.js')));
const docs = YAML.parseAllDocuments(readFileSync(process.argv[3], 'utf8'), { prettyErrors: true });
const errors = docs.flatMap((d) => d.errors);
if (errors.length) {
	for (const e of errors) console.error(String(e));
	process.exit(1);
}
console.log(JSON.stringify(docs.map((d) => d.toJS())));
