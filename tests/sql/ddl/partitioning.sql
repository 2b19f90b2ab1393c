create table m (id int, k int not null, note text default 'n', check (id > 0)) partition by range (k)
create table m_low partition of m for values from (minvalue) to (10)
create table m_mid partition of m for values from (10) to (20)
create table m_high partition of m for values from (20) to (maxvalue)
create table m_bad partition of m for values from (15) to (25)
create table m_empty partition of m for values from (30) to (30)
create table m_list partition of m for values in (1)
insert into m (id, k) values (1, 5), (2, 15), (3, 25), (4, -100), (5, 10)
insert into m (id, k) values (0, 5)
select * from m order by id
select * from m_mid order by id
select count(*) from m where k = 15
select id from m where k >= 20 order by id
select id from m where k < 10 order by id
insert into m_low values (6, 50)
insert into m_low values (6, 9) returning *
update m set note = 'u' where k >= 10 and k < 20
select id, note from m where note = 'u' order by id
delete from m where k = 25 returning id, k
select count(*) from m
truncate m
select count(*) from m
create table l (id int, region text) partition by list (region)
create table l_eu partition of l for values in ('de', 'fr')
create table l_us partition of l for values in ('us', null)
create table l_other partition of l default
create table l_other2 partition of l default
create table l_dup partition of l for values in ('fr')
create table l_bad partition of l for values from (1) to (2)
insert into l values (1, 'de'), (2, 'us'), (3, null), (4, 'jp'), (5, 'fr')
select id from l where region = 'fr'
select id from l where region is null
create table plainp (a int)
create table px partition of plainp for values in (1)
create table pk2 (a int, b int) partition by list (a, b)
create table pz (a int) partition by range (nosuch)
create table m_null partition of m for values from (null) to (3)
create table m_txt partition of m for values from ('x') to (3)
create table r2 (a int, b int) partition by range (a, b)
create table r2_1 partition of r2 for values from (1, 1) to (1, 10)
create table r2_2 partition of r2 for values from (1, 10) to (2, 0)
insert into r2 values (1, 5), (1, 10), (1, 20), (2, 0)
select * from r2_2 order by b
drop table l
select * from l_eu
select * from m join l_us on true
create table pu (id int, k int) partition by range (k)
create table pu_a partition of pu for values from (0) to (10)
create table pu_b partition of pu for values from (10) to (20)
create table pu_d partition of pu default
insert into pu values (1, 5), (2, 15), (3, 50)
update pu_a set k = 7 where id = 1
update pu_a set k = 12 where id = 1
update pu_d set k = 60 where id = 3
update pu_d set k = 11 where id = 3
insert into pu_d values (4, 3)
select * from pu order by id
select * from pu where k = 7
create table mm (id int, k int, note text) partition by range (k)
create table mm_a partition of mm for values from (0) to (10)
create table mm_b partition of mm for values from (10) to (20)
create table mm_d partition of mm default
insert into mm values (1, 5, 'a'), (2, 15, 'b'), (3, 50, 'c'), (4, 6, 'd')
update mm set k = k + 10 where id <= 2
update mm set k = 3, note = note || '!' where id = 3 returning *
update mm set k = k + 1 returning id, k
select id, k, note from mm order by id
select count(*) from mm_a
select count(*) from mm_b
select count(*) from mm_d
update mm set k = null where id = 4
update mm set k = -1 where id = 4
select * from mm where id = 4
