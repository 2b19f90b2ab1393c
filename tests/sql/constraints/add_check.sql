-- ALTER TABLE ... ADD CHECK checks the existing rows; NOT VALID skips them; VALIDATE CONSTRAINT checks later
create table acc (id int primary key, balance int, note text)
insert into acc values (1, 10, 'a'), (2, -5, 'b'), (3, null, 'c')
alter table acc add constraint acc_balance_positive check (balance >= 0)
alter table acc add check (balance < 1000)
select conname, convalidated, pg_get_constraintdef(oid) from pg_constraint where conrelid = 'acc'::regclass and contype = 'c' order by conname
alter table acc add constraint acc_balance_positive check (balance >= 0) not valid
select conname, convalidated, pg_get_constraintdef(oid) from pg_constraint where conrelid = 'acc'::regclass and contype = 'c' order by conname
select check_clause from information_schema.check_constraints where constraint_name = 'acc_balance_positive'
insert into acc values (4, -1, 'd')
alter table acc validate constraint acc_balance_positive
update acc set balance = 0 where balance < 0
alter table acc validate constraint acc_balance_positive
select conname, convalidated, pg_get_constraintdef(oid) from pg_constraint where conrelid = 'acc'::regclass and contype = 'c' order by conname
alter table acc validate constraint acc_balance_positive
alter table acc validate constraint no_such_constraint
alter table acc validate constraint acc_pkey
alter table acc add column limit_ int default 5 check (limit_ > 10)
alter table acc add column limit_ int default 50 check (limit_ > 10)
select id, balance, limit_ from acc order by id
alter table acc add constraint note_short check (length(note) < 2), add constraint note_present check (note is not null)
alter table acc add constraint note_long check (length(note) > 3)
begin
alter table acc add constraint note_long check (length(note) > 3) not valid
insert into acc (id, note) values (5, 'x')
rollback
create table parent (id int primary key)
insert into parent values (1)
create table child (id int, parent_id int)
insert into child values (1, 1), (2, 2)
alter table child add constraint child_parent_fk foreign key (parent_id) references parent (id) not valid
select conname, convalidated, pg_get_constraintdef(oid) from pg_constraint where conrelid = 'child'::regclass
insert into child values (3, 3)
alter table child validate constraint child_parent_fk
delete from child where parent_id = 2
alter table child validate constraint child_parent_fk
select conname, convalidated from pg_constraint where conrelid = 'child'::regclass
create table fresh (a int, constraint fresh_a check (a > 0) not valid)
select conname, convalidated from pg_constraint where conrelid = 'fresh'::regclass
drop table child, parent, fresh, acc
create table pk_nulls (a int, b int not null)
insert into pk_nulls values (null, 1), (2, 2)
alter table pk_nulls add primary key (a)
alter table pk_nulls add primary key (b)
select attname, attnotnull from pg_attribute where attrelid = 'pk_nulls'::regclass and attnum > 0 order by attnum
drop table pk_nulls
