create table gs (a text, b text, c int);
insert into gs values ('x', 'p', 1), ('x', 'q', 2), ('y', 'p', 3);
select a, b, sum(c), grouping(a, b) from gs group by rollup (a, b) order by a nulls last, b nulls last;
select a, b, count(*) from gs group by cube (a, b) order by 1, 2;
select a, b, sum(c) from gs group by grouping sets ((a), (b), ()) order by 1, 2;
select a, sum(c) from gs group by a, rollup (b) order by 1, 2;
select grouping(a), a from gs group by a order by a;
drop table gs;
