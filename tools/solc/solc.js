#!/usr/bin/env node
// solc.js: a native-solc-compatible command line over the npm `solc` package (solcjs).
//
// Why: machines without internet cannot download native solc, but the npm
// registry serves the same compiler (same version string, same bytecode) as
// WebAssembly. Its own CLI (solcjs) is not a drop-in replacement: it prints
// `>>>` lines before its JSON, rejects `--allow-paths`, and its `--version`
// output differs. This wrapper speaks the subset of native solc's CLI that
// py-solc-x, ape-solidity and crytic-compile/slither use:
//
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths A,B] [remap=target]... [input.json]
//
// Standard-JSON output on stdout is exactly one clean JSON document. Sources
// given by `urls` and every import are read from disk, resolved against the
// base path, the include paths and the working directory, after applying
// `settings.remappings` and any command-line remappings.
"use strict";

const fs = require("fs");
const path = require("path");

function loadCompiler() {
  // Resolve `solc` from this repository's node_modules first, then normally.
  const repoRoot = path.resolve(__dirname, "..", "..");
  try {
    return require(require.resolve("solc", { paths: [repoRoot] }));
  } catch (err) {
    fail(`cannot load the npm package "solc" (run \`npm ci\` in ${repoRoot}): ${err.message}`, 2);
  }
}

function fail(message, code) {
  process.stderr.write(`solc wrapper: ${message}\n`);
  process.exit(code);
}

function usage() {
  return [
    "solc, the solidity compiler commandline interface (solcjs wrapper)",
    "",
    "Usage:",
    "  solc --version",
    "  solc --standard-json [--base-path DIR] [--include-path DIR]... [--allow-paths LIST] [prefix=target]... [FILE]",
    "",
    "Standard JSON is read from FILE or standard input; the result is printed as JSON.",
    "Other native solc modes are not provided by this wrapper.",
  ].join("\n");
}

function parseArgs(argv) {
  const opts = { version: false, help: false, standardJson: false, basePath: null,
                 includePaths: [], remappings: [], inputFile: null };
  const withValue = new Set(["--base-path", "--include-path", "--allow-paths", "--output-dir"]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith("--") && arg.includes("=")) {
      value = arg.slice(arg.indexOf("=") + 1);
      arg = arg.slice(0, arg.indexOf("="));
    }
    if (withValue.has(arg) && value === null) {
      if (i + 1 >= argv.length) fail(`option ${arg} needs a value`, 1);
      value = argv[++i];
    }
    switch (arg) {
      case "--version": case "-v": opts.version = true; break;
      case "--help": case "-h": opts.help = true; break;
      case "--standard-json": opts.standardJson = true; break;
      case "--base-path": opts.basePath = path.resolve(value); break;
      case "--include-path": opts.includePaths.push(path.resolve(value)); break;
      case "--allow-paths": break; // reads are not sandboxed here; accepted for compatibility
      case "--output-dir": case "--pretty-json": case "--no-color": break;
      default:
        if (arg.startsWith("-")) fail(`unsupported option ${arg}\n${usage()}`, 1);
        if (/^[^=]*=/.test(arg) && !fs.existsSync(arg)) opts.remappings.push(arg);
        else opts.inputFile = arg;
    }
  }
  return opts;
}

function applyRemappings(importPath, remappings) {
  // Longest matching prefix wins, as in native solc (context-free remappings only).
  let best = null;
  for (const entry of remappings) {
    const body = entry.includes(":") ? entry.slice(entry.indexOf(":") + 1) : entry;
    const eq = body.indexOf("=");
    if (eq < 0) continue;
    const prefix = body.slice(0, eq);
    const target = body.slice(eq + 1);
    if (importPath.startsWith(prefix) && (best === null || prefix.length > best.prefix.length)) {
      best = { prefix, target };
    }
  }
  return best ? best.target + importPath.slice(best.prefix.length) : importPath;
}

function makeReader(opts, remappings) {
  const roots = [opts.basePath, ...opts.includePaths, process.cwd()].filter(Boolean);
  return function read(importPath) {
    const mapped = applyRemappings(importPath, remappings);
    const candidates = path.isAbsolute(mapped) ? [mapped] : roots.map((r) => path.join(r, mapped));
    for (const file of candidates) {
      try {
        if (fs.statSync(file).isFile()) return { contents: fs.readFileSync(file, "utf8") };
      } catch (_) { /* try the next root */ }
    }
    return { error: `File not found: ${importPath} (looked in ${candidates.join(", ")})` };
  };
}

function standardJson(opts) {
  let raw;
  try {
    raw = opts.inputFile ? fs.readFileSync(opts.inputFile, "utf8") : fs.readFileSync(0, "utf8");
  } catch (err) {
    fail(`cannot read standard JSON input: ${err.message}`, 1);
  }
  let input;
  try {
    input = JSON.parse(raw);
  } catch (err) {
    // Native solc answers malformed input with a JSON error document, exit 0.
    process.stdout.write(JSON.stringify({ errors: [{ type: "JSONError", component: "general",
      severity: "error", message: `Input is not valid JSON: ${err.message}`,
      formattedMessage: `JSONError: Input is not valid JSON: ${err.message}` }] }) + "\n");
    return;
  }
  const remappings = [...((input.settings && input.settings.remappings) || []), ...opts.remappings];
  const read = makeReader(opts, remappings);
  for (const [name, source] of Object.entries(input.sources || {})) {
    if (source.content === undefined && Array.isArray(source.urls)) {
      for (const url of source.urls) {
        const found = read(url);
        if (found.contents !== undefined) { source.content = found.contents; break; }
      }
      if (source.content === undefined) source.content = read(name).contents;
      delete source.urls;
    }
  }
  const solc = loadCompiler();
  // Emscripten may print to stdout; keep stdout for the single JSON document.
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => process.stderr.write(chunk, ...rest);
  let output;
  try {
    output = solc.compile(JSON.stringify(input), { import: read });
  } finally {
    process.stdout.write = realWrite;
  }
  process.stdout.write(output + "\n");
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(usage() + "\n");
    return;
  }
  if (opts.version) {
    const solc = loadCompiler();
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (opts.standardJson) {
    standardJson(opts);
    return;
  }
  fail(`nothing to do: only --version and --standard-json are supported\n${usage()}`, 1);
}

main();
