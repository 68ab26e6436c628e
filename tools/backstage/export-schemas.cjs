// Writes Backstage's published JSON schemas, as its npm packages ship them
// (compiled into dist/**/*.schema.json.cjs.js modules), to schemas/*.json for
// the template's Python tests. Run by `make backstage-schemas` after `npm ci`.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const SOURCES = [
  "node_modules/@backstage/catalog-model/dist/schema",
  "node_modules/@backstage/plugin-scaffolder-common/dist",
];
const OUTPUT = path.join(__dirname, "schemas");

function schemaModules(directory) {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) return schemaModules(file);
    return entry.name.endsWith(".schema.json.cjs.js") ? [file] : [];
  });
}

fs.rmSync(OUTPUT, { recursive: true, force: true });
fs.mkdirSync(OUTPUT);
for (const source of SOURCES) {
  for (const file of schemaModules(path.join(__dirname, source))) {
    const schema = require(file).default;
    const name = path.basename(file).replace(/\.cjs\.js$/, "");
    fs.writeFileSync(path.join(OUTPUT, name), JSON.stringify(schema, null, 2) + "\n");
  }
}
