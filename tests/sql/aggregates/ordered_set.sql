create table os (g text, v numeric, f float8, d date, t text)
insert into os values ('a', 1, 1.5, '2024-01-01', 'x'), ('a', 2, 2.5, '2024-01-05', 'y'), ('a', 4, null, '2024-02-01', 'y'), ('b', 10, 10, '2023-01-01', 'z'), ('b', null, 3, null, null), ('c', null, null, null, null)
select g, percentile_cont(0.5) within group (order by v), percentile_cont(0.25) within group (order by f desc), percentile_disc(0.5) within group (order by d), mode() within group (order by t) from os group by g order by g
select percentile_cont(array[0, 0.5, 1, null]) within group (order by v), percentile_disc(array[0.1, 0.9]) within group (order by t) from os
select percentile_cont(0) within group (order by v), percentile_cont(1) within group (order by v), percentile_disc(0) within group (order by v) from os
select percentile_cont(null) within group (order by v) from os
select percentile_cont(1.5) within group (order by v) from os
select percentile_cont(-0.00001) within group (order by v) from os
select percentile_cont(0.5) from os
select percentile_cont(0.5, v) from os
select sum(v) within group (order by v) from os
select mode() within group (order by v) from os where false
select g, mode() within group (order by v desc) from os group by g order by 1
select percentile_disc(0.5) within group (order by v) filter (where g = 'a') from os
select percentile_cont(0.5) within group (order by v::float8) over () from os limit 1
select g, percentile_disc(0.5) within group (order by v) from os group by g having percentile_disc(0.5) within group (order by v) > 1 order by 1
