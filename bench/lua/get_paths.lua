-- GET one of a list of paths (BENCH_PATHS, comma-separated), round robin.
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
require("common")
local paths = {}
local i = 0
function init(args)
  for p in string.gmatch(os.getenv("BENCH_PATHS"), "[^,]+") do table.insert(paths, p) end
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
