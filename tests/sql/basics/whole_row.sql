select row_to_json(row(1,'a'))
select to_jsonb(row(1,'a'))
create table t (id int, name text)
insert into t values (1,'x')
select row_to_json(t) from t
select t.*::text from t
select count(*) from t where t is not null
select to_json(t) from t
select t::text from t
select t from t
select t, t.id from t order by t.id
select row_to_json(x) from (select 1 as a, 'q' as b) x
select to_jsonb(t) from t
select row_to_json(row(1, row(2, 'z')))
select (select row_to_json(t) from t where t.id = o.id) from t o
select count(*) from t where t is null
select t.*::text from t
select row(1, 'a b', null)
select u from t as u
