-- wrk script for benchmarks/cast_votes.py: every request casts the ballot of a different voter.
-- Bodies come one per line from the file named by BODIES; thread i takes lines i, i+T, i+2T...
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("THREADS"))
  next_body = id
  created, conflicts, limited, other = 0, 0, 0, 0
end

function request()
  local body = bodies[next_body]
  next_body = next_body + nthreads
  if body == nil then
    body = bodies[1]  -- out of voters: the same voter again, answered 409
  end
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 409 then conflicts = conflicts + 1
  elseif status == 429 then limited = limited + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local c, k, l, o = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    k = k + thread:get("conflicts")
    l = l + thread:get("limited")
    o = o + thread:get("other")
  end
  io.write(string.format("STATUS created=%d conflicts=%d limited=%d other=%d\n", c, k, l, o))
  io.write(string.format("LATENCY p50_us=%d p99_us=%d\n",
    latency:percentile(50), latency:percentile(99)))
  io.write(string.format("DURATION_US %d\n", summary.duration))
end
