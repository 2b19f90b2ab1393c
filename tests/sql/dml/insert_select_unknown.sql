-- INSERT ... SELECT: string literals and NULLs in a simple SELECT's list take the target
-- column's type (unknown-typed constants); through a set operation or a subquery they are text.
CREATE TABLE nt (id int, ts timestamptz, n numeric);
INSERT INTO nt SELECT 1, NULL, NULL;
INSERT INTO nt SELECT 2, '2020-01-01 00:00:00+00', '1.5';
INSERT INTO nt SELECT g, NULL, NULL FROM generate_series(3, 4) g;
INSERT INTO nt SELECT 5, NULL, NULL UNION ALL SELECT 6, NULL, NULL;
INSERT INTO nt (id, ts) SELECT 7, NULL WHERE true;
INSERT INTO nt (id, ts) SELECT 8, x FROM (SELECT NULL AS x) s;
INSERT INTO nt (id, n) SELECT 10, 'abc';
INSERT INTO nt SELECT DISTINCT 11, NULL, NULL;
SELECT id, ts, n FROM nt ORDER BY id;
