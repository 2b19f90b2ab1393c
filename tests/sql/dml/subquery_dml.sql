create table s1 (id int primary key, v int);
create table s2 (id int, w int);
insert into s1 values (1, 0), (2, 0);
insert into s2 values (1, 10), (1, 5), (2, 7);
update s1 set v = (select sum(w) from s2 where s2.id = s1.id) returning id, v, (select count(*) from s2 where s2.id = s1.id) as n;
insert into s1 values (3, (select max(w) from s2)) returning (select min(w) from s2);
delete from s1 where id = 3 returning (select count(*) from s1) as before;
drop table s1, s2;
