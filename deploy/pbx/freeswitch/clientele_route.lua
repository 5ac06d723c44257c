-- FreeSWITCH: route incoming calls by caller through Clientèle (mod_curl's `curl` API).
-- NOT RUN IN CI: FreeSWITCH is not packaged for Debian 12. Same routes and fallbacks as
-- the Kamailio recipe (deploy/pbx/kamailio/kamailio.cfg), which is tested with sipp.
--
-- Dialplan:
--   <extension name="clientele"><condition field="destination_number" expression="^(\d+)$">
--     <action application="lua" data="clientele_route.lua"/>
--   </condition></extension>
-- vars.xml:
--   <X-PRE-PROCESS cmd="set" data="clientele_url=https://clientele.example.fr"/>
--   <X-PRE-PROCESS cmd="set" data="clientele_token=<clientele token create freeswitch --scope lookup --allow <address>>"/>

local api = freeswitch.API()
local base = session:getVariable("clientele_url")
local token = session:getVariable("clientele_token")
local caller = session:getVariable("caller_id_number") or ""

local function query(route, extra)
  local number = caller:gsub("%+", "%%2B")
  -- `curl <url> json` gives {"status_code":…,"body":…}; connect-timeout and timeout in
  -- seconds bound the whole exchange (mod_curl 1.10+: `curl <url> connect-timeout 1 timeout 1`).
  local url = string.format("%s/api/%s?phoneNumber=%s&api_token=%s%s", base, route, number, token, extra)
  local out = api:execute("curl", url .. " json connect-timeout 1 timeout 1")
  local code = tonumber(out:match('"status_code":"?(%d+)')) or 0
  local body = out:match('"body":"(.-)"%s*[,}]') or ""
  return code, body
end

local queue
if caller == "" or caller:lower() == "anonymous" then
  queue = "unknown"
else
  -- details=1: {"known":…,"vip":…,"onCallDuty":…} in one request.
  local code, body = query("isKnownPhoneNumber", "&details=1")
  if code ~= 200 then
    freeswitch.consoleLog("WARNING", "Clientèle did not answer for " .. caller .. ": fallback\n")
    queue = "fallback"
  elseif body:find('\\"known\\":false') then
    queue = "unknown"
  elseif body:find('\\"vip\\":true') then
    queue = "vip"
  elseif body:find('\\"onCallDuty\\":true') then
    queue = "oncall"
  else
    queue = "known"
  end
  if queue ~= "fallback" and queue ~= "unknown" then
    local ncode, name = query("callerId", "")
    if ncode == 200 and name ~= "" then
      session:setVariable("effective_caller_id_name", name)
    end
  end
end
session:setVariable("clientele_queue", queue)
session:execute("transfer", queue .. " XML queues")
