create table pm (id int, k int, v text) partition by range (k)
create table pm_a partition of pm for values from (0) to (10)
create index on pm (v)
create unique index on pm (id)
create unique index on pm (id, k)
create table pm2 (id int primary key, k int) partition by range (k)
create table pm3 (id int, k int, primary key (id, k)) partition by range (k)
create table pm3_a partition of pm3 for values from (0) to (10)
create table pm_b partition of pm for values from (10) to (20)
select indexname, tablename from pg_indexes where tablename like 'pm%' order by 1
insert into pm3 values (1, 1), (1, 1)
insert into pm3 values (1, 1), (2, 1)
insert into pm values (1, 1, 'a'), (1, 11, 'b')
insert into pm values (1, 1, 'c')
drop index pm_a_v_idx
drop index pm_v_idx
select indexname, tablename from pg_indexes where tablename like 'pm%' order by 1
select * from pm where v = 'b'
drop table pm, pm3
select count(*) from pg_indexes where tablename like 'pm%'
