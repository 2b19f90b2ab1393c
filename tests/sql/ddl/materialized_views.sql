create table base (id int primary key, g int, v int)
insert into base select i, i % 3, i * 10 from generate_series(1, 9) i
create materialized view mv as select g, sum(v) as total, count(*) from base group by g
select * from mv order by g
create materialized view mv_empty (grp, n) as select g, count(*) from base group by g with no data
select * from mv_empty
refresh materialized view concurrently mv_empty
refresh materialized view mv_empty
select * from mv_empty order by grp
insert into base values (10, 0, 1000)
select * from mv order by g
refresh materialized view mv
select * from mv order by g
refresh materialized view concurrently mv
create unique index mv_g on mv (g)
refresh materialized view concurrently mv
select total from mv where g = 0
refresh materialized view concurrently mv with no data
refresh materialized view mv with no data
select * from mv
refresh materialized view base
refresh materialized view nosuch
insert into mv values (5, 5, 5)
update mv set total = 0
delete from mv
drop table mv
drop view mv
drop materialized view base
create view over_mv as select grp from mv_empty
drop materialized view mv_empty
drop materialized view mv_empty cascade
drop materialized view if exists nosuch
drop materialized view mv
create materialized view mv2 as select * from base where id < 3
create materialized view mv2 as select 1
create materialized view if not exists mv2 as select 1
drop table base
begin
create materialized view mv3 as select 1 as one
rollback
select * from mv3
select * from mv2 order by id
create materialized view mv4 as select id, v from base where v > 50 with data
select count(*) from mv4
begin
delete from base where id > 8
refresh materialized view mv4
select count(*) from mv4
rollback
select count(*) from mv4
create materialized view mv5 (a, b, c) as select 1, 2
create table cta as select 1 as x with no data
select * from cta
create materialized view mv6 as select id from base with no data
drop table base cascade
select * from mv6
