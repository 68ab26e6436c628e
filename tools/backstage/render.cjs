// Renders a scaffolder template's `${{ ... }}` expressions the way Backstage's
// scaffolder does: Nunjucks with `${{` and `}}` as its variable tags; a string
// that is one expression alone keeps the type of its value (true stays a
// boolean), and other strings render as text.
// Reads {"value": <JSON>, "context": {"parameters": {...}}} on standard input,
// writes the rendered value as JSON (null for a value that renders empty).
"use strict";

const nunjucks = require("nunjucks");

const TAGS = { variableStart: "${{", variableEnd: "}}" };
const environment = new nunjucks.Environment(null, { autoescape: false, tags: TAGS });

function isOneExpression(text) {
  const parsed = nunjucks.parser.parse(text, {}, { autoescape: false, tags: TAGS });
  return parsed.children.length === 1 && !(parsed.children[0].children?.[0] instanceof nunjucks.nodes.TemplateData);
}

function render(value, context) {
  if (Array.isArray(value)) return value.map((item) => render(item, context));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, render(item, context)]));
  }
  if (typeof value !== "string") return value;
  if (!isOneExpression(value)) return environment.renderString(value, context);
  const dumped = environment.renderString(value.replace(/\$\{\{(.+)\}\}/s, "${{ ($1) | dump }}"), context);
  return dumped === "" ? null : JSON.parse(dumped);
}

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { value, context } = JSON.parse(input);
  process.stdout.write(JSON.stringify(render(value, context)));
});
