-- detour's outbound override rule as an in-process Envoy Lua filter (envoy.filters.http.lua),
-- what Istio users write by hand; the benchmark's in-process comparison (bench/README.md).
-- Same rule as the detour server and bench/peers/go-extproc: parse x-detour
-- (`svc=ver, svc=ver, *=key`; later duplicates win, a named entry beats the wildcard, invalid
-- entries dropped, over 32 entries or 1024 bytes ignored whole), resolve the destination
-- service from :authority (port and trailing dot dropped, lower-cased), and when the topology
-- has that version set x-detour-route and clear the route cache. An incoming x-detour-route
-- is removed before routing by the listener's early header mutation, as in detour's config.
--
-- The harness replaces the line ending in `@topology` with the run's topology.
local TOPOLOGY = { pricing = { v1 = true, v2 = true } } -- @topology

local MAX_ENTRIES = 32
local MAX_VALUE_BYTES = 1024

local function valid_service(s)
  return #s <= 63 and s:find("^[a-z0-9][a-z0-9-]*$") ~= nil and s:sub(-1) ~= "-"
end

local function valid_version(s)
  return #s <= 63 and s:find("^[A-Za-z0-9][A-Za-z0-9._-]*$") ~= nil
end

-- The version the override names for `service`, or nil.
local function version_for(value, service)
  if #value > MAX_VALUE_BYTES then return nil end
  local named, wildcard
  local count = 0
  for element in value:gmatch("[^,]+") do
    element = element:match("^[ \t]*(.-)[ \t]*$")
    if element ~= "" then
      count = count + 1
      if count > MAX_ENTRIES then return nil end
      local svc, ver = element:match("^(.-)[ \t]*=[ \t]*(.*)$")
      if svc ~= nil and valid_version(ver) then
        svc = svc:lower()
        if svc == "*" then
          wildcard = ver
        elseif svc == service then
          named = ver
        end
      end
    end
  end
  return named or wildcard
end

local function service_of(authority)
  local host = authority
  if host:sub(1, 1) == "[" then
    host = host:match("^(%[.-%])") or host
  else
    host = host:match("^(.*):[^:]*$") or host
  end
  if host:sub(-1) == "." then host = host:sub(1, -2) end
  return host:lower()
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local value = headers:get("x-detour")
  if value == nil then return end
  local service = service_of(headers:get(":authority") or "")
  local versions = TOPOLOGY[service]
  if versions == nil or not valid_service(service) then return end
  local version = version_for(value, service)
  if version ~= nil and versions[version] then
    headers:replace("x-detour-route", version)
    -- Explicit, so the rule holds whatever the filter's clear_route_cache default is.
    handle:clearRouteCache()
  end
end
