create table src (id serial primary key, name text not null default 'n', v int check (v > 0), w int generated always as (v * 2) stored, code text unique)
create index src_v_idx on src (v)
create table l1 (like src)
insert into l1 (id, name, v, w) values (1, 'a', -1, 5)
select * from l1
create table l2 (like src including defaults including constraints, extra int)
insert into l2 (id, v) values (1, 5)
insert into l2 (id, v) values (2, -5)
select * from l2
create table l3 (a int, like src including all)
insert into l3 (id, v, code) values (1, 3, 'x')
insert into l3 (id, v, code) values (1, 4, 'y')
insert into l3 (id, v, code) values (2, 4, 'x')
insert into l3 (id, v, w) values (3, 4, 5)
select * from l3
select indexname from pg_indexes where tablename = 'l3' order by 1
create table l4 (like nosuch)
create table l5 (id int, like src)
select * from src
create table ex (a text, b int)
create unique index on ex (lower(a)) where b > 0
create index on ex ((b + 1))
create table ex2 (like ex including indexes)
insert into ex2 values ('A', 1)
insert into ex2 values ('a', 2)
insert into ex2 values ('a', -2)
select * from ex2 order by b
