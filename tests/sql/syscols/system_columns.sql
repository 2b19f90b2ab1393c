-- System columns: ctid, xmin, cmin, xmax, cmax, tableoid (selectable, not in *)
CREATE TABLE t (id int PRIMARY KEY, v text)
INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')
SELECT ctid, * FROM t ORDER BY id
SELECT t.ctid, t.tableoid::regclass, t.xmax, t.cmin, t.cmax FROM t ORDER BY id
SELECT * FROM t WHERE ctid = '(0,2)'
SELECT id FROM t WHERE ctid > '(0,1)' ORDER BY ctid DESC
SELECT xmin = xmin AS same, xmin::text::bigint > 0 AS positive FROM t WHERE id = 1
SELECT t FROM t WHERE id = 1
SELECT x.* FROM t AS x WHERE id = 1
SELECT xmin FROM t a, t b
SELECT a.xmin = b.xmin FROM t a JOIN t b USING (id) WHERE id = 1
SELECT * FROM t NATURAL JOIN t AS u ORDER BY id
SELECT s.ctid FROM (SELECT 1 AS x) s
SELECT ctid FROM (SELECT * FROM t) s
BEGIN
UPDATE t SET v = 'B' WHERE id = 2 RETURNING id, v, xmin::text::bigint = txid_current() AS by_me, xmax, cmin, cmax, tableoid::regclass
SELECT id, ctid, xmin::text::bigint = txid_current() AS by_me FROM t ORDER BY id
UPDATE t SET v = 'BB' WHERE id = 2 RETURNING cmin, cmax
SELECT id, cmin, cmax FROM t ORDER BY id
SAVEPOINT s1
INSERT INTO t VALUES (4, 'd') RETURNING xmin::text::bigint = txid_current() AS top_level, xmax, cmin, tableoid::regclass
ROLLBACK TO SAVEPOINT s1
COMMIT
SELECT id, xmin::text::bigint < txid_current() AS committed_before FROM t ORDER BY id
DELETE FROM t WHERE ctid = '(0,1)' RETURNING id, ctid
INSERT INTO t VALUES (5, 'c')
DELETE FROM t a USING t b WHERE a.v = b.v AND a.ctid < b.ctid RETURNING a.id
SELECT id, v FROM t ORDER BY id
UPDATE t SET v = 'x' WHERE xmin = xmin AND id = 5 RETURNING id, v
SELECT count(*) FROM t WHERE tableoid = 't'::regclass
CREATE TABLE bad (xmin int)
CREATE TABLE bad2 (id int, tableoid oid)
ALTER TABLE t ADD COLUMN cmax int
ALTER TABLE t RENAME COLUMN v TO ctid
CREATE VIEW tv AS SELECT id, xmin AS created_by, ctid AS row_id FROM t
SELECT id, created_by = created_by AS ok, row_id FROM tv ORDER BY id
SELECT attname, atttypid::regtype, attlen, attnum, attbyval, attalign, attnotnull, attstattarget FROM pg_attribute WHERE attrelid = 't'::regclass ORDER BY attnum
SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
CREATE TABLE m (k int, v text) PARTITION BY RANGE (k)
CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10)
CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (10) TO (20)
INSERT INTO m VALUES (1, 'a'), (15, 'b'), (2, 'c') RETURNING tableoid::regclass, k
SELECT tableoid::regclass AS part, ctid, * FROM m ORDER BY k
SELECT tableoid::regclass, count(*) FROM m GROUP BY 1 ORDER BY 1
SELECT k FROM m WHERE tableoid = 'm2'::regclass
UPDATE m SET v = v || '!' WHERE k = 15 RETURNING tableoid::regclass, v
DELETE FROM m WHERE tableoid = 'm1'::regclass AND k = 2 RETURNING k
SELECT count(*) FROM pg_attribute WHERE attrelid = 'm'::regclass AND attnum < 0
