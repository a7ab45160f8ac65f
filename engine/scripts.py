"""Lua scripts: atomic, single-slot operations on one job's keys.

Every script touches only keys of one job (they share the hash tag `{job:<id>}`),
so each runs on Redis Cluster too; global indexes are never written here.

Running them server-side turns thousands of state changes into one round trip
(the flush) and makes compare-and-set transitions (confirm, status changes)
safe against concurrent callers and stale workers (fencing).
"""

from __future__ import annotations

# KEYS: cells values attempts counts events meta ledger fence
# ARGV: fence maxlen batch, then sections each led by its item count:
#   cells (field,value)*, values (field,value)*, attempts (field,value)*,
#   counts (field,value)*, meta (field,value)*, events json*, ledger json*
# `batch` ('' for none) names the batch: a retried batch that already landed
# (its reply was lost) is not applied twice (meta.flush_batch holds the last one).
# A journal names its batches `<journal>:1`, `:2`, ...: batch n > 1 lands only on top
# of batch n - 1, else Redis lost writes it had acknowledged (restarted from an AOF
# short of them: the fsync window) and the writer's memory is ahead of it ('lost',
# counted in meta.lost_batches): the writer stops, and the job resumes from Redis.
# Returns {last event id or '', 'ok'|'fenced'|'lost'}; a fenced batch is counted in
# meta.fenced_writes (operators and tests see stale writers refused).
FLUSH = r"""
local fence = ARGV[1]
if fence ~= '' then
  local cur = redis.call('GET', KEYS[8])
  if cur ~= fence then
    if redis.call('EXISTS', KEYS[6]) == 1 then
      redis.call('HINCRBY', KEYS[6], 'fenced_writes', 1)
    end
    return {'', 'fenced'}
  end
end
local batch = ARGV[3]
if batch ~= '' then
  local last_batch = redis.call('HGET', KEYS[6], 'flush_batch')
  if last_batch == batch then
    return {'', 'ok'}
  end
  local writer, seq = string.match(batch, '^(.*):(%d+)$')
  if seq and tonumber(seq) > 1 and last_batch ~= writer .. ':' .. (tonumber(seq) - 1) then
    if redis.call('EXISTS', KEYS[6]) ~= 0 then  -- a job that is gone stays gone
      redis.call('HINCRBY', KEYS[6], 'lost_batches', 1)
    end
    return {'', 'lost'}
  end
  redis.call('HSET', KEYS[6], 'flush_batch', batch)
end
local maxlen = ARGV[2]
local i = 4
local function hset_section(key)
  local n = tonumber(ARGV[i]); i = i + 1
  local j = 0
  while j < n do
    local stop = math.min(n, j + 500)
    local args = {}
    for k = j, stop - 1 do
      args[#args + 1] = ARGV[i + 2 * k]
      args[#args + 1] = ARGV[i + 2 * k + 1]
    end
    redis.call('HSET', key, unpack(args))
    j = stop
  end
  i = i + 2 * n
end
hset_section(KEYS[1])
hset_section(KEYS[2])
hset_section(KEYS[3])
hset_section(KEYS[4])
hset_section(KEYS[6])
local last = ''
local n = tonumber(ARGV[i]); i = i + 1
for k = 0, n - 1 do
  last = redis.call('XADD', KEYS[5], 'MAXLEN', '~', maxlen, '*', 'e', ARGV[i + k])
end
i = i + n
n = tonumber(ARGV[i]); i = i + 1
for k = 0, n - 1 do
  redis.call('RPUSH', KEYS[7], ARGV[i + k])
end
return {last, 'ok'}
"""

# KEYS: meta events ; ARGV: new_status now maxlen event_json n_expected expected* n_fields (f,v)*
# Returns {'ok', old} or {'no', current}
CAS_STATUS = r"""
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {'missing', ''} end
local n = tonumber(ARGV[5])
local ok = false
for k = 1, n do
  if ARGV[5 + k] == cur then ok = true end
end
if not ok then return {'no', cur} end
local i = 6 + n
local m = tonumber(ARGV[i]); i = i + 1
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[2])
for k = 0, m - 1 do
  redis.call('HSET', KEYS[1], ARGV[i + 2 * k], ARGV[i + 2 * k + 1])
end
if ARGV[4] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[4])
  -- the stream may be new: it expires with the job (an unconfirmed plan's TTL)
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
end
return {'ok', cur}
"""

# KEYS: meta events inputs, then every other key of the job (one hash slot)
# ARGV: digest now maxlen event_json
# An expired plan loses its inputs (secrets); a confirmed one stops expiring.
# The global indexes (active set, the target's queue) live in other slots on a
# cluster: Store.confirm updates them around this script (see there).
CONFIRM = r"""
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {'missing', ''} end
if cur ~= 'AWAITING_CONFIRMATION' then return {'wrong_state', cur} end
local digest = redis.call('HGET', KEYS[1], 'plan_digest')
if digest ~= ARGV[1] then return {'digest_mismatch', ''} end
local expires = tonumber(redis.call('HGET', KEYS[1], 'plan_expires_at') or '0')
if tonumber(ARGV[2]) > expires then
  redis.call('HSET', KEYS[1], 'status', 'EXPIRED', 'updated_at', ARGV[2])
  redis.call('DEL', KEYS[3])
  return {'plan_expired', ''}
end
local conflicts = tonumber(redis.call('HGET', KEYS[1], 'plan_conflicts') or '0')
if conflicts > 0 then return {'conflicts', tostring(conflicts)} end
for k = 3, #KEYS do
  redis.call('PERSIST', KEYS[k])
end
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
redis.call('HSET', KEYS[1], 'status', 'QUEUED', 'confirmed_at', ARGV[2], 'updated_at', ARGV[2])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[4])
return {'ok', cur}
"""

# KEYS: lease fence meta ; ARGV: worker ttl_ms target
# Returns the new fencing token; -1 when a worker (any, this one too) holds the
# lease; -2 when the job was planned for another target (never run it there).
CLAIM = r"""
if (redis.call('HGET', KEYS[3], 'target') or '') ~= ARGV[3] then return -2 end
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2])
"""

# KEYS: lease fence ; ARGV: worker ttl_ms fence
RENEW = r"""
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS: lease ; ARGV: worker. Deletes the lease only if this worker holds it.
RELEASE = r"""
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: meta events ; ARGV: mode now maxlen event_json
# A job that has not started is cancelled at once ({'cancelled', old}); a running
# one keeps the request in meta.cancel ({'requested', old}), where whichever worker
# owns it (now or after a takeover) reads it. 'hard' is never
# downgraded to 'graceful'. Otherwise {'no', status} (or {'missing', ''}).
CANCEL = r"""
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {'missing', ''} end
local idle = {PLANNING=1, AWAITING_CONFIRMATION=1, QUEUED=1, PAUSED=1}
if idle[cur] then
  redis.call('HSET', KEYS[1], 'status', 'CANCELLED', 'updated_at', ARGV[2],
             'finished_at', ARGV[2], 'cancel', ARGV[1])
elseif cur == 'RUNNING' then
  local mode = ARGV[1]
  if redis.call('HGET', KEYS[1], 'cancel') == 'hard' then mode = 'hard' end
  redis.call('HSET', KEYS[1], 'cancel', mode, 'updated_at', ARGV[2])
else
  return {'no', cur}
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[4])
if cur == 'RUNNING' then return {'requested', cur} end
return {'cancelled', cur}
"""


# KEYS: meta events ; ARGV: now maxlen event_json
# An operator's pause. A queued job pauses at once ({'paused', old}); a running one
# keeps the request in meta.pause ({'requested', old}), read by whichever worker
# owns it: in-flight work lands, nothing new starts, the job rests PAUSED.
# A cancel request outranks it. Otherwise {'no', status} (or {'missing', ''}).
PAUSE = r"""
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {'missing', ''} end
if cur == 'QUEUED' then
  redis.call('HSET', KEYS[1], 'status', 'PAUSED', 'updated_at', ARGV[1], 'pause', '1')
elseif cur == 'RUNNING' and (redis.call('HGET', KEYS[1], 'cancel') or '') == '' then
  redis.call('HSET', KEYS[1], 'pause', '1', 'updated_at', ARGV[1])
else
  return {'no', cur}
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[3])
if cur == 'RUNNING' then return {'requested', cur} end
return {'paused', cur}
"""
