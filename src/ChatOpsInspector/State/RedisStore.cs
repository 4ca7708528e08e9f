using ChatOpsInspector.Alerts;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatOpsInspector.State;

/// <summary>
/// The production store. Multi-key changes run as Lua scripts so they are atomic across replicas;
/// ingest of a new finding is a single round trip.
/// </summary>
internal sealed class RedisStore(IConnectionMultiplexer redis, IOptions<StateOptions> options, TimeProvider time)
    : IAlertStore, IWorkQueue, IAuditLog, IKeyValueStore
{
    private readonly string _p = options.Value.KeyPrefix;
    private readonly StateOptions _options = options.Value;

    private IDatabase Db => redis.GetDatabase();

    private RedisKey Key(string part) => _p + part;
    private RedisKey GroupKey(string id) => _p + "g:" + id;
    private RedisKey MembersKey(string id) => _p + "gm:" + id;
    private RedisKey FindingKey(string arn) => _p + "f:" + arn;
    private RedisKey OwnerKey(string owner) => _p + "owner:" + owner;
    private RedisKey QueueKey(string q) => _p + "q:" + q;
    private RedisKey QueueGenKey(string q) => _p + "qg:" + q;
    private RedisKey QueuePayloadKey(string q) => _p + "qp:" + q;
    private RedisKey AuditKey => _p + "audit";

    // Returns 0 duplicate, 1 new, 2 updated. Redis does not roll a script back when a command in it
    // fails, so the two markers that make a redelivery a duplicate (the event id, the finding's
    // updatedAt) are written last: a script that fails part-way leaves neither, and the sender's retry
    // writes the finding again instead of being dropped as already seen.
    private const string IngestScript = """
        if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local prev = redis.call('HGET', KEYS[2], 'u')
        if prev and tonumber(prev) >= tonumber(ARGV[3]) then return 0 end
        redis.call('HSET', KEYS[4], ARGV[5], ARGV[6])
        local mu = redis.call('HGET', KEYS[3], 'mu')
        if (not mu) or tonumber(mu) <= tonumber(ARGV[3]) then
          redis.call('HSET', KEYS[3], 'meta', ARGV[7], 'mu', ARGV[3])
        end
        local sla = redis.call('HGET', KEYS[3], 'sla')
        if (not sla) or tonumber(ARGV[10]) < tonumber(sla) then redis.call('HSET', KEYS[3], 'sla', ARGV[10]) end
        if redis.call('HSETNX', KEYS[3], 'ver', '0') == 1 then
          redis.call('HSET', KEYS[3], 'wf', '{}', 'created', ARGV[9])
        end
        redis.call('HINCRBY', KEYS[3], 'rev', 1)
        redis.call('SADD', KEYS[5], ARGV[4])
        redis.call('SADD', KEYS[6], ARGV[8])
        redis.call('ZADD', KEYS[7], 'NX', ARGV[9], ARGV[4])
        redis.call('HINCRBY', KEYS[8], ARGV[4], 1)
        redis.call('HSET', KEYS[2], 'u', ARGV[3], 'g', ARGV[4])
        redis.call('EXPIRE', KEYS[2], ARGV[11])
        if ARGV[1] == '1' then redis.call('SET', KEYS[1], '1', 'EX', ARGV[2]) end
        if prev then return 2 end
        return 1
        """;

    private const string WorkflowScript = """
        if redis.call('HGET', KEYS[1], 'ver') ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'wf', ARGV[2], 'ver', tostring(tonumber(ARGV[1]) + 1))
        redis.call('XADD', KEYS[3], '*', 'r', ARGV[3])
        if tonumber(ARGV[4]) > 0 then
          redis.call('EXPIRE', KEYS[1], ARGV[4])
          redis.call('EXPIRE', KEYS[2], ARGV[4])
        else
          redis.call('PERSIST', KEYS[1])
          redis.call('PERSIST', KEYS[2])
        end
        return 1
        """;

    private const string ClaimScript = """
        local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        local out = {}
        for _, id in ipairs(ids) do
          local due = redis.call('ZSCORE', KEYS[1], id)
          redis.call('ZADD', KEYS[1], ARGV[3], id)
          table.insert(out, id)
          table.insert(out, redis.call('HGET', KEYS[3], id) or '')
          table.insert(out, redis.call('HGET', KEYS[2], id) or '0')
          table.insert(out, due)
        end
        return out
        """;

    private const string CompleteScript = """
        local gen = redis.call('HGET', KEYS[2], ARGV[1]) or '0'
        if gen == ARGV[2] then
          redis.call('ZREM', KEYS[1], ARGV[1])
          redis.call('HDEL', KEYS[2], ARGV[1])
          redis.call('HDEL', KEYS[3], ARGV[1])
          return 1
        end
        redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
        return 0
        """;

    // A group's stamp is its ingest revision and workflow version: nothing else changes what a summary
    // shows. Group keys are derived from ARGV[1] (the group key prefix) because the ids come from KEYS[1].
    private const string SummariesScript = """
        local out = {}
        for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          local f = redis.call('HMGET', ARGV[1] .. id, 'sum', 'sumstamp', 'rev', 'ver')
          table.insert(out, id)
          if f[1] and f[2] == (f[3] or '0') .. ':' .. (f[4] or '0') then
            table.insert(out, f[1])
          else
            table.insert(out, '')
          end
        end
        return out
        """;

    // Only onto a group that still exists, so an expired group is not brought back as a stub.
    private const string SaveSummaryScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then
          redis.call('HSET', KEYS[1], 'sum', ARGV[1], 'sumstamp', ARGV[2])
        end
        return 0
        """;

    // KEYS[1]: the resource's slots (hash: next = first free slot start, last = last slot used);
    // KEYS[2]: the slot held for this caller. Times in ms. A slot is used no sooner than an interval
    // after the last one was, even when that one was used late.
    private const string ReserveSlotScript = """
        local now = tonumber(ARGV[1])
        local interval = tonumber(ARGV[2])
        local state = redis.call('HMGET', KEYS[1], 'next', 'last')
        local nxt = tonumber(state[1] or '') or 0
        local last = tonumber(state[2] or '')
        local earliest = last and (last + interval) or now
        local held = tonumber(redis.call('GET', KEYS[2]) or '')
        local t
        if held and now < held + interval then
          if now < held then return held end
          t = math.max(now, earliest)
        else
          t = math.max(now, nxt, earliest)
          nxt = t + interval
          redis.call('HSET', KEYS[1], 'next', nxt)
        end
        if t > now then
          redis.call('SET', KEYS[2], t, 'PX', t + interval - now + 60000)
          redis.call('PEXPIRE', KEYS[1], math.max(nxt, t + interval) - now + 1000)
          return t
        end
        redis.call('DEL', KEYS[2])
        redis.call('HSET', KEYS[1], 'last', now)
        redis.call('PEXPIRE', KEYS[1], math.max(nxt, now + interval) - now + 1000)
        return now
        """;

    public async Task<IngestOutcome> IngestAsync(IngestRecord record, CancellationToken cancellationToken)
    {
        var member = record.Member;
        RedisKey[] keys =
        [
            Key("evt:" + (record.EventId ?? "")),
            FindingKey(member.FindingArn),
            GroupKey(record.GroupId),
            MembersKey(record.GroupId),
            OwnerKey(record.Meta.Owner),
            Key("owners"),
            QueueKey(Queues.Groups),
            QueueGenKey(Queues.Groups),
        ];
        RedisValue[] args =
        [
            record.EventId is null ? "0" : "1",
            _options.EventDedupHours * 3600,
            member.UpdatedAt.ToUnixTimeMilliseconds(),
            record.GroupId,
            member.FindingArn,
            StateJson.Write(member),
            StateJson.Write(record.Meta),
            record.Meta.Owner,
            time.GetUtcNow().ToUnixTimeMilliseconds(),
            record.Meta.SlaDueAt.ToUnixTimeMilliseconds(),
            _options.FindingTtlDays * 86400,
        ];
        var result = (int)await Db.ScriptEvaluateAsync(IngestScript, keys, args);
        return result switch { 1 => IngestOutcome.New, 2 => IngestOutcome.Updated, _ => IngestOutcome.Duplicate };
    }

    public async Task<AlertGroup?> GetGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        var batch = Db.CreateBatch();
        var groupTask = batch.HashGetAllAsync(GroupKey(groupId));
        var membersTask = batch.HashValuesAsync(MembersKey(groupId));
        batch.Execute();
        var fields = (await groupTask).ToDictionary(e => e.Name.ToString(), e => e.Value);
        var members = await membersTask;
        if (!fields.TryGetValue("meta", out var metaJson))
        {
            return null;
        }
        var meta = Read<GroupMeta>(metaJson);
        if (fields.TryGetValue("sla", out var sla))
        {
            meta = meta with { SlaDueAt = DateTimeOffset.FromUnixTimeMilliseconds((long)sla) };
        }
        var cards = fields.Where(f => f.Key.StartsWith("card:", StringComparison.Ordinal))
            .Select(f => Read<ChatMessageRef>(f.Value))
            .ToDictionary(c => c.Platform);
        var wf = fields.GetValueOrDefault("wf");
        return new AlertGroup
        {
            Id = groupId,
            Meta = meta,
            Members = members.Select(Read<GroupMember>).ToArray(),
            Workflow = wf.IsNullOrEmpty || wf == "{}" ? new WorkflowState() : Read<WorkflowState>(wf),
            Version = fields.TryGetValue("ver", out var ver) ? (long)ver : 0,
            Revision = fields.TryGetValue("rev", out var rev) ? (long)rev : 0,
            Cards = cards,
        };
    }

    public void RememberSummary(AlertGroup group) =>
        _ = Db.ScriptEvaluateAsync(SaveSummaryScript, [GroupKey(group.Id)], [StateJson.Write(GroupSummary.Of(group)), group.Stamp], CommandFlags.FireAndForget);

    private static T Read<T>(RedisValue json) => StateJson.Read<T>(((ReadOnlyMemory<byte>)json).Span);

    public async Task<IReadOnlyList<SavedSummary>> SavedSummariesAsync(string owner, CancellationToken cancellationToken)
    {
        var rows = (RedisResult[])(await Db.ScriptEvaluateAsync(SummariesScript, [OwnerKey(owner)], [_p + "g:"]))!;
        var saved = new SavedSummary[rows.Length / 2];
        for (var i = 0; i < saved.Length; i++)
        {
            var json = (RedisValue)rows[2 * i + 1];
            saved[i] = new SavedSummary(rows[2 * i].ToString(), json.IsNullOrEmpty ? null : Read<GroupSummary>(json));
        }
        return saved;
    }

    public async Task<IReadOnlyList<string>> GroupIdsAsync(string owner, CancellationToken cancellationToken) =>
        (await Db.SetMembersAsync(OwnerKey(owner))).Select(v => v.ToString()).ToArray();

    public async Task<IReadOnlyList<string>> OwnersAsync(CancellationToken cancellationToken) =>
        (await Db.SetMembersAsync(Key("owners"))).Select(v => v.ToString()).ToArray();

    public async Task<bool> TryUpdateWorkflowAsync(string groupId, long expectedVersion, WorkflowState next, AuditRecord audit, CancellationToken cancellationToken)
    {
        var ttl = next.State == GroupState.Resolved ? _options.ClosedGroupTtlDays * 86400 : 0;
        var result = (int)await Db.ScriptEvaluateAsync(
            WorkflowScript,
            [GroupKey(groupId), MembersKey(groupId), AuditKey],
            [expectedVersion, StateJson.Write(next), StateJson.Write(audit), ttl]);
        return result == 1;
    }

    public Task SetCardRefAsync(string groupId, ChatMessageRef card, CancellationToken cancellationToken) =>
        Db.HashSetAsync(GroupKey(groupId), "card:" + card.Platform, StateJson.Write(card));

    public async Task<string?> GroupOfFindingAsync(string findingArn, CancellationToken cancellationToken)
    {
        var value = await Db.HashGetAsync(FindingKey(findingArn), "g");
        return value.IsNull ? null : value.ToString();
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        if (!redis.IsConnected)
        {
            return false;
        }
        try
        {
            await Db.PingAsync();
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return false;
        }
    }

    public async Task TouchAsync(string queue, string id, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        var tx = Db.CreateTransaction();
        _ = tx.SortedSetAddAsync(QueueKey(queue), id, dueAt.ToUnixTimeMilliseconds(), SortedSetWhen.NotExists);
        _ = tx.HashIncrementAsync(QueueGenKey(queue), id);
        await tx.ExecuteAsync();
    }

    public async Task EnqueueAsync(string queue, string id, string payload, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        var tx = Db.CreateTransaction();
        _ = tx.HashSetAsync(QueuePayloadKey(queue), id, payload);
        _ = tx.HashIncrementAsync(QueueGenKey(queue), id);
        _ = tx.SortedSetAddAsync(QueueKey(queue), id, dueAt.ToUnixTimeMilliseconds());
        await tx.ExecuteAsync();
    }

    public async Task<IReadOnlyList<WorkItem>> ClaimAsync(string queue, int max, TimeSpan lease, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            ClaimScript,
            [QueueKey(queue), QueueGenKey(queue), QueuePayloadKey(queue)],
            [now.ToUnixTimeMilliseconds(), max, (now + lease).ToUnixTimeMilliseconds()]))!;
        var items = new List<WorkItem>(result.Length / 4);
        for (var i = 0; i + 3 < result.Length; i += 4)
        {
            var payload = result[i + 1].ToString();
            items.Add(new WorkItem(
                result[i].ToString(),
                string.IsNullOrEmpty(payload) ? null : payload,
                long.Parse(result[i + 2].ToString()),
                DateTimeOffset.FromUnixTimeMilliseconds((long)double.Parse(result[i + 3].ToString(), System.Globalization.CultureInfo.InvariantCulture))));
        }
        return items;
    }

    public Task CompleteAsync(string queue, WorkItem item, DateTimeOffset now, CancellationToken cancellationToken) =>
        Db.ScriptEvaluateAsync(
            CompleteScript,
            [QueueKey(queue), QueueGenKey(queue), QueuePayloadKey(queue)],
            [item.Id, item.Generation, now.ToUnixTimeMilliseconds()]);

    public Task RescheduleAsync(string queue, WorkItem item, DateTimeOffset dueAt, CancellationToken cancellationToken) =>
        Db.SortedSetAddAsync(QueueKey(queue), item.Id, dueAt.ToUnixTimeMilliseconds(), SortedSetWhen.Exists);

    public async Task RemoveAsync(string queue, string id, CancellationToken cancellationToken)
    {
        var tx = Db.CreateTransaction();
        _ = tx.SortedSetRemoveAsync(QueueKey(queue), id);
        _ = tx.HashDeleteAsync(QueueGenKey(queue), id);
        _ = tx.HashDeleteAsync(QueuePayloadKey(queue), id);
        await tx.ExecuteAsync();
    }

    public Task<long> CountAsync(string queue, CancellationToken cancellationToken) => Db.SortedSetLengthAsync(QueueKey(queue));

    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken) =>
        Db.StreamAddAsync(AuditKey, "r", StateJson.Write(record));

    public async Task<IReadOnlyList<AuditRecord>> ReadAsync(DateTimeOffset from, DateTimeOffset to, int max, CancellationToken cancellationToken)
    {
        // Stream ids carry Redis's clock, records carry ours; filter on the record's own time.
        var records = new List<AuditRecord>();
        RedisValue start = "-";
        while (records.Count < max)
        {
            var page = await Db.StreamRangeAsync(AuditKey, start, "+", count: 1000);
            if (page.Length == 0)
            {
                break;
            }
            foreach (var entry in page)
            {
                var record = Read<AuditRecord>(entry["r"]);
                if (record.At >= from && record.At < to && records.Count < max)
                {
                    records.Add(record);
                }
            }
            if (page.Length < 1000)
            {
                break;
            }
            start = "(" + page[^1].Id;
        }
        return records;
    }

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var value = await Db.StringGetAsync(Key("kv:" + key));
        return value.IsNull ? null : value.ToString();
    }

    public Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken) =>
        ttl is { } t
            ? Db.StringSetAsync(Key("kv:" + key), value, t)
            : Db.StringSetAsync(Key("kv:" + key), value);

    public Task<bool> TrySetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken) =>
        Db.StringSetAsync(Key("kv:" + key), value, ttl, When.NotExists);

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => Db.KeyDeleteAsync(Key("kv:" + key));

    public async Task<DateTimeOffset> ReserveSlotAsync(string resource, string holder, TimeSpan interval, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var slot = (long)await Db.ScriptEvaluateAsync(
            ReserveSlotScript,
            [Key("kv:rate:" + resource), Key("kv:slot:" + resource + ":" + holder)],
            [now.ToUnixTimeMilliseconds(), (long)interval.TotalMilliseconds]);
        return DateTimeOffset.FromUnixTimeMilliseconds(slot);
    }
}
