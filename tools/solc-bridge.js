#!/usr/bin/env node
// solc bridge: makes the npm `solc` package (solcjs, the official compiler built to
// WebAssembly) answer like a native solc binary, so that py-solc-x / ape-solidity
// compile offline. Supports `--version` and `--standard-json` (JSON on stdin, JSON on
// stdout); `--base-path`, `--include-path` and `--allow-paths` resolve imports.
"use strict";
const fs = require("fs");
const path = require("path");

const projectRoot = process.env.TELCOCHAIN_ROOT || path.resolve(__dirname, "..");
const solc = require(require.resolve("solc", { paths: [projectRoot] }));

const args = process.argv.slice(2);
const version = solc.version().replace(".Emscripten.clang", "");

if (args.includes("--version")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${version}.Linux.g++\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("solc-bridge: only --version and --standard-json are supported\n");
  process.exit(1);
}

function optionValues(name) {
  const out = [];
  args.forEach((a, i) => {
    if (a === name && args[i + 1]) out.push(...args[i + 1].split(","));
    else if (a.startsWith(name + "=")) out.push(...a.slice(name.length + 1).split(","));
  });
  return out;
}
const roots = [...optionValues("--base-path"), ...optionValues("--include-path"), process.cwd(),
  path.join(projectRoot, "node_modules")];

function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.isAbsolute(importPath) ? importPath : path.join(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
