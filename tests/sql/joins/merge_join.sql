create table ma (id int primary key, x text)
create table mb (id int primary key, a_id int, y text)
create index on mb (a_id)
insert into ma select i, 'a' || i from generate_series(1, 200) i
insert into mb select i, (i * 7) % 250, 'b' || i from generate_series(1, 300) i
insert into mb values (1000, null, 'nul')
select ma.id, mb.id, x, y from ma join mb on mb.a_id = ma.id where ma.id > 100 and mb.a_id > 100 order by ma.id, mb.id limit 12
select count(*), sum(mb.id) from ma join mb on mb.a_id = ma.id where ma.id >= 10 and mb.a_id >= 10
select count(*) from ma left join mb on mb.a_id = ma.id and mb.id > 150 where ma.id > 150 and mb.a_id > 0
select ma.id, mb.id from ma left join mb on mb.a_id = ma.id and mb.a_id > 190 where ma.id > 195 order by ma.id, mb.id
select ma.id, mb.id from ma join mb on mb.id = ma.id where ma.id between 5 and 9 and mb.id between 1 and 7 order by ma.id
select ma.id from ma join mb on mb.id = ma.id where ma.id > 195 and mb.id > 190 and x <> y order by ma.id
