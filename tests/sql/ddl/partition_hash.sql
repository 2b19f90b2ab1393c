create table hh (a int, b text) partition by hash (a)
create table hh0 partition of hh for values with (modulus 4, remainder 0)
create table hh1 partition of hh for values with (modulus 4, remainder 1)
create table hh2 partition of hh for values with (modulus 2, remainder 1)
create table hh3 partition of hh for values with (modulus 3, remainder 2)
create table hh4 partition of hh for values with (modulus 4, remainder 4)
create table hh5 partition of hh for values with (modulus 8, remainder 0)
create table hh6 partition of hh default
create table hh7 partition of hh for values with (modulus 0, remainder 0)
create table hh8 partition of hh for values with (modulus 8, remainder 2)
create table hh9 partition of hh for values with (modulus 8, remainder 6)
create table hh10 partition of hh for values with (modulus 4, remainder 3)
insert into hh select g, 'x' from generate_series(-5, 20) g
insert into hh values (null, 'n')
select * from hh0 order by a
select * from hh1 order by a
select * from hh8 order by a
select * from hh9 order by a
select * from hh10 order by a
select count(*) from hh
select a from hh where a = 7
select a from hh where a is null
insert into hh1 values (0, 'z')
create table ht (k text, v int) partition by hash (k)
create table ht_0 partition of ht for values with (modulus 3, remainder 0)
create table ht_1 partition of ht for values with (modulus 3, remainder 1)
create table ht_2 partition of ht for values with (modulus 3, remainder 2)
insert into ht select 'key' || g, g from generate_series(1, 30) g
select count(*), sum(v) from ht_0
select count(*), sum(v) from ht_1
select v from ht where k = 'key7'
