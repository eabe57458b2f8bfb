// png-colors.js FILE COLOR...: decode an 8-bit RGB(A) PNG (as Chromium writes screenshots) with
// node's zlib, and print one line per COLOR (hex, e.g. 2da44e) with how many pixels have it, then
// "nonwhite N of M". Exits 1 when the file is not such a PNG.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const buf = fs.readFileSync(process.argv[2]);
if (buf.readUInt32BE(0) !== 0x89504e47) { console.log('not a PNG'); process.exit(1); }
let pos = 8, w = 0, h = 0, depth = 0, type = 0;
const idat = [];
while (pos < buf.length) {
	const len = buf.readUInt32BE(pos), kind = buf.toString('ascii', pos + 4, pos + 8);
	const data = buf.subarray(pos + 8, pos + 8 + len);
	if (kind === 'IHDR') { w = data.readUInt32BE(0); h = data.readUInt32BE(4); depth = data[8]; type = data[9]; }
	if (kind === 'IDAT') idat.push(data);
	pos += 12 + len;
}
const bpp = type === 6 ? 4 : type === 2 ? 3 : 0;
if (depth !== 8 || !bpp) { console.log(`unsupported PNG: depth ${depth} type ${type}`); process.exit(1); }
const raw = zlib.inflateSync(Buffer.concat(idat)), stride = w * bpp, img = Buffer.alloc(stride * h);
const paeth = (a, b, c) => { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c; };
for (let y = 0; y < h; y++) {
	const f = raw[y * (stride + 1)], src = y * (stride + 1) + 1, dst = y * stride;
	for (let x = 0; x < stride; x++) {
		const a = x >= bpp ? img[dst + x - bpp] : 0, b = y ? img[dst - stride + x] : 0;
		const c = x >= bpp && y ? img[dst - stride + x - bpp] : 0, v = raw[src + x];
		img[dst + x] = (f === 0 ? v : f === 1 ? v + a : f === 2 ? v + b : f === 3 ? v + ((a + b) >> 1) : v + paeth(a, b, c)) & 255;
	}
}
const want = process.argv.slice(3).map((c) => [c, parseInt(c, 16), 0]);
let nonwhite = 0;
for (let i = 0; i < img.length; i += bpp) {
	const rgb = (img[i] << 16) | (img[i + 1] << 8) | img[i + 2];
	if (rgb !== 0xffffff) nonwhite++;
	for (const e of want) if (e[1] === rgb) e[2]++;
}
for (const e of want) console.log(e[0], e[2]);
console.log('nonwhite', nonwhite, 'of', w * h);
