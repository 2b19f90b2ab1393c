-- temporary tables' ON COMMIT PRESERVE ROWS / DELETE ROWS / DROP
create temp table keep_rows (id int primary key, v text) on commit preserve rows
create temp table del_rows (id int primary key, v text) on commit delete rows
create temp table gone (id int) on commit drop
select relname from pg_class where relname in ('keep_rows', 'del_rows', 'gone') order by relname
insert into keep_rows values (1, 'a')
insert into del_rows values (1, 'a')
select count(*) from keep_rows
select count(*) from del_rows
begin
insert into del_rows values (2, 'b'), (3, 'c')
select id, v from del_rows order by id
update del_rows set v = 'x' where id = 2
select id, v from del_rows where id = 2
commit
select count(*) from del_rows
insert into del_rows values (2, 'again')
begin
create temp table scratch (n int) on commit drop
insert into scratch select generate_series(1, 5)
select sum(n) from scratch
create index scratch_n on scratch (n)
commit
select relname from pg_class where relname in ('scratch', 'scratch_n')
select * from scratch
begin
create temp table scratch (n int) on commit drop
rollback
begin
create temp table scratch2 on commit drop as select 1 as one
select * from scratch2
commit
select * from scratch2
create table not_temp (a int) on commit drop
create table not_temp (a int) on commit delete rows
begin
insert into del_rows values (7, 'seven')
savepoint s
insert into del_rows values (8, 'eight')
rollback to s
select id from del_rows order by id
commit
select count(*) from del_rows
select count(*) from keep_rows
drop table keep_rows, del_rows
