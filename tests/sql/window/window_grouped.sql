CREATE TABLE wg (g text, v int);
INSERT INTO wg VALUES ('a', 1), ('a', 2), ('b', 5), ('c', 3);
SELECT g, sum(v), rank() OVER (ORDER BY sum(v) DESC) FROM wg GROUP BY g ORDER BY g;
SELECT g, sum(sum(v)) OVER () FROM wg GROUP BY g ORDER BY g;
SELECT g, row_number() OVER (PARTITION BY g ORDER BY v) FROM wg GROUP BY g;
SELECT g, count(*), rank() OVER (ORDER BY count(*), g) AS r FROM wg GROUP BY g ORDER BY r DESC;
SELECT v, ntile(2) OVER (ORDER BY v), percent_rank() OVER (ORDER BY v), cume_dist() OVER (ORDER BY v) FROM wg ORDER BY v;
SELECT v, last_value(v) OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), nth_value(v, 2) OVER (ORDER BY v) FROM wg ORDER BY v;
DROP TABLE wg;
