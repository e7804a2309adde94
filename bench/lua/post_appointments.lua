-- POST /appointments: bookings spread over the seeded patients and 50 clinicians, as a clinic's
-- traffic is; every slot start is unique (per wrk thread and request), so none overlap.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
require("common")
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local slot = 0
local patients = {}
function init(args)
  for p in string.gmatch(os.getenv("BENCH_PATIENTS"), "[^,]+") do table.insert(patients, p) end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local base = tonumber(os.getenv("BENCH_EPOCH"))
function request()
  slot = slot + 1
  local t = base + tid * 400000000 + slot * 900
  local time = os.date("!%Y-%m-%dT%H:%M:00+00:00", t)
  local patient = patients[(slot * 7 + tid) % #patients + 1]
  local clinician = "Bench Clinician " .. (slot % 50)
  local body = '{"patient":"' .. patient .. '","time":"' .. time .. '","duration":"15m","clinician":"' .. clinician .. '","department":"bench","postcode":"SW1A 1AA"}'
  return wrk.format(nil, wrk.path, nil, body)
end
