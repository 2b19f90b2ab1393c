create table am (id int, k int) partition by range (k)
create index on am (id)
create table am_a (id int, k int)
insert into am_a values (1, 50)
alter table am attach partition am_a for values from (0) to (10)
delete from am_a
insert into am_a values (2, 5)
alter table am attach partition am_a for values from (0) to (10)
create table am_b (id int, x int)
alter table am attach partition am_b for values from (10) to (20)
create table am_c (id int, k int)
create index am_c_id on am_c (id)
alter table am attach partition am_c for values from (5) to (20)
alter table am attach partition am_c for values from (10) to (20)
alter table am attach partition am_a for values from (30) to (40)
select indexname from pg_indexes where tablename like 'am%' order by 1
insert into am values (3, 15)
select * from am order by id
select * from am where id = 3
alter table am detach partition am_a
alter table am detach partition am_a
select * from am order by id
select * from am_a
drop index am_c_id
drop table am
select * from am_c
