select * from jsonb_array_elements('[1, "two", {"three": 3}]')
select * from jsonb_array_elements_text('[1, "two", null]')
select * from json_array_elements('[1, "two"]') as e
select e.value from json_array_elements_text('["a", "b"]') e
select x from jsonb_array_elements('[1, 2]') as x
select v.value ->> 'k' from jsonb_array_elements('[{"k": "a"}, {"k": "b"}]') v order by 1
select jsonb_array_elements('[1, 2]')
