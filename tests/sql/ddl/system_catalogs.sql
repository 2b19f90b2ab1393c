CREATE TABLE sc (id serial PRIMARY KEY, v text NOT NULL);
SELECT relname, relkind FROM pg_class WHERE relname LIKE 'sc%' ORDER BY relname;
SELECT 'sc'::regclass, 'sc'::regclass::oid = (SELECT oid FROM pg_class WHERE relname = 'sc');
SELECT c.relname, n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname IN ('sc', 'sc_pkey') ORDER BY 1;
SELECT o.n, p.partstrat, pg_catalog.count(i.inhparent) FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON (n.oid = c.relnamespace) CROSS JOIN LATERAL (SELECT pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)) AS o(n) LEFT JOIN pg_catalog.pg_partitioned_table AS p ON (p.partrelid = c.oid) LEFT JOIN pg_catalog.pg_inherits AS i ON (c.oid = i.inhparent) WHERE c.relname = 'sc' AND o.n IS NOT NULL GROUP BY 1, 2 ORDER BY 1 ASC LIMIT 1;
SELECT attname, attnum, attnotnull FROM pg_attribute WHERE attrelid = 'sc'::regclass AND attnum > 0 ORDER BY attnum;
DROP TABLE sc;
