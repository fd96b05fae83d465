// Runs the official Azure SDK for JavaScript against the emulator (issue 3).
//
//   node tests/sdk-js/run.mjs /path/to/anf-cmk-operator
//
// Starts `anf-cmk-operator emulator` on a free loopback port, reads its one JSON start-up line, then runs
// `node --test` on the *.test.mjs files here in a child node whose NODE_EXTRA_CA_CERTS is the emulator's CA
// (Node reads that variable only at start-up), with the start-up line in ANF_EMULATOR. Exits with the test
// run's code; 77 (CTest SKIP_RETURN_CODE) when `npm ci` has not been run here.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.argv[2] ?? process.env.ANF_BINARY;
if (!binary) {
  console.error("usage: node run.mjs /path/to/anf-cmk-operator");
  process.exit(2);
}
if (!existsSync(join(here, "node_modules", "@azure", "arm-netapp"))) {
  console.log(`skipped: no node_modules in ${here} (run: npm ci --no-audit --no-fund, or scripts/setup.sh)`);
  process.exit(77);
}

const work = mkdtempSync(join(tmpdir(), "anf-sdk-js-"));
const caFile = join(work, "ca.pem");
const emulator = spawn(binary, ["emulator", "--listen", "127.0.0.1:0", "--ca-out", caFile, "--lro-seconds", "1",
                                "--feature-registration-seconds", "2", "--log-level", "warn"],
                       { stdio: ["ignore", "pipe", "inherit"] });
const stopEmulator = () => {
  if (emulator.exitCode === null) emulator.kill("SIGTERM");
};
process.on("exit", () => {
  stopEmulator();
  rmSync(work, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(1));

const startLine = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("the emulator printed no start-up line within 20 s")), 20000);
  const lines = createInterface({ input: emulator.stdout });
  lines.once("line", (line) => {
    clearTimeout(timer);
    resolve(line);
  });
  emulator.once("exit", (code) => reject(new Error(`the emulator exited (${code}) before it was ready`)));
}).catch((error) => {
  console.error(error.message);
  process.exit(1);
});
const endpoints = JSON.parse(startLine);

const files = readdirSync(here).filter((name) => name.endsWith(".test.mjs")).map((name) => join(here, name));
const tests = spawn(process.execPath, ["--test", "--test-concurrency=1", ...files], {
  cwd: here,
  stdio: "inherit",
  env: { ...process.env, NODE_EXTRA_CA_CERTS: endpoints.caFile, ANF_EMULATOR: startLine },
});
const code = await new Promise((resolve) => tests.once("exit", (status, signal) => resolve(status ?? (signal ? 1 : 0))));
process.exit(code);
