// Checks every KQL query of the documentation and the Azure Workbook with Microsoft's Kusto language
// service (@kusto/language-service-next, pinned in package-lock.json): each is parsed and analysed
// against the ingestion table and the functions that docs/ingestion.md defines. Any error fails, so
// a query that names a column the table does not have fails the test; a query made wrong on purpose
// proves the check itself can fail.
//   node check.js REPO_ROOT
"use strict";
const fs = require("fs");
const path = require("path");
require("@kusto/language-service-next/bridge.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.js");
const K = Kusto.Language;
const S = K.Symbols;

const root = process.argv[2] || path.join(__dirname, "..", "..");
const docs = ["README.md", ...fs.readdirSync(path.join(root, "docs")).filter((n) => n.endsWith(".md")).map((n) => "docs/" + n)];
const workbook = "packaging/azure/cmgdiag-workbook.json";
// what the workbook's parameters stand for when a query is checked
const params = { "{Days}": "7", "{Filter}": "LAPTOP" };

function blocks(file) {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  const out = [];
  const re = /```kusto\n([\s\S]*?)```/g;
  let m;
  while ((m = re.exec(text))) out.push({ where: file + ":" + (text.slice(0, m.index).split("\n").length + 1), text: m[1] });
  return out;
}

function errors(query, globals) {
  const d = K.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics();
  const out = [];
  for (let i = 0; i < d.Count; i++) {
    const x = d.getItem(i);
    if (x.Severity === "Error") out.push(x.Message + " (at " + x.Start + ")");
  }
  return out;
}

// The table from its .create table command, the functions from their .create-or-alter commands.
const all = docs.flatMap(blocks);
const creates = all.filter((b) => /^\.create table CmgdiagBundles \(/.test(b.text));
if (creates.length !== 1)
  throw new Error("want one '.create table CmgdiagBundles (...)' in the docs, found " + creates.map((b) => b.where));
const create = creates[0];
const schema = create.text.match(/^\.create table CmgdiagBundles (\([\s\S]*?\))/)[1].replace(/\s+/g, " ");
const table = new S.TableSymbol.$ctor7("CmgdiagBundles", schema, null);
const fnre = /^\.create-or-alter function(?: with \([^)]*\))?\s*\n?(\w+)(\([^)]*\))\s*(\{[\s\S]*\})\s*$/;
const fns = all.filter((b) => b.text.startsWith(".create-or-alter function")).map((b) => {
  const m = b.text.trim().match(fnre);
  if (!m) throw new Error(b.where + ": a function definition this check cannot read");
  return { where: b.where, name: m[1], params: m[2], body: m[3] };
});
const symbols = [table, ...fns.map((f) => new S.FunctionSymbol.$ctor16(f.name, f.params, f.body, null))];
const globals = K.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.ctor("cmgdiag", symbols));

let failed = 0, checked = 0;
function check(where, query) {
  checked++;
  const e = errors(query, globals);
  if (e.length) {
    failed++;
    console.log("FAIL " + where + ":\n  " + e.join("\n  ") + "\n" + query.replace(/^/gm, "    "));
  }
}
// each function's body, its parameters given their defaults
for (const f of fns) {
  const lets = [...f.params.matchAll(/(\w+)\s*:\s*(\w+)\s*=\s*([^,)]+)/g)].map((p) => `let ${p[1]} = ${p[2]}(${p[3].trim()});`).join("\n");
  check(f.where + " (" + f.name + ")", lets + "\n" + f.body.slice(1, -1));
}
for (const b of all.filter((b) => !b.text.startsWith("."))) check(b.where, b.text);
const wb = JSON.parse(fs.readFileSync(path.join(root, workbook), "utf8"));
for (const item of wb.items.filter((i) => i.type === 3)) {
  let q = item.content.query;
  for (const [k, v] of Object.entries(params)) q = q.split(k).join(v);
  if (/\{\w+\}/.test(q)) { failed++; console.log("FAIL " + workbook + " (" + item.name + "): unknown parameter in " + q); }
  check(workbook + " (" + item.name + ")", q);
}
// the check can fail: a column the table does not have is an error
if (!errors("CmgdiagBundles | project NoSuchColumn", globals).length) {
  failed++;
  console.log("FAIL: the language service accepted a column the table does not have");
}
if (!errors("CmgdiagLatest(7) | where Nope > 1", globals).length) {
  failed++;
  console.log("FAIL: the language service accepted a column a function does not return");
}
if (checked < 15) { failed++; console.log("FAIL: only " + checked + " queries found"); }
console.log(`kql: ${checked} queries and function bodies checked (${fns.length} functions, ` +
  `${wb.items.filter((i) => i.type === 3).length} workbook queries), ${failed} failed`);
process.exit(failed ? 1 : 0);
