// Independent reader check: DuckDB (@duckdb/node-api) reads Parquet files
// written by rulescape and prints what it sees as one JSON object:
//
//   node duckdb_check.mjs PATH_OR_GLOB [--hive] [--vector COLUMN]
//
//   {"rows": N, "columns": [{"name", "type"}], "kv": {key: value},
//    "vector": [values of COLUMN in the first row], "partitions": [...]}
//
// kv is the Parquet footer key/value metadata of the first file; with --hive
// the path is read with hive_partitioning and "partitions" lists the distinct
// (task, rule, seed) values DuckDB derived from the keys.
//
// The package is found next to this script (npm ci --prefix store/testdata)
// or in the node_modules directory named by $RULESCAPE_NODE_MODULES.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const base = process.env.RULESCAPE_NODE_MODULES
  ? path.join(process.env.RULESCAPE_NODE_MODULES, '..', 'x.js')
  : path.join(here, 'x.js');
const resolved = createRequire(base).resolve('@duckdb/node-api');
const { DuckDBInstance } = await import(pathToFileURL(resolved).href);

const args = process.argv.slice(2);
const target = args[0];
const hive = args.includes('--hive');
const vi = args.indexOf('--vector');
const vectorColumn = vi >= 0 ? args[vi + 1] : null;
if (!target) {
  console.error('usage: node duckdb_check.mjs PATH_OR_GLOB [--hive] [--vector COLUMN]');
  process.exit(2);
}

const q = (s) => "'" + s.replaceAll("'", "''") + "'";
const src = `read_parquet(${q(target)}${hive ? ', hive_partitioning = true' : ''})`;
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const all = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJson();

const out = {};
out.rows = Number((await all(`SELECT count(*)::DOUBLE AS n FROM ${src}`))[0].n);
out.columns = (await all(`DESCRIBE SELECT * FROM ${src}`)).map((r) => ({ name: r.column_name, type: r.column_type }));
const first = (await all(`SELECT file_name FROM parquet_metadata(${q(target)}) ORDER BY file_name LIMIT 1`))[0].file_name;
out.kv = {};
for (const r of await all(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${q(first)})`)) {
  if (r.k !== 'ARROW:schema') out.kv[r.k] = r.v;
}
if (vectorColumn) {
  const order = hive ? ' ORDER BY filename' : '';
  const src1 = hive ? `read_parquet(${q(target)}, hive_partitioning = true, filename = true)` : src;
  out.vector = (await all(`SELECT "${vectorColumn}" AS v FROM ${src1}${order} LIMIT 1`))[0].v;
}
if (hive) {
  out.partitions = await all(`SELECT DISTINCT task, rule, seed::VARCHAR AS seed FROM ${src} ORDER BY ALL`);
}
console.log(JSON.stringify(out));
