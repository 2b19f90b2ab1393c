-- SELECT ... FOR UPDATE / SHARE over joins, partitioned tables, subqueries and views (one session)
CREATE TABLE a (id int PRIMARY KEY, v text)
CREATE TABLE b (id int PRIMARY KEY, a_id int, w text)
INSERT INTO a VALUES (1,'x'),(2,'y')
INSERT INTO b VALUES (10,1,'p'),(11,2,'q'),(12,1,'r')
SELECT a.id, b.id FROM a JOIN b ON b.a_id = a.id ORDER BY b.id FOR UPDATE
SELECT a.id, b.id FROM a, b WHERE b.a_id = a.id AND b.w = 'q' FOR SHARE OF b
SELECT a.id, b.w FROM a LEFT JOIN b ON b.a_id = a.id FOR UPDATE
SELECT a.id, b.w FROM a LEFT JOIN b ON b.a_id = a.id ORDER BY b.w FOR UPDATE OF a
SELECT a.id FROM a JOIN b ON b.a_id = a.id FOR UPDATE OF c
SELECT 1 FROM a FOR KEY SHARE OF a, a
SELECT a.id FROM a, (SELECT 1 AS x) s ORDER BY a.id FOR UPDATE
SELECT a.id FROM a, (SELECT 1 AS x) s ORDER BY a.id FOR NO KEY UPDATE OF a SKIP LOCKED
SELECT count(*) FROM a JOIN b ON true FOR UPDATE
CREATE TABLE m (k int, v int) PARTITION BY LIST (k)
CREATE TABLE m1 PARTITION OF m FOR VALUES IN (1)
CREATE TABLE m2 PARTITION OF m FOR VALUES IN (2)
INSERT INTO m VALUES (1, 10), (2, 20)
SELECT * FROM m ORDER BY k FOR UPDATE
SELECT m.k, a.v FROM m JOIN a ON a.id = m.k WHERE m.v = 20 FOR UPDATE OF m NOWAIT
SELECT * FROM a FULL JOIN b ON false FOR UPDATE OF b
SELECT s.id FROM (SELECT id FROM a WHERE id > 0) s ORDER BY s.id FOR UPDATE
SELECT s.id, b.id FROM (SELECT id FROM a) s JOIN b ON b.a_id = s.id WHERE b.id = 10 FOR UPDATE OF s
CREATE VIEW av AS SELECT id, v FROM a
SELECT * FROM av WHERE id = 1 FOR SHARE
SELECT * FROM av JOIN b ON b.a_id = av.id WHERE b.id = 11 FOR UPDATE OF av NOWAIT
SELECT x FROM generate_series(1,2) x, a WHERE a.id = x ORDER BY x FOR UPDATE
SELECT x FROM generate_series(1,2) x, a WHERE a.id = x FOR UPDATE OF x
SELECT * FROM (SELECT count(*) FROM a) s FOR UPDATE
WITH c AS (SELECT * FROM a) SELECT * FROM c, b WHERE b.a_id = c.id AND b.id = 10 FOR UPDATE
WITH c AS (SELECT * FROM a) SELECT * FROM c, b WHERE b.a_id = c.id AND b.id = 10 FOR UPDATE OF c
SELECT * FROM (SELECT id FROM a UNION SELECT id FROM b) u FOR UPDATE
SELECT * FROM (VALUES (1)) v(x) FOR UPDATE
SELECT * FROM (VALUES (1)) v(x) FOR UPDATE OF v
SELECT * FROM (SELECT 1) s FOR UPDATE
SELECT a.id, (SELECT max(id) FROM b) FROM a ORDER BY 1 FOR UPDATE
SELECT a.id, (SELECT max(b2.id) FROM b b2 WHERE b2.a_id = a.id) AS m FROM a JOIN b ON b.a_id = a.id ORDER BY b.id FOR UPDATE
SELECT a.id FROM a JOIN b ON b.a_id = a.id WHERE EXISTS (SELECT 1 FROM b b3 WHERE b3.id = b.id) ORDER BY b.id FOR SHARE
