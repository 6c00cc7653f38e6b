/**
 * The Lua scripts of the Redis sync store. Each runs atomically, which is why the ordering merge is
 * written here a second time: COMMIT repeats `mergeRecordState` (domain/sync/ordering.ts), and
 * test/sync/ordering-cases.ts runs one table of cases against both.
 */

/**
 * Checks that every lease key (KEYS[1..nLeases]) holds our token (ARGV[1]); returns 0 and does
 * nothing else when one does not. Shared head of the fenced scripts.
 */
const FENCE = `
local nLeases = tonumber(ARGV[2])
for i = 1, nLeases do
  if redis.call('GET', KEYS[i]) ~= ARGV[1] then return 0 end
end
`;

/**
 * Merges record updates and marks events applied. KEYS: [lease keys (fenced only)], record keys,
 * event keys. ARGV: token, nLeases, event TTL, record TTL, JSON array of updates aligned with the
 * record keys. Clears each written record's write mark (`d`). Returns 1, or 0 when fenced out.
 */
const MERGE = `
local eventTtl = tonumber(ARGV[3])
local recordTtl = tonumber(ARGV[4])
local updates = cjson.decode(ARGV[5])
local n = #updates
for i = 1, n do
  local key = KEYS[nLeases + i]
  local u = updates[i]
  local cur = redis.call('HMGET', key, 'w', 'f', 'lc', 'le')
  local known = cur[1] == '1'
  local curFinal = cur[2] == '1'
  local upFinal = u.f == 1
  local fields = {'w', '1'}
  if u.lc then
    local verdict = 'apply'
    if known and cur[4] == u.le then verdict = 'duplicate'
    elseif not known then verdict = 'apply'
    elseif curFinal and not upFinal then verdict = 'stale'
    elseif upFinal and not curFinal then verdict = 'apply'
    elseif cur[3] and u.lc < tonumber(cur[3]) then verdict = 'stale' end
    if verdict == 'apply' then
      fields[#fields + 1] = 'lc'; fields[#fields + 1] = tostring(u.lc)
      fields[#fields + 1] = 'le'; fields[#fields + 1] = u.le
    end
  end
  if upFinal then fields[#fields + 1] = 'f'; fields[#fields + 1] = '1' end
  if u.ck then fields[#fields + 1] = 'ck'; fields[#fields + 1] = u.ck end
  redis.call('HSET', key, unpack(fields))
  redis.call('HDEL', key, 'd')
  redis.call('EXPIRE', key, recordTtl)
end
for i = nLeases + n + 1, #KEYS do
  redis.call('SET', KEYS[i], '1', 'EX', eventTtl)
end
return 1
`;

/** Unfenced commit (ARGV[2] = 0 leases). */
export const COMMIT_SCRIPT = `local nLeases = 0\n${MERGE}`;

/** Fenced commit: nothing is merged unless every lease named is still ours. */
export const FENCED_COMMIT_SCRIPT = `${FENCE}${MERGE}`;

/**
 * The fence before a write. KEYS: lease keys (all held), then record keys to mark. ARGV: token,
 * nLeases, lease TTL ms, record TTL s. Renews every lease and sets the write mark `d` on each
 * record. Returns 1, or 0 (nothing changed) when a lease is no longer ours.
 */
export const BEGIN_WRITE_SCRIPT = `${FENCE}
for i = 1, nLeases do
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
for i = nLeases + 1, #KEYS do
  redis.call('HSET', KEYS[i], 'd', '1')
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[4]))
end
return 1
`;

/** Takes the lease keys in the order given until one is held by someone else; returns how many. */
export const ACQUIRE_IN_ORDER_SCRIPT = `
for i = 1, #KEYS do
  if not redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2], 'NX') then
    if redis.call('GET', KEYS[i]) ~= ARGV[1] then return i - 1 end
  end
end
return #KEYS`;

/** Deletes each lease key (KEYS) that still holds our token (ARGV[1]): never another holder's. */
export const RELEASE_SCRIPT = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
return n
`;

/** Sets the TTL (ARGV[2], ms) of each lease key (KEYS) that still holds our token (ARGV[1]). */
export const RENEW_SCRIPT = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    n = n + 1
  end
end
return n
`;
