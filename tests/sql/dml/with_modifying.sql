create table src (id int primary key, v int)
create table dst (id int primary key, v int)
insert into src select i, i * 10 from generate_series(1, 5) i
with moved as (delete from src where id <= 2 returning *) insert into dst select * from moved
select * from src order by id
select * from dst order by id
with i as (insert into src values (10, 100) returning id) select count(*) from src
with i as (insert into src values (11, 110) returning id) select * from i
select count(*) from src
with u as (update src set v = v + 1 where id = 3 returning id, v) select u.id, u.v, s.v as old from u join src s using (id)
select * from src where id = 3
with d as (delete from src where id = 4) select count(*) from src
select count(*) from src
with d as (delete from src where id = 5) select * from d
with a as (insert into dst values (20, 1) returning id), b as (insert into dst values (21, 2) returning id) select * from a union all select * from b order by 1
select * from dst order by id
with x as (insert into dst values (30, 3) returning *) select * from x, x as y
select count(*) from dst where id = 30
select * from (with z as (delete from dst returning *) select * from z) s
with z as (update dst set v = 0 where id = 1 returning *) update dst set v = 99 where id in (select id from z) returning *
select * from dst where id = 1
begin
with i as (insert into dst values (40, 4) returning *) select * from i
rollback
select count(*) from dst where id = 40
with i as (insert into dst values (1, 0) returning *) select * from i
with r (a, b) as (insert into dst values (50, 5) returning id, v) select a, b from r
