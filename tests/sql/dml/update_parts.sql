-- UPDATE of a part of a column: an array element (a one-dimensional array grows, NULLs filling
-- the gap; a multidimensional one in its bounds) or a composite value's field
CREATE TYPE pr AS (x int, y text);
CREATE TABLE ar (id int PRIMARY KEY, a int[], m int[], p pr);
INSERT INTO ar VALUES (1, '{1,2}', '{{1,2},{3,4}}', '(1,a)'), (2, NULL, NULL, NULL);
UPDATE ar SET a[1] = 5 WHERE id = 1;
UPDATE ar SET a[4] = 9 WHERE id = 1;
UPDATE ar SET a[1] = 7, m[2][1] = 30 WHERE id = 1;
UPDATE ar SET a[1] = 3 WHERE id = 2;
UPDATE ar SET p.y = 'zz' WHERE id = 1;
UPDATE ar SET p.x = 42 WHERE id = 2;
SELECT * FROM ar ORDER BY id;
UPDATE ar SET a[1] = 'x' WHERE id = 1;
UPDATE ar SET a[NULL] = 1 WHERE id = 1;
UPDATE ar SET m[3][1] = 1 WHERE id = 1;
UPDATE ar SET a[1] = 1, a[2] = 2 WHERE id = 1;
UPDATE ar SET p.nosuch = 1;
SELECT * FROM ar ORDER BY id;
