create table u (id int primary key, email text, active bool, n int)
insert into u values (1, 'A@x', true, 1), (2, 'b@x', true, 2), (3, 'a@X', false, 3)
create unique index u_email_lower on u (lower(email))
create unique index u_email_active on u (lower(email)) where active
create index on u ((n * 2))
create index on u (lower(email), id)
create index on u (id) where n > 1
insert into u values (4, 'B@X', true, 4)
insert into u values (4, 'B@X', false, 4)
insert into u values (5, 'c@x', true, 5)
insert into u values (6, 'C@X', false, 6)
update u set active = true where id = 6
select * from u where lower(email) = 'a@x' and active
select * from u where lower(email) = 'c@x' order by id
select id from u where n * 2 = 4
select id from u where n * 2 > 4 order by id
update u set email = 'z@x' where lower(email) = 'b@x'
select * from u where lower(email) = 'b@x'
select * from u where lower(email) = 'z@x'
delete from u where lower(email) = 'z@x'
select count(*) from u where lower(email) = 'z@x'
create index on u (random())
create index on u (now())
create index on u (id) where now() > '2000-01-01'
create index on u (count(id))
create index on u ((select 1))
create index on u (nosuch)
create index on u (lower(nosuch))
create index on u (id) where n
create unique index on u (n) where id > 100
insert into u values (101, 'q', true, 1), (102, 'r', true, 1)
insert into u values (101, 'q', true, 1), (102, 'r', true, 2)
select id, email from u order by id
create table v2 (a text)
insert into v2 values ('x'), ('X')
create unique index v2_up on v2 (upper(a))
create unique index on v2 ((a || 'y'))
create unique index on v2 (a) where a > 'a'
insert into v2 values ('x')
drop index v2_a_idx
insert into v2 values ('x')
insert into u values (7, 'a@x', true, 7) on conflict do nothing
select count(*) from u where id = 7
create table pimp (id int primary key, n int, s text)
insert into pimp select g, g, 'x' || g from generate_series(1, 50) g
create index pi_big on pimp (id) where n > 10
create index pi_s on pimp (s) where n is not null
select s from pimp where id = 20 and n = 20
select s from pimp where id > 45 and n >= 11 order by 1
select s from pimp where id > 45 and n > 5 order by 1
select id from pimp where s = 'x5' and n < 100
update pimp set n = null where id = 5
select id from pimp where s = 'x5' and n < 100
select id from pimp where s = 'x5'
create table oc (id int primary key, email text, n int)
create unique index oc_lower on oc (lower(email))
create unique index oc_n_pos on oc (n) where n > 0
insert into oc values (1, 'A@x', 1)
insert into oc values (2, 'a@X', 2) on conflict (lower(email)) do update set n = excluded.n returning *
insert into oc values (3, 'b@x', 1) on conflict (n) where n > 0 do update set email = excluded.email returning *
insert into oc values (4, 'c@x', 1) on conflict (n) do nothing
insert into oc values (5, 'c@x', -1) on conflict do nothing
insert into oc values (6, 'C@X', -1) on conflict do nothing returning *
select * from oc order by id
create table oc2 (code varchar(10) primary key, n int)
insert into oc2 values ('a', 1) on conflict (code) do update set n = oc2.n + 1 returning *
insert into oc2 values ('a', 1) on conflict (code) do update set n = oc2.n + 1 returning *
insert into oc2 values ('a', 1) on conflict (n) do nothing
