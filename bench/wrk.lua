-- One wrk script for every run; the request comes from the environment:
--   BENCH_METHOD  GET (default) or POST
--   BENCH_BODY    JSON request body (sent with Content-Type: application/json), none by default
--   BENCH_TOKEN   access JWT for "Authorization: Bearer ...", none by default
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
local token = os.getenv("BENCH_TOKEN") or ""

wrk.method = method
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
