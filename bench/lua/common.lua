-- Shared by the wrk scripts: valid NHS numbers, unique per wrk thread.
local counter = 0
local prefix = 0

function nhs_number(seq)
  local base = string.format("%09d", seq)
  local sum = 0
  for i = 1, 9 do sum = sum + tonumber(base:sub(i, i)) * (11 - i) end
  local check = 11 - (sum % 11)
  if check == 11 then check = 0 end
  if check == 10 then return nil end
  return base .. tostring(check)
end

-- A million numbers per (run, thread) below the 900,000,000 the seeded patients start at.
function next_seq()
  counter = counter + 1
  return (prefix * 1000000 + counter) % 900000000
end

function set_prefix(p) prefix = p end

-- With BENCH_AUTH set (e.g. "Bearer panda_..."), every request carries it (PANDA with AUTH_MODE=on).
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
