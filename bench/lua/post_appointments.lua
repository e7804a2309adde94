-- POST /appointments: one seeded patient and clinician per wrk thread, consecutive 15-minute
-- slots from a start far in the future, so no two bookings overlap.
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
  local body = '{"patient":"' .. patients[tid] .. '","time":"' .. time .. '","duration":"15m","clinician":"Bench Clinician ' .. tid .. '","department":"bench","postcode":"SW1A 1AA"}'
  return wrk.format(nil, wrk.path, nil, body)
end
