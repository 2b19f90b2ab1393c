-- a table rewrite (ALTER COLUMN TYPE, ADD COLUMN with a default) keeps expression and partial
-- indexes right: their entries for the rewritten rows are the expressions' keys
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);
INSERT INTO users (email) VALUES ('A@x'), ('b@x');
CREATE UNIQUE INDEX users_email_idx ON users (lower(email));
ALTER TABLE users ALTER COLUMN email TYPE varchar(100);
SELECT id, email FROM users WHERE lower(email) = 'a@x';
INSERT INTO users (email) VALUES ('a@X');
CREATE TABLE pp (id int, flag bool, v text);
CREATE INDEX pp_part ON pp (v) WHERE flag;
INSERT INTO pp VALUES (1, true, 'a'), (2, false, 'b');
ALTER TABLE pp ADD COLUMN w int DEFAULT 5;
ALTER TABLE pp ALTER COLUMN v TYPE varchar(10);
SELECT * FROM pp WHERE flag AND v = 'a';
SELECT * FROM users WHERE lower(email) = 'b@x';
