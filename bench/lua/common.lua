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

function next_seq()
  counter = counter + 1
  return prefix * 10000000 + counter
end

function set_prefix(p) prefix = p end
