// sarif-check.js NPM_DIR FILE...: validate SARIF logs against the SARIF 2.1.0 JSON schema
// (the final OASIS schema as Microsoft's @microsoft/jest-sarif package ships it), with ajv.
// Prints each violation and exits 1 when any file is invalid.
'use strict';
const fs = require('fs');
const path = require('path');
const npm = path.resolve(process.argv[2], 'node_modules');
const Ajv = require(path.join(npm, 'ajv'));
const schema = require(path.join(npm, '@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'));
const ajv = new Ajv({ allErrors: true, jsonPointers: true, schemaId: 'auto' }); // the schema is draft-04
ajv.addMetaSchema(require(path.join(npm, 'ajv/lib/refs/json-schema-draft-04.json')));
const validate = ajv.compile(schema);
let bad = 0;
for (const file of process.argv.slice(3)) {
	const log = JSON.parse(fs.readFileSync(file, 'utf8'));
	if (log.version !== '2.1.0' || !validate(log)) {
		bad++;
		console.log(`${file}: not valid SARIF 2.1.0`);
		for (const e of validate.errors || [])
			console.log(`  ${e.dataPath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
	}
}
process.exit(bad ? 1 : 0);
