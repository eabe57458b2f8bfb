// Every `$ drover ...` command in docs/tutorial.md, run in order from a fresh copy of examples/ (the tutorial
// says: "Every command below was run from the root of a fresh clone, and every output is what it printed"),
// must print what the page shows. A line "..." (indented or not) in the page stands for any lines.
//
//   node tests/check-doc-tutorial.mjs DROVER    ends with "tutorial: N commands, M differ"
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const drover = resolve(process.argv[2]);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const work = mkdtempSync(join(dirname(drover), "tutorial."));
cpSync(join(root, "examples"), join(work, "examples"), { recursive: true });
const env = { ...process.env, NO_COLOR: "1", DROVER_STDLIB: join(root, "stdlib") };
for (const v of ["DROVER_STATE_DIR", "DROVER_SIM_STATE", "DROVER_SIM_FAULTS", "DROVER_CLOCK", "DROVER_TEST_SIGNAL_AT"])
	delete env[v];

// The page's console blocks as [command, expected lines] in order.
function commands(md) {
	const out = [];
	for (const block of md.matchAll(/^```\n([\s\S]*?)^```$/gm)) {
		let cur = null;
		for (const line of block[1].replace(/\n$/, "").split("\n")) {
			if (line.startsWith("$ ")) out.push((cur = [line.slice(2), []]));
			else if (cur) cur[1].push(line);
		}
	}
	return out;
}

// Whether got (lines) is expected, where a "..." line matches any lines.
function matches(expected, got, i = 0, j = 0) {
	if (i === expected.length) return j === got.length;
	if (expected[i].trim() === "...") {
		for (let k = j; k <= got.length; k++) if (matches(expected, got, i + 1, k)) return true;
		return false;
	}
	return j < got.length && expected[i] === got[j] && matches(expected, got, i + 1, j + 1);
}

let n = 0, bad = 0;
for (const [command, expected] of commands(readFileSync(join(root, "docs/tutorial.md"), "utf8"))) {
	const argv = command.split(/\s+/);
	if (argv[0] !== "drover" || /["'\\$|;&<>]/.test(command)) {
		console.log(`tutorial: cannot run '${command}' as argv (drover, words): write it plainly`);
		bad++;
		continue;
	}
	const p = spawnSync(drover, argv.slice(1), { cwd: work, env, encoding: "utf8" });
	const got = (p.stdout + p.stderr).replace(/\n+$/, "").split("\n");
	n++;
	if (!matches(expected, got)) {
		bad++;
		console.log(`FAIL tutorial: '${command}' (exit ${p.status}) prints, where the page shows something else:`);
		for (const l of got.slice(0, 40)) console.log(`    ${l}`);
	}
}
rmSync(work, { recursive: true, force: true });
console.log(`tutorial: ${n} commands, ${bad} differ`);
process.exit(bad || n < 10 ? 1 : 0);
