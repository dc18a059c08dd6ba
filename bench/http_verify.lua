-- wrk script: GET /api/v1/workers/{random id}/verify?operation=hot_work with a bearer token.
-- Environment: WG_TOKEN (bearer token), WG_MAX_WORKER (highest worker id).
local token = os.getenv("WG_TOKEN")
local max_worker = tonumber(os.getenv("WG_MAX_WORKER") or "1000")
local counter = 0

function setup(thread)
  thread:set("seed", counter)
  counter = counter + 1
end

function init(args)
  math.randomseed(os.time() + (seed or 0))
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  local id = math.random(1, max_worker)
  return wrk.format("GET", "/api/v1/workers/" .. id .. "/verify?operation=hot_work")
end
