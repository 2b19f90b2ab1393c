create table ma (id int primary key, a int, b text, c int)
create table mb (id int, x int, y text)
insert into ma values (1, 0, 'z', 0), (2, 0, 'z', 0), (3, 0, 'z', 0)
insert into mb values (1, 10, 'ten'), (2, 20, 'twenty'), (2, 21, 'dup')
update ma set (a, b) = (select x, y from mb where mb.id = ma.id) where id = 1
update ma set (a, b) = (select x, y from mb where mb.id = ma.id) where id = 3
update ma set (a, b) = (select x, y from mb where mb.id = ma.id) where id = 2
update ma set (b, a) = (select 'k', 7), c = 5 where id = 2
update ma set (a, c) = (select x from mb limit 1)
update ma set (a, c) = (1, 2, 3)
update ma set (a, c) = (100, 200) where id = 3 returning *
update ma set (a, b, c) = (select x + ma.a, y || ma.b, 9 from mb where mb.x = 20) returning *
select * from ma order by id
