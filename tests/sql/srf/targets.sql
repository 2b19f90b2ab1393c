-- set-returning functions nested in target-list expressions (PostgreSQL's ProjectSet)
SELECT generate_series(1,2) * 10, 'a'
SELECT 1 + generate_series(1,3)
SELECT max(x) + generate_series(1,3) FROM (VALUES (1)) v(x)
SELECT upper(unnest(ARRAY['a','b']))
SELECT generate_series(1, generate_series(1, 3))
SELECT generate_series(1,2), generate_series(1,3) * 2
SELECT generate_series(1,3) + generate_series(1,2)
SELECT generate_series(1, 2) + generate_series(1, generate_series(1, 2))
SELECT upper(unnest(ARRAY['a','b'])) || unnest(ARRAY['x','y','z'])
SELECT x * generate_series(1,2) FROM (VALUES (10),(20)) v(x)
SELECT x, generate_series(1,x) FROM (VALUES (1),(2),(3)) v(x) ORDER BY 1,2
SELECT generate_series(1, NULL::int) + 1, 'z'
SELECT NULLIF(generate_series(1,3), 2)
SELECT greatest(generate_series(1,3), 2)
SELECT generate_series(1,2)::text || 'x'
SELECT unnest(ARRAY[1,2]) IN (1, 3)
SELECT unnest(ARRAY[1,NULL,3]) IS NULL, generate_series(1,2)
SELECT (SELECT max(g) FROM (SELECT generate_series(1, x) g) s) FROM (VALUES (2),(3)) v(x)
CREATE SEQUENCE s
SELECT nextval('s'), generate_series(1,3)
-- ORDER BY, DISTINCT, GROUP BY, LIMIT around them
SELECT generate_series(1, 100000000) * 2 LIMIT 3
SELECT generate_series(1, 2000), generate_series(1, 3) OFFSET 1997
SELECT generate_series(1,3) AS g ORDER BY g DESC
SELECT generate_series(1,3) g ORDER BY generate_series(1,3) DESC
SELECT x FROM (VALUES (1)) v(x) ORDER BY generate_series(1,2) DESC
SELECT generate_series(1,2) AS a, generate_series(1,4) * 10 AS b ORDER BY b DESC LIMIT 3
SELECT DISTINCT unnest(ARRAY[3,1,3]) + 1 AS u ORDER BY u
SELECT DISTINCT generate_series(1,3) % 2 ORDER BY 1
SELECT count(*) FROM (VALUES (1)) v(x) GROUP BY generate_series(1,2)
SELECT generate_series(1,2) g, count(*) FROM (VALUES (1),(2)) v(x) GROUP BY g ORDER BY g
SELECT generate_series(1,2) * 5 AS g, sum(x) FROM (VALUES (1),(2)) v(x) GROUP BY 1 ORDER BY 1
SELECT sum(x) OVER (), generate_series(1,2) * 3 FROM (VALUES (1)) v(x)
SELECT count(*) + generate_series(1,2) FROM (VALUES (1),(2)) v(x) HAVING count(*) > 1
SELECT 1 FROM (VALUES (1)) v(x) GROUP BY ROLLUP (generate_series(1,2))
SELECT DISTINCT ON (generate_series(1,2)) 5
SELECT DISTINCT ON (x + 1) x * 10 FROM (VALUES (1),(2),(1)) v(x) ORDER BY x + 1 DESC
SELECT max(x) OVER (PARTITION BY generate_series(1,2)), generate_series(1,2) FROM (VALUES (1)) v(x)
SELECT row_number() OVER (ORDER BY generate_series(1,3) DESC), generate_series(1,3) * 2 FROM (VALUES (1)) v(x)
SELECT x, rank() OVER (PARTITION BY x ORDER BY generate_series(1,2)) FROM (VALUES (1),(2)) v(x) ORDER BY 1, 2
-- where set-returning functions are refused
SELECT CASE WHEN true THEN generate_series(1,2) END
SELECT CASE WHEN generate_series(1,2) > 1 THEN 1 END
SELECT coalesce(generate_series(1,2), 0)
SELECT 1 WHERE generate_series(1,2) > 1
SELECT x FROM (VALUES (1)) v(x) HAVING generate_series(1,2) > 0
SELECT x FROM (VALUES (1)) v(x) LIMIT generate_series(1,2)
SELECT sum(generate_series(1,3))
SELECT sum(x) FILTER (WHERE generate_series(1,2) > 0) FROM (VALUES (1)) v(x)
SELECT sum(1) OVER (), sum(generate_series(1,2)) OVER ()
SELECT max(x) OVER (ORDER BY x ROWS generate_series(1,2) PRECEDING) FROM (VALUES (1)) v(x)
SELECT (generate_series(1,2) > 0) AND true
SELECT NOT (generate_series(1,2) > 1)
SELECT (generate_series(1,2) > 0) IS TRUE
SELECT * FROM generate_series(1, generate_series(1,2))
SELECT (SELECT generate_series(1,2))
VALUES (1), (2) ORDER BY generate_series(1,2)
SELECT 1 UNION SELECT 2 ORDER BY generate_series(1,2)
SELECT 1 AS a UNION SELECT 2 ORDER BY a + 1
SELECT 1 AS a UNION SELECT 2 ORDER BY a DESC
VALUES (generate_series(1,2)), (3)
CREATE TABLE t (a int)
INSERT INTO t VALUES (1)
SELECT * FROM t a JOIN t b ON generate_series(1,2) = 1
UPDATE t SET a = generate_series(1,2)
DELETE FROM t RETURNING generate_series(1,2)
INSERT INTO t SELECT generate_series(7,8) * 2
SELECT a, generate_series(a, a + 1) FROM t ORDER BY 1, 2
-- in subqueries, joins, LATERAL and WITH (quals must not be pushed below the expansion)
SELECT * FROM (SELECT generate_series(1,3) * 2 AS g) s WHERE g > 2
SELECT * FROM (SELECT generate_series(1,3) AS g, 'k' AS k) s WHERE g > 1
SELECT * FROM (SELECT x, x + generate_series(1,2) AS g FROM (VALUES (1),(5)) v(x)) s WHERE g > 2 AND x < 5
SELECT s.g, t.y FROM (SELECT generate_series(1,3) * 2 AS g) s JOIN (VALUES (4, 'four'), (6, 'six')) t(y, n) ON s.g = t.y ORDER BY 1
SELECT count(*) FROM (SELECT generate_series(1, generate_series(1, 4))) s
SELECT l.* FROM (VALUES (2),(3)) v(x), LATERAL (SELECT x * generate_series(1, x) AS m) l ORDER BY 1
WITH c AS (SELECT unnest(ARRAY[1,2,3]) + 10 AS u) SELECT sum(u) FROM c
-- a single VALUES row of INSERT may call them; several rows may not
CREATE TABLE ins (a int, b int8)
INSERT INTO ins (a, b) VALUES (generate_series(1,3), 7)
INSERT INTO ins (a, b) VALUES (4, generate_series(1,2) * 10)
INSERT INTO ins (a) VALUES (generate_series(1,2)), (9)
SELECT * FROM ins ORDER BY a, b
CREATE TABLE g1 (a int, b int GENERATED ALWAYS AS (generate_series(1,a)) STORED)
CREATE INDEX ON t ((generate_series(1,a)))
