// The DuckDB side of bench/ingest_vs_duckdb.sh: read_csv with explicit column
// types, then GROUP BY server and five-minute bucket with the same sums as
// loadcast's ingest, on one thread. Prints one JSON line.
import { DuckDBInstance } from '@duckdb/node-api';

const [glob, threads = '1', layout = 'sessions17'] = process.argv.slice(2);
if (!glob) {
  console.error('usage: node duckdb_ingest.mjs GLOB [THREADS] [sessions17|sessions16]');
  process.exit(2);
}

const used = {
  SessionStart: 'TIMESTAMP', MbytesTransferred: 'DOUBLE', SubService_1_Load: 'DOUBLE',
  SubService_2_Load: 'DOUBLE', SubService_3_Load: 'DOUBLE', SubService_4_Load: 'DOUBLE',
  SubService_5_Load: 'DOUBLE', SecureBytes_Load: 'DOUBLE', TotalLoad: 'DOUBLE', ServerIP: 'VARCHAR',
};
const order17 = ['TrafficType', 'SessionStart', 'SessionEnd', 'ConcurrentConnectionCounts',
  'MbytesTransferred', 'ServiceGrade', 'HTTP1', 'ServerType', 'SubService_1_Load',
  'SubService_2_Load', 'SubService_3_Load', 'SubService_4_Load', 'SubService_5_Load',
  'SecureBytes_Load', 'TotalLoad', 'ServerIP', 'ClientIP'];
const order = layout === 'sessions16'
  ? [...order17.slice(1, 14), 'TotalLoad', 'ClientIP', 'ServerIP'].filter((c, i, a) => a.indexOf(c) === i)
  : order17;
const columns = '{' + order.map((c) => `'${c}': '${used[c] ?? 'VARCHAR'}'`).join(', ') + '}';

const instance = await DuckDBInstance.create(':memory:', { threads });
const connection = await instance.connect();
const sums = ['TotalLoad', 'MbytesTransferred', 'SubService_1_Load', 'SubService_2_Load',
  'SubService_3_Load', 'SubService_4_Load', 'SubService_5_Load', 'SecureBytes_Load']
  .map((c) => `sum(${c}) AS s_${c}`).join(', ');
const sql = `
  SELECT count(*) AS groups, sum(sessions) AS sessions FROM (
    SELECT ServerIP, epoch(SessionStart)::BIGINT // 300 AS bucket, ${sums}, count(*) AS sessions
    FROM read_csv('${glob}', header = false, delim = ',', quote = '"', auto_detect = false,
                  columns = ${columns}, ignore_errors = true, null_padding = false)
    WHERE SessionStart BETWEEN TIMESTAMP '2016-06-01 00:00:00' AND TIMESTAMP '2016-06-30 23:59:59'
    GROUP BY ALL)`;
const start = performance.now();
const reader = await connection.runAndReadAll(sql);
const seconds = (performance.now() - start) / 1000;
const [groups, sessions] = reader.getRows()[0];
console.log(JSON.stringify({ seconds, groups: Number(groups), sessions: Number(sessions) }));
