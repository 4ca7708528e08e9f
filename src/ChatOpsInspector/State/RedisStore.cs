using ChatOpsInspector.Alerts;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatOpsInspector.State;

/// <summary>
/// The production store. Multi-key changes run as Lua scripts so they are atomic across replicas;
/// ingest of a new finding is a single round trip. Every script and MULTI names all its keys, and
/// those keys share one hash tag (<see cref="RedisKeys"/>), so the same calls work on a single
/// Redis and on a Redis Cluster of any size. Reads honour their cancellation token: a chat request
/// past its deadline stops waiting for Redis and falls back.
/// </summary>
internal sealed partial class RedisStore(IConnectionMultiplexer redis, IOptions<StateOptions> options, TimeProvider time)
    : IAlertStore, IWorkQueue, IAuditLog, IKeyValueStore
{
    private readonly StateOptions _options = options.Value;
    private readonly RedisKeys _keys = new(options.Value);

    private IDatabase Db => redis.GetDatabase();

    internal RedisKeys Keys => _keys;

    // Adds (sign 1) or takes away (sign -1) one group's share of its owner's counters: its (state,
    // worst severity) count, its time to acknowledge (acknowledged at - first seen, never negative),
    // its time to fix when resolved, and whether it breached its SLA. Field names start with the owner.
    private const string CountScript = """
        local function count(key, o, sign, st, sv, fs, ackat, ttf, br)
          redis.call('HINCRBY', key, o .. '|g|' .. st .. '|' .. sv, sign)
          if ackat and ackat ~= '' then
            local d = tonumber(ackat) - tonumber(fs)
            if d < 0 then d = 0 end
            redis.call('HINCRBY', key, o .. '|ack', sign)
            redis.call('HINCRBY', key, o .. '|tta', sign * d)
          end
          if st == '7' and ttf and ttf ~= '' then
            redis.call('HINCRBY', key, o .. '|fix', sign)
            redis.call('HINCRBY', key, o .. '|ttf', sign * tonumber(ttf))
          end
          if br == '1' then redis.call('HINCRBY', key, o .. '|br', sign) end
        end

        """;

    // Returns 0 duplicate, 1 new, 2 updated. Redis does not roll a script back when a command in it
    // fails, so the two markers that make a redelivery a duplicate (the event id, the finding's
    // updatedAt) are written last: a script that fails part-way leaves neither, and the sender's retry
    // writes the finding again instead of being dropped as already seen.
    //
    // Beside the finding itself it keeps what reads must not compute from every group: the group's
    // member counts by severity and status (so its worst severity is known without reading members),
    // the owner's counters by (state, severity) with the sums behind the mean times (KEYS[9]), the
    // owner's open groups by SLA due time (KEYS[10]) and the vulnerability's groups (KEYS[11]).
    private const string IngestScript = CountScript + """
        if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local pf = redis.call('HMGET', KEYS[2], 'u', 'g', 's', 't')
        local prev = pf[1]
        if prev and tonumber(prev) >= tonumber(ARGV[3]) then return 0 end
        local old = redis.call('HMGET', KEYS[3], 'st', 'sv', 'fs', 'ackat', 'ttf', 'br')
        if pf[2] == ARGV[4] and pf[3] then
          redis.call('HINCRBY', KEYS[3], 'ms:' .. pf[3], -1)
          redis.call('HINCRBY', KEYS[3], 'n:' .. pf[4], -1)
        end
        redis.call('HINCRBY', KEYS[3], 'ms:' .. ARGV[12], 1)
        redis.call('HINCRBY', KEYS[3], 'n:' .. ARGV[13], 1)
        local ms = redis.call('HMGET', KEYS[3], 'ms:5', 'ms:4', 'ms:3', 'ms:2', 'ms:1', 'ms:0')
        local sv = ARGV[12]
        for i = 1, 6 do
          if tonumber(ms[i] or '0') > 0 then sv = tostring(6 - i) break end
        end
        local fs = ARGV[14]
        if old[3] and tonumber(old[3]) < tonumber(fs) then fs = old[3] end
        local st = old[1] or '0'
        if old[1] then
          if old[2] ~= sv or old[3] ~= fs then
            count(KEYS[9], ARGV[8], -1, old[1], old[2], old[3], old[4], old[5], old[6])
            count(KEYS[9], ARGV[8], 1, st, sv, fs, old[4], old[5], old[6])
            redis.call('HSET', KEYS[3], 'sv', sv, 'fs', fs)
          end
        else
          count(KEYS[9], ARGV[8], 1, st, sv, fs, old[4], old[5], old[6])
          redis.call('HSET', KEYS[3], 'st', st, 'sv', sv, 'fs', fs)
        end
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
        local rev = redis.call('HINCRBY', KEYS[3], 'rev', 1)
        redis.call('ZADD', KEYS[12], rev + tonumber(redis.call('HGET', KEYS[3], 'ver')), ARGV[4])
        redis.call('SADD', KEYS[5], ARGV[4])
        redis.call('SADD', KEYS[6], ARGV[8])
        redis.call('ZADD', KEYS[7], 'NX', ARGV[9], ARGV[4])
        redis.call('HINCRBY', KEYS[8], ARGV[4], 1)
        if st ~= '3' and st ~= '7' then
          redis.call('ZADD', KEYS[10], redis.call('HGET', KEYS[3], 'sla'), ARGV[4])
        end
        redis.call('SADD', KEYS[11], ARGV[4])
        redis.call('HSET', KEYS[2], 'u', ARGV[3], 'g', ARGV[4], 's', ARGV[12], 't', ARGV[13])
        redis.call('EXPIRE', KEYS[2], ARGV[11])
        if ARGV[1] == '1' then redis.call('SET', KEYS[1], '1', 'EX', ARGV[2]) end
        if prev then return 2 end
        return 1
        """;

    // KEYS[4]: the audit chain's head. KEYS[5], KEYS[6]: the owner's counters and due set, moved from the group's old state to its new one.
    // A group stored before counters existed (no 'st') is left out of them rather than miscounted.
    private const string WorkflowScript = CountScript + "\n" + AuditChainLua + "\n" + """
        if redis.call('HGET', KEYS[1], 'ver') ~= ARGV[1] then return 0 end
        redis.call('HSET', KEYS[1], 'wf', ARGV[2], 'ver', tostring(tonumber(ARGV[1]) + 1))
        redis.call('ZADD', KEYS[7], tonumber(ARGV[1]) + 1 + tonumber(redis.call('HGET', KEYS[1], 'rev') or '0'), ARGV[10])
        local old = redis.call('HMGET', KEYS[1], 'st', 'sv', 'fs', 'ackat', 'ttf', 'br', 'sla')
        if old[1] then
          count(KEYS[5], ARGV[5], -1, old[1], old[2], old[3], old[4], old[5], old[6])
          count(KEYS[5], ARGV[5], 1, ARGV[6], old[2], old[3], ARGV[7], ARGV[8], ARGV[9])
          redis.call('HSET', KEYS[1], 'st', ARGV[6], 'br', ARGV[9])
          if ARGV[7] == '' then redis.call('HDEL', KEYS[1], 'ackat') else redis.call('HSET', KEYS[1], 'ackat', ARGV[7]) end
          if ARGV[8] == '' then redis.call('HDEL', KEYS[1], 'ttf') else redis.call('HSET', KEYS[1], 'ttf', ARGV[8]) end
          if ARGV[6] ~= '3' and ARGV[6] ~= '7' and old[7] then
            redis.call('ZADD', KEYS[6], old[7], ARGV[10])
          else
            redis.call('ZREM', KEYS[6], ARGV[10])
          end
        end
        audit_append(KEYS[3], KEYS[4], ARGV[3], ARGV[11])
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

    // A summary is kept with the group's stamp (ingest revision and workflow version: nothing else
    // changes what a summary shows) and only onto a group that still exists, so an expired group is not brought back as a stub.
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

    // ARGV: member, mark pairs; a member whose mark moved since it was listed changed again and stays.
    private const string ForgetChangedScript = """
        for i = 1, #ARGV, 2 do
          local mark = redis.call('ZSCORE', KEYS[1], ARGV[i])
          if mark and tonumber(mark) == tonumber(ARGV[i + 1]) then redis.call('ZREM', KEYS[1], ARGV[i]) end
        end
        return 0
        """;

    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """;

    // Writes one short-lived key through a script, as ingest does: an ACL user without scripting or
    // write rights on the prefix, or a shard that cannot take writes, fails here as ingest would.
    private const string ProbeScript = """
        redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000)
        return 1
        """;

    public async Task<IngestOutcome> IngestAsync(IngestRecord record, CancellationToken cancellationToken)
    {
        var member = record.Member;
        var partition = _keys.PartitionOf(record.GroupId);
        var queue = _keys.QueuePartition(Queues.Groups, partition);
        RedisKey[] keys =
        [
            _keys.Event(partition, record.EventId ?? ""),
            _keys.Finding(partition, member.FindingArn),
            _keys.Group(record.GroupId),
            _keys.Members(record.GroupId),
            _keys.OwnerIndex(partition, record.Meta.Owner),
            _keys.Owners(partition),
            queue.Due,
            queue.Generation,
            _keys.Counts(partition),
            _keys.Due(partition, record.Meta.Owner),
            _keys.Vulnerability(partition, record.Meta.VulnerabilityId),
            _keys.Changed(partition),
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
            (int)member.Severity,
            (int)member.Status,
            member.FirstObservedAt.ToUnixTimeMilliseconds(),
        ];
        var result = (int)await Db.ScriptEvaluateAsync(IngestScript, keys, args);
        return result switch { 1 => IngestOutcome.New, 2 => IngestOutcome.Updated, _ => IngestOutcome.Duplicate };
    }

    public async Task<AlertGroup?> GetGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        var batch = Db.CreateBatch();
        var groupTask = batch.HashGetAllAsync(_keys.Group(groupId));
        var membersTask = batch.HashValuesAsync(_keys.Members(groupId));
        batch.Execute();
        var fields = (await groupTask.WaitAsync(cancellationToken)).ToDictionary(e => e.Name.ToString(), e => e.Value);
        var members = await membersTask.WaitAsync(cancellationToken);
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
        _ = Db.ScriptEvaluateAsync(SaveSummaryScript, [_keys.Group(group.Id)], [StateJson.Write(GroupSummary.Of(group)), group.Stamp], CommandFlags.FireAndForget);

    private static T Read<T>(RedisValue json) => StateJson.Read<T>(((ReadOnlyMemory<byte>)json).Span);

    /// <summary>
    /// Two round trips whatever the cluster: the owner's index in every partition, then the summary
    /// fields of every group found. A group that has expired is dropped from the index on the way.
    /// </summary>
    public async Task<IReadOnlyList<SavedSummary>> SavedSummariesAsync(string owner, CancellationToken cancellationToken)
    {
        var ids = await PartitionIdsAsync(owner, cancellationToken);
        var db = Db;
        var reads = ids.Select(e => db.HashGetAsync(_keys.Group(e.Id), SummaryFields)).ToArray();
        await Task.WhenAll(reads).WaitAsync(cancellationToken);
        var saved = new List<SavedSummary>(ids.Count);
        for (var i = 0; i < reads.Length; i++)
        {
            var f = reads[i].Result;
            var (partition, id) = ids[i];
            if (f[2].IsNull && f[3].IsNull)
            {
                // Ingest sets rev and ver on every group: neither means the group expired.
                _ = db.SetRemoveAsync(_keys.OwnerIndex(partition, owner), id, CommandFlags.FireAndForget);
                continue;
            }
            var current = f[1] == (f[2].IsNull ? "0" : f[2].ToString()) + ":" + (f[3].IsNull ? "0" : f[3].ToString());
            saved.Add(new SavedSummary(id, !f[0].IsNullOrEmpty && current ? Read<GroupSummary>(f[0]) : null));
        }
        return saved;
    }

    private static readonly RedisValue[] SummaryFields = ["sum", "sumstamp", "rev", "ver"];

    private async Task<List<(int Partition, string Id)>> PartitionIdsAsync(string owner, CancellationToken cancellationToken)
    {
        var db = Db;
        var reads = Enumerable.Range(0, _keys.Partitions).Select(p => db.SetMembersAsync(_keys.OwnerIndex(p, owner))).ToArray();
        await Task.WhenAll(reads).WaitAsync(cancellationToken);
        var ids = new List<(int, string)>();
        for (var p = 0; p < reads.Length; p++)
        {
            ids.AddRange(reads[p].Result.Select(v => (p, v.ToString())));
        }
        return ids;
    }

    public async Task<IReadOnlyList<string>> GroupIdsAsync(string owner, CancellationToken cancellationToken) =>
        (await PartitionIdsAsync(owner, cancellationToken)).Select(e => e.Id).ToArray();

    public async Task<IReadOnlyList<string>> OwnersAsync(CancellationToken cancellationToken)
    {
        var db = Db;
        var reads = await Task.WhenAll(Enumerable.Range(0, _keys.Partitions).Select(p => db.SetMembersAsync(_keys.Owners(p)))).WaitAsync(cancellationToken);
        return reads.SelectMany(r => r).Select(v => v.ToString()).Distinct(StringComparer.Ordinal).ToArray();
    }

    public async Task<bool> TryUpdateWorkflowAsync(string groupId, long expectedVersion, WorkflowState next, AuditRecord audit, CancellationToken cancellationToken)
    {
        var ttl = next.State == GroupState.Resolved ? _options.ClosedGroupTtlDays * 86400 : 0;
        var partition = _keys.PartitionOf(groupId);
        // The owner names the counter fields and the due set; writers name it in the audit record, and
        // only a caller that did not costs one more round trip.
        var owner = audit.Owner ?? (await GetGroupAsync(groupId, cancellationToken))?.Owner ?? "";
        var result = (int)await Db.ScriptEvaluateAsync(
            WorkflowScript,
            [_keys.Group(groupId), _keys.Members(groupId), _keys.Audit(partition), AuditHead(partition), _keys.Counts(partition), _keys.Due(partition, owner), _keys.Changed(partition)],
            [
                expectedVersion, StateJson.Write(next), StateJson.Write(audit), ttl, owner, (int)next.State,
                next.AcknowledgedAt is { } ack ? ack.ToUnixTimeMilliseconds() : "",
                next.TimeToFix is { } ttf ? (long)ttf.TotalMilliseconds : "",
                next.SlaBreached ? "1" : "0",
                groupId,
                AuditMs(audit.At),
            ]);
        return result == 1;
    }

    public Task SetCardRefAsync(string groupId, ChatMessageRef card, CancellationToken cancellationToken) =>
        Db.HashSetAsync(_keys.Group(groupId), "card:" + card.Platform, StateJson.Write(card));

    /// <summary>A finding lives in its group's partition, which the ARN alone does not tell: ask them all at once.</summary>
    public async Task<string?> GroupOfFindingAsync(string findingArn, CancellationToken cancellationToken)
    {
        var db = Db;
        var reads = await Task.WhenAll(Enumerable.Range(0, _keys.Partitions).Select(p => db.HashGetAsync(_keys.Finding(p, findingArn), "g"))).WaitAsync(cancellationToken);
        var value = reads.FirstOrDefault(v => !v.IsNull);
        return value.IsNull ? null : value.ToString();
    }

    /// <summary>
    /// One round trip: every partition's counter hash, and per owner and partition two counts of the
    /// due set. The counter hashes hold a few dozen fields per owner whatever the number of groups.
    /// </summary>
    public async Task<IReadOnlyList<OwnerCounts>> CountsAsync(IReadOnlyCollection<string> owners, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var db = Db;
        var nowMs = now.ToUnixTimeMilliseconds();
        var soonMs = (now + OwnerCounts.DueSoonWindow).ToUnixTimeMilliseconds();
        var hashes = Enumerable.Range(0, _keys.Partitions).Select(p => db.HashGetAllAsync(_keys.Counts(p))).ToArray();
        var due = owners.ToDictionary(o => o, o => Enumerable.Range(0, _keys.Partitions).Select(p => (
            Overdue: db.SortedSetLengthAsync(_keys.Due(p, o), double.NegativeInfinity, nowMs),
            Soon: db.SortedSetLengthAsync(_keys.Due(p, o), nowMs, soonMs, Exclude.Start))).ToArray(), StringComparer.Ordinal);
        await Task.WhenAll(hashes.Cast<Task>().Concat(due.Values.SelectMany(d => d.SelectMany(x => new Task[] { x.Overdue, x.Soon })))).WaitAsync(cancellationToken);
        var fields = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in hashes.SelectMany(h => h.Result))
        {
            var name = entry.Name.ToString();
            fields[name] = fields.GetValueOrDefault(name) + (long)entry.Value;
        }
        return owners.Select(owner =>
        {
            var prefix = owner + "|";
            var groups = new Dictionary<(GroupState, Findings.Severity), long>();
            foreach (var (name, value) in fields)
            {
                if (value == 0 || !name.StartsWith(prefix + "g|", StringComparison.Ordinal))
                {
                    continue;
                }
                var parts = name[(prefix.Length + 2)..].Split('|');
                if (parts.Length == 2 && int.TryParse(parts[0], out var st) && int.TryParse(parts[1], out var sv))
                {
                    groups[((GroupState)st, (Findings.Severity)sv)] = value;
                }
            }
            return new OwnerCounts
            {
                Owner = owner,
                Groups = groups,
                Acknowledged = fields.GetValueOrDefault(prefix + "ack"),
                AcknowledgeMillis = fields.GetValueOrDefault(prefix + "tta"),
                Fixed = fields.GetValueOrDefault(prefix + "fix"),
                FixMillis = fields.GetValueOrDefault(prefix + "ttf"),
                Breached = fields.GetValueOrDefault(prefix + "br"),
                Overdue = due[owner].Sum(d => d.Overdue.Result),
                DueSoon = due[owner].Sum(d => d.Soon.Result),
            };
        }).ToArray();
    }

    /// <summary>The first <paramref name="max"/> of each partition's due set, merged: one round trip.</summary>
    public async Task<IReadOnlyList<string>> DueGroupIdsAsync(IReadOnlyCollection<string> owners, DateTimeOffset until, int max, CancellationToken cancellationToken)
    {
        var db = Db;
        var untilMs = until.ToUnixTimeMilliseconds();
        var reads = owners.SelectMany(o => Enumerable.Range(0, _keys.Partitions)
            .Select(p => db.SortedSetRangeByScoreWithScoresAsync(_keys.Due(p, o), double.NegativeInfinity, untilMs, take: max))).ToArray();
        await Task.WhenAll(reads).WaitAsync(cancellationToken);
        return reads.SelectMany(r => r.Result)
            .OrderBy(e => e.Score).ThenBy(e => e.Element.ToString(), StringComparer.Ordinal)
            .Take(max).Select(e => e.Element.ToString()).ToArray();
    }

    public async Task<IReadOnlyList<string>> GroupsOfVulnerabilityAsync(string vulnerabilityId, CancellationToken cancellationToken)
    {
        var db = Db;
        var reads = await Task.WhenAll(Enumerable.Range(0, _keys.Partitions)
            .Select(p => db.SetMembersAsync(_keys.Vulnerability(p, vulnerabilityId)))).WaitAsync(cancellationToken);
        return reads.SelectMany(r => r).Select(v => v.ToString()).ToArray();
    }

    /// <summary>The lowest marks of each partition, merged: one round trip.</summary>
    public async Task<IReadOnlyList<ChangedGroup>> ChangedGroupsAsync(int max, CancellationToken cancellationToken)
    {
        var db = Db;
        var reads = await Task.WhenAll(Enumerable.Range(0, _keys.Partitions)
            .Select(p => db.SortedSetRangeByRankWithScoresAsync(_keys.Changed(p), 0, max - 1))).WaitAsync(cancellationToken);
        return reads.SelectMany(r => r).OrderBy(e => e.Score).Take(max).Select(e => new ChangedGroup(e.Element.ToString(), e.Score)).ToArray();
    }

    public Task ForgetChangedAsync(IReadOnlyList<ChangedGroup> seen, CancellationToken cancellationToken)
    {
        var db = Db;
        return Task.WhenAll(seen.GroupBy(c => _keys.PartitionOf(c.GroupId)).Select(p => db.ScriptEvaluateAsync(
            ForgetChangedScript,
            [_keys.Changed(p.Key)],
            p.SelectMany(c => new RedisValue[] { c.GroupId, c.Mark }).ToArray())));
    }

    /// <summary>
    /// Ready when every partition takes a scripted write, as ingest needs: a lost shard, a cluster
    /// that is down, or an ACL user without scripting or write rights all make this false.
    /// </summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        if (!redis.IsConnected)
        {
            return false;
        }
        try
        {
            var db = Db;
            var stamp = time.GetUtcNow().ToUnixTimeMilliseconds();
            await Task.WhenAll(Enumerable.Range(0, _keys.Partitions)
                .Select(p => db.ScriptEvaluateAsync(ProbeScript, [_keys.Probe(p)], [stamp]))).WaitAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (StoreFailures.IsStoreFailure(ex))
        {
            LastProbeFailure = ex;
            return false;
        }
    }

    /// <summary>Why the last readiness probe failed, for the readiness log line.</summary>
    internal Exception? LastProbeFailure { get; private set; }

    public async Task TouchAsync(string queue, string id, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        var keys = _keys.Queue(queue, id);
        var tx = Db.CreateTransaction();
        _ = tx.SortedSetAddAsync(keys.Due, id, dueAt.ToUnixTimeMilliseconds(), SortedSetWhen.NotExists);
        _ = tx.HashIncrementAsync(keys.Generation, id);
        await tx.ExecuteAsync();
    }

    public async Task EnqueueAsync(string queue, string id, string payload, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        var keys = _keys.Queue(queue, id);
        var tx = Db.CreateTransaction();
        _ = tx.HashSetAsync(keys.Payload, id, payload);
        _ = tx.HashIncrementAsync(keys.Generation, id);
        _ = tx.SortedSetAddAsync(keys.Due, id, dueAt.ToUnixTimeMilliseconds());
        await tx.ExecuteAsync();
    }

    public async Task<IReadOnlyList<WorkItem>> ClaimAsync(string queue, int max, TimeSpan lease, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!RedisKeys.IsPartitioned(queue))
        {
            return await ClaimFromAsync(_keys.QueueOf(queue), max, lease, now);
        }
        // First how much is due in each partition, then claims spread over those with work, all sent
        // at once: two round trips, and never more than max items leased.
        var db = Db;
        var due = await Task.WhenAll(Enumerable.Range(0, _keys.Partitions)
            .Select(p => db.SortedSetLengthAsync(_keys.QueuePartition(queue, p).Due, double.NegativeInfinity, now.ToUnixTimeMilliseconds())));
        var start = Random.Shared.Next(_keys.Partitions);
        var claims = new List<Task<List<WorkItem>>>();
        var left = max;
        for (var i = 0; i < due.Length && left > 0; i++)
        {
            var p = (start + i) % due.Length;
            if (due[p] == 0)
            {
                continue;
            }
            var take = (int)Math.Min(left, due[p]);
            left -= take;
            claims.Add(ClaimFromAsync(_keys.QueuePartition(queue, p), take, lease, now));
        }
        return (await Task.WhenAll(claims)).SelectMany(c => c).ToArray();
    }

    private async Task<List<WorkItem>> ClaimFromAsync(RedisKeys.QueueKeys keys, int max, TimeSpan lease, DateTimeOffset now)
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(
            ClaimScript,
            [keys.Due, keys.Generation, keys.Payload],
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

    public Task CompleteAsync(string queue, WorkItem item, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var keys = _keys.Queue(queue, item.Id);
        return Db.ScriptEvaluateAsync(
            CompleteScript,
            [keys.Due, keys.Generation, keys.Payload],
            [item.Id, item.Generation, now.ToUnixTimeMilliseconds()]);
    }

    public Task RescheduleAsync(string queue, WorkItem item, DateTimeOffset dueAt, CancellationToken cancellationToken) =>
        Db.SortedSetAddAsync(_keys.Queue(queue, item.Id).Due, item.Id, dueAt.ToUnixTimeMilliseconds(), SortedSetWhen.Exists);

    public async Task RemoveAsync(string queue, string id, CancellationToken cancellationToken)
    {
        var keys = _keys.Queue(queue, id);
        var tx = Db.CreateTransaction();
        _ = tx.SortedSetRemoveAsync(keys.Due, id);
        _ = tx.HashDeleteAsync(keys.Generation, id);
        _ = tx.HashDeleteAsync(keys.Payload, id);
        await tx.ExecuteAsync();
    }

    public async Task<long> CountAsync(string queue, CancellationToken cancellationToken)
    {
        if (!RedisKeys.IsPartitioned(queue))
        {
            return await Db.SortedSetLengthAsync(_keys.QueueOf(queue).Due).WaitAsync(cancellationToken);
        }
        var db = Db;
        var counts = await Task.WhenAll(Enumerable.Range(0, _keys.Partitions).Select(p => db.SortedSetLengthAsync(_keys.QueuePartition(queue, p).Due))).WaitAsync(cancellationToken);
        return counts.Sum();
    }

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var value = await Db.StringGetAsync(_keys.Value(key)).WaitAsync(cancellationToken);
        return value.IsNull ? null : value.ToString();
    }

    public Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken) =>
        ttl is { } t
            ? Db.StringSetAsync(_keys.Value(key), value, t)
            : Db.StringSetAsync(_keys.Value(key), value);

    public Task<bool> TrySetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken) =>
        Db.StringSetAsync(_keys.Value(key), value, ttl, When.NotExists);

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => Db.KeyDeleteAsync(_keys.Value(key));

    public async Task<bool> TryRenewAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken) =>
        (int)await Db.ScriptEvaluateAsync(RenewScript, [_keys.Value(key)], [value, (long)ttl.TotalMilliseconds]) == 1;

    public async Task<DateTimeOffset> ReserveSlotAsync(string resource, string holder, TimeSpan interval, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var slot = (long)await Db.ScriptEvaluateAsync(
            ReserveSlotScript,
            [_keys.RateState(resource), _keys.RateHeld(resource, holder)],
            [now.ToUnixTimeMilliseconds(), (long)interval.TotalMilliseconds]);
        return DateTimeOffset.FromUnixTimeMilliseconds(slot);
    }
}
