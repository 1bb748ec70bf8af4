// The DuckDB side of bench/etl_format.sh: loads a loadcast CSV table into
// memory, then times writing it as one zstd Parquet file (COPY ... TO,
// FORMAT parquet), RUNS times. Prints one JSON line: the median seconds of
// the write alone, the rows and the file's bytes.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';

const [glob, out, runs = '3', threads = '2'] = process.argv.slice(2);
if (!glob || !out) {
  console.error('usage: node duckdb_parquet_write.mjs CSV_GLOB OUT.parquet [RUNS] [THREADS]');
  process.exit(2);
}
const instance = await DuckDBInstance.create(':memory:', { threads });
const connection = await instance.connect();
await connection.run(`CREATE TABLE t AS SELECT * FROM read_csv('${glob}', header = true)`);
const rows = (await connection.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0];
const times = [];
for (let i = 0; i < Number(runs); ++i) {
  fs.rmSync(out, { force: true });
  const start = process.hrtime.bigint();
  await connection.run(`COPY t TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
  times.push(Number(process.hrtime.bigint() - start) / 1e9);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ seconds: times[Math.floor(times.length / 2)], rows: Number(rows),
  bytes: fs.statSync(out).size }));
