create table g (a int, b int generated always as (a * 2) stored, c text generated always as ('x' || a) stored)
insert into g (a) values (1), (2)
insert into g values (3)
insert into g values (3, 4)
insert into g (a, b) values (3, 4)
insert into g (a, b) values (5, default)
insert into g values (6, default, default)
update g set b = 1
update g set b = default where a = 1
update g set a = a + 10 where a = 2
select * from g order by a
create table g2 (a int, b int generated always as (a * 2) stored default 1)
create table g3 (a int, b int generated always as (b * 2) stored)
create table g4 (a int, b int generated always as (c * 2) stored, c int generated always as (a) stored)
create table g5 (a int, b int generated always as (random()) stored)
create table g6 (a int, b int generated always as (count(a)) stored)
create table g7 (a int generated always as (1) stored primary key, b int check (b > 0), c int generated always as (b - 10) stored check (c > 0))
insert into g7 (b) values (11)
insert into g7 (b) values (5)
select * from g7
insert into g (a) values (1) returning *
copy g (a, b) from stdin
update g set a = 100 where a = 1 returning *
insert into g (a) select x from generate_series(20, 21) x returning b, c
insert into g (a, b) select 1, 2
create table g8 (id serial, d int generated always as (id * 10) stored)
insert into g8 default values
insert into g8 default values
select * from g8
create table g9 (a int primary key, b int generated always as (a + 1) stored)
insert into g9 values (1) on conflict (a) do update set a = 5
insert into g9 values (1) on conflict (a) do update set a = 5
select * from g9
create table g10 (a int, b int generated always as (a) stored generated always as identity)
