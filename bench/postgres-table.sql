-- The PostgreSQL table of the benchmarks: bench/run.sh --postgres loads it with psql, and
-- BenchmarkPostgresReader (exporter/source/postgres_bench_test.go) with the same text, :table, :'start'
-- and :rows replaced by its own table and query parameters. 19 columns shaped like Sigma's audit log:
-- timestamptz, text, bigint and boolean columns, some NULL; :rows rows spread evenly over 30 days from
-- :'start'.
CREATE TABLE :table (
  "TIMESTAMP" timestamptz NOT NULL,
  "EVENT_ID" text NOT NULL,
  "EVENT_CATEGORY" text,
  "EVENT_TYPE" text,
  "EVENT_STATUS" text,
  "ORGANIZATION_ID" text,
  "USER_ID" text,
  "USER_EMAIL" text,
  "OBJECT_ID" text,
  "OBJECT_NAME" text,
  "OBJECT_TYPE" text,
  "REQUEST_ID" text,
  "IP_ADDRESS" text,
  "USER_AGENT" text,
  "SESSION_ID" text,
  "QUERY_ID" text,
  "QUERY_DURATION_MS" bigint,
  "ROWS_RETURNED" bigint,
  "IS_EMBED" boolean
);
INSERT INTO :table
SELECT
  :'start'::timestamptz + make_interval(secs => i * (30 * 86400.0 / :rows)),
  md5('event' || i)::uuid::text,
  cat,
  (ARRAY['Run Query', 'View Workbook', 'Login', 'Export', 'Update Permissions', 'Run Schedule'])[1 + i % 6],
  CASE WHEN i % 53 = 0 THEN 'Failure' ELSE 'Success' END,
  '5e99a2e5-213a-eef8-1614-868598e11e99',
  'U' || lpad((i % 997)::text, 21, 'x'),
  'user' || (i % 997) || '@acme-analytics.example.com',
  md5('object' || (i % 20011))::uuid::text,
  (ARRAY['Month-end close pack', 'ARR Model', 'Pipeline review', 'Churn dashboard'])[1 + i % 4] || ' ' || (i % 20011),
  (ARRAY['workbook', 'dataset', 'data-model', 'folder', 'schedule'])[1 + i % 5],
  md5('request' || i)::uuid::text,
  '203.0.113.' || (i % 251),
  (ARRAY['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
         'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
         'python-requests/2.32.3'])[1 + i % 3],
  md5('session' || (i / 40))::uuid::text,
  CASE WHEN cat = 'QUERY_EXECUTIONS' THEN md5('query' || i)::uuid::text END,
  CASE WHEN cat = 'QUERY_EXECUTIONS' THEN (i * 37) % 60000 END,
  CASE WHEN cat = 'QUERY_EXECUTIONS' THEN (i * 101) % 100000 END,
  i % 10 = 0
FROM generate_series(1, :rows) AS i,
     LATERAL (SELECT (ARRAY['QUERY_EXECUTIONS', 'QUERY_EXECUTIONS', 'OBJECT_INTERACTION', 'ACCESS_SIGMA',
                            'PUBLIC_API', 'EXPORTS', 'SCHEDULES', 'PERMISSIONS'])[1 + i % 8] AS cat) AS c;
