// Reads every Parquet part of a loadcast output with two independent readers
// (DuckDB, and the pure-JavaScript hyparquet) and compares each value with
// the same cell of the CSV output of the same run:
//   node compare_parquet.mjs CSV_OUTPUT PARQUET_OUTPUT
// Prints one JSON object (per reader and table: files, rows, cells, and the
// first mismatches) and exits 1 when any value differs or a part is missing.
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import fs from 'node:fs';
import path from 'node:path';

const [csvRoot, parquetRoot] = process.argv.slice(2);
if (!csvRoot || !parquetRoot) {
  console.error('usage: node compare_parquet.mjs CSV_OUTPUT PARQUET_OUTPUT');
  process.exit(2);
}

function partFiles(dir, ext) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.startsWith('part-') && e.name.endsWith(ext)) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
function dateText(d) {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

// Whether a value read from Parquet is the CSV cell's text.
function same(text, v) {
  if (typeof v === 'bigint') return /^-?\d+$/.test(text) && BigInt(text) === v;
  if (typeof v === 'number') return text !== '' && Number(text) === v;
  if (typeof v === 'string') return text === v;
  if (v instanceof Date) return text.length === 10 ? dateText(v).slice(0, 10) === text : dateText(v) === text;
  return false;
}

async function duckdbRows(connection, file) {
  const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`);
  const names = reader.columnNames();
  // Timestamps and dates as their epoch values, turned into JS Dates here.
  const types = reader.columnTypes().map((t) => t.toString());
  const rows = reader.getRows().map((row) => row.map((v, i) => {
    if (types[i] === 'TIMESTAMP') return new Date(Number(v.micros / 1000n));
    if (types[i] === 'DATE') return new Date(v.days * 86400000);
    return v;
  }));
  return { names, rows };
}

async function hyparquetRows(file) {
  const bytes = fs.readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const names = parquetMetadata(buffer).schema.slice(1).map((e) => e.name);
  const objects = await parquetReadObjects({ file: buffer, compressors });
  return { names, rows: objects.map((o) => names.map((n) => o[n])) };
}

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const readers = { duckdb: (f) => duckdbRows(connection, f), hyparquet: hyparquetRows };
const report = { readers: {}, ok: true };
for (const [name, read] of Object.entries(readers)) {
  const tables = {};
  for (const table of ['features', 'hourly', 'daily']) {
    const t = { files: 0, rows: 0, cells: 0, mismatches: [] };
    for (const csvFile of partFiles(path.join(csvRoot, table), '.csv')) {
      const relative = path.relative(csvRoot, csvFile).replace(/\.csv$/, '.parquet');
      const parquetFile = path.join(parquetRoot, relative);
      const lines = fs.readFileSync(csvFile, 'utf8').split('\n').filter((l) => l !== '');
      const header = lines[0].split(',');
      if (!fs.existsSync(parquetFile)) {
        t.mismatches.push(`${relative}: missing`);
        continue;
      }
      const got = await read(parquetFile);
      ++t.files;
      if (got.names.join(',') !== header.join(','))
        t.mismatches.push(`${relative}: columns ${got.names.join(',')}`);
      if (got.rows.length !== lines.length - 1)
        t.mismatches.push(`${relative}: ${got.rows.length} rows, the CSV has ${lines.length - 1}`);
      for (let r = 0; r < Math.min(got.rows.length, lines.length - 1); ++r) {
        const cells = lines[r + 1].split(',');
        ++t.rows;
        for (let c = 0; c < header.length; ++c) {
          ++t.cells;
          if (!same(cells[c], got.rows[r][c]) && t.mismatches.length < 5)
            t.mismatches.push(`${relative} row ${r + 1} ${header[c]}: CSV '${cells[c]}', Parquet '${String(got.rows[r][c])}'`);
        }
      }
    }
    if (t.mismatches.length > 0 || t.files === 0) report.ok = false;
    tables[table] = t;
  }
  report.readers[name] = tables;
}
console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
