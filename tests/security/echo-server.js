// A loopback HTTP service for tests/security/run.sh: it answers every request with what it was
// sent (method, URL, headers, body) and those as base64 and URL-encoded, so a secret drover sends
// comes back in every form a response can carry it. /fail/... answers 500 with the same body.
// Usage: node echo-server.js PORTFILE LOGFILE  (listens on an ephemeral port, written to PORTFILE;
// every request is appended to LOGFILE: the proof the service got the real values)
'use strict';
const http = require('http');
const fs = require('fs');
const [portFile, logFile] = process.argv.slice(2);
const server = http.createServer((req, res) => {
	let body = '';
	req.on('data', (c) => { body += c; });
	req.on('end', () => {
		const seen = `${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n${body}`;
		fs.appendFileSync(logFile, seen + '\n');
		const echo = JSON.stringify({
			seen,
			base64: Buffer.from(seen).toString('base64'),
			url: encodeURIComponent(seen),
			auth: req.headers.authorization || '',
		});
		res.writeHead(req.url.startsWith('/fail') ? 500 : 200, { 'Content-Type': 'application/json' });
		res.end(echo);
	});
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
