-- POST /patients with a new valid NHS number each time.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
require("common")
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
-- Up to 4 wrk threads per run, each with its own range of numbers.
function init(args) set_prefix(tonumber(os.getenv("BENCH_PREFIX") or "0") * 4 + tid) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  local number = nil
  while number == nil do number = nhs_number(next_seq()) end
  local body = '{"nhs_number":"' .. number .. '","name":"Bench Patient","date_of_birth":"1980-05-17","postcode":"SW1A 1AA"}'
  return wrk.format(nil, wrk.path, nil, body)
end
