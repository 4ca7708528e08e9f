using System.Globalization;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.State;

/// <summary>
/// The store for local runs and unit tests: same contract as <see cref="RedisStore"/>, one lock for
/// atomicity, state lost on restart. Expiry is honoured for keyed values; group TTLs are not needed here.
/// </summary>
internal sealed class InMemoryStore(TimeProvider time, IOptions<StateOptions> options) : IAlertStore, IWorkQueue, IAuditLog, IKeyValueStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _seenEvents = [];
    private readonly Dictionary<string, (long UpdatedAt, string GroupId)> _findings = [];
    private readonly Dictionary<string, GroupRow> _groups = [];
    private readonly Dictionary<string, HashSet<string>> _owners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueueRows> _queues = [];
    private readonly List<ChainedAuditRecord> _audit = [];
    private readonly List<byte[]> _auditBytes = [];
    private readonly Dictionary<string, (string Value, DateTimeOffset? Expires)> _values = [];
    private readonly Dictionary<string, double> _changed = new(StringComparer.Ordinal);
    private long _changeMark;

    public Task<IngestOutcome> IngestAsync(IngestRecord record, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var updatedAt = record.Member.UpdatedAt.ToUnixTimeMilliseconds();
        lock (_gate)
        {
            if (record.EventId is { } eventId)
            {
                if (_seenEvents.TryGetValue(eventId, out var expires) && expires > now)
                {
                    return Task.FromResult(IngestOutcome.Duplicate);
                }
                _seenEvents[eventId] = now.AddHours(options.Value.EventDedupHours);
            }
            var known = _findings.TryGetValue(record.Member.FindingArn, out var previous);
            if (known && previous.UpdatedAt >= updatedAt)
            {
                return Task.FromResult(IngestOutcome.Duplicate);
            }
            _findings[record.Member.FindingArn] = (updatedAt, record.GroupId);
            if (!_groups.TryGetValue(record.GroupId, out var group))
            {
                group = new GroupRow(record.Meta, record.Meta.SlaDueAt, updatedAt);
                _groups[record.GroupId] = group;
            }
            group.Members[record.Member.FindingArn] = record.Member;
            if (group.MetaUpdatedAt <= updatedAt)
            {
                group.Meta = record.Meta;
                group.MetaUpdatedAt = updatedAt;
            }
            if (record.Meta.SlaDueAt < group.SlaDueAt)
            {
                group.SlaDueAt = record.Meta.SlaDueAt;
            }
            if (!_owners.TryGetValue(record.Meta.Owner, out var ids))
            {
                _owners[record.Meta.Owner] = ids = [];
            }
            ids.Add(record.GroupId);
            _changed[record.GroupId] = ++_changeMark;
            TouchLocked(Queues.Groups, record.GroupId, now);
            return Task.FromResult(known ? IngestOutcome.Updated : IngestOutcome.New);
        }
    }

    public Task<AlertGroup?> GetGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_groups.TryGetValue(groupId, out var row) ? Project(groupId, row) : null);
        }
    }

    private static AlertGroup Project(string groupId, GroupRow row) => new()
    {
        Id = groupId,
        Meta = row.Meta with { SlaDueAt = row.SlaDueAt },
        Members = row.Members.Values.ToArray(),
        Workflow = row.Workflow,
        Version = row.Version,
        Cards = new Dictionary<string, ChatMessageRef>(row.Cards),
    };

    /// <summary>Computed from the groups themselves: the figures the Redis counters must agree with.</summary>
    public Task<IReadOnlyList<OwnerCounts>> CountsAsync(IReadOnlyCollection<string> owners, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var counts = new List<OwnerCounts>(owners.Count);
            foreach (var owner in owners)
            {
                var groups = (_owners.TryGetValue(owner, out var ids) ? ids : []).Select(id => Project(id, _groups[id])).ToArray();
                var acknowledged = groups.Where(g => g.Workflow.AcknowledgedAt is not null)
                    .Select(g => Math.Max(0, (g.Workflow.AcknowledgedAt!.Value - g.FirstSeenAt).Ticks / TimeSpan.TicksPerMillisecond)).ToArray();
                var fixedTimes = groups.Where(g => g.Workflow.State == GroupState.Resolved && g.Workflow.TimeToFix is not null)
                    .Select(g => g.Workflow.TimeToFix!.Value.Ticks / TimeSpan.TicksPerMillisecond).ToArray();
                var open = groups.Where(g => g.Workflow.IsOpen).ToArray();
                counts.Add(new OwnerCounts
                {
                    Owner = owner,
                    Groups = groups.GroupBy(g => (g.Workflow.State, g.Severity)).ToDictionary(g => g.Key, g => (long)g.Count()),
                    Acknowledged = acknowledged.Length,
                    AcknowledgeMillis = acknowledged.Sum(),
                    Fixed = fixedTimes.Length,
                    FixMillis = fixedTimes.Sum(),
                    Breached = groups.Count(g => g.Workflow.SlaBreached),
                    Overdue = open.Count(g => g.Meta.SlaDueAt <= now),
                    DueSoon = open.Count(g => g.Meta.SlaDueAt > now && g.Meta.SlaDueAt <= now + OwnerCounts.DueSoonWindow),
                });
            }
            return Task.FromResult<IReadOnlyList<OwnerCounts>>(counts);
        }
    }

    public Task<IReadOnlyList<string>> DueGroupIdsAsync(IReadOnlyCollection<string> owners, DateTimeOffset until, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<string>>(owners
                .SelectMany(o => _owners.TryGetValue(o, out var ids) ? ids : [])
                .Select(id => (Id: id, Row: _groups[id]))
                .Where(g => g.Row.Workflow.IsOpen && g.Row.SlaDueAt <= until)
                .OrderBy(g => g.Row.SlaDueAt).ThenBy(g => g.Id, StringComparer.Ordinal)
                .Take(max).Select(g => g.Id).ToArray());
        }
    }

    public Task<IReadOnlyList<string>> GroupsOfVulnerabilityAsync(string vulnerabilityId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<string>>(_groups
                .Where(g => string.Equals(g.Value.Meta.VulnerabilityId, vulnerabilityId.Trim(), StringComparison.OrdinalIgnoreCase))
                .Select(g => g.Key).ToArray());
        }
    }

    public Task<IReadOnlyList<string>> GroupIdsAsync(string owner, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<string>>(_owners.TryGetValue(owner, out var ids) ? ids.ToArray() : []);
        }
    }

    /// <summary>Nothing is remembered here: every group is read in full, which costs no round trip.</summary>
    public async Task<IReadOnlyList<SavedSummary>> SavedSummariesAsync(string owner, CancellationToken cancellationToken) =>
        (await GroupIdsAsync(owner, cancellationToken)).Select(id => new SavedSummary(id, null)).ToArray();

    public void RememberSummary(AlertGroup group)
    {
    }

    public Task<IReadOnlyList<string>> OwnersAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<string>>(_owners.Keys.ToArray());
        }
    }

    public Task<bool> TryUpdateWorkflowAsync(string groupId, long expectedVersion, WorkflowState next, AuditRecord audit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_groups.TryGetValue(groupId, out var row) || row.Version != expectedVersion)
            {
                return Task.FromResult(false);
            }
            row.Workflow = next;
            row.Version++;
            _changed[groupId] = ++_changeMark;
            AppendLocked(audit);
            return Task.FromResult(true);
        }
    }

    public Task SetCardRefAsync(string groupId, ChatMessageRef card, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_groups.TryGetValue(groupId, out var row))
            {
                row.Cards[card.Platform] = card;
            }
        }
        return Task.CompletedTask;
    }

    public Task<string?> GroupOfFindingAsync(string findingArn, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_findings.TryGetValue(findingArn, out var f) ? f.GroupId : null);
        }
    }

    public Task<IReadOnlyList<ChangedGroup>> ChangedGroupsAsync(int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ChangedGroup>>(_changed.OrderBy(c => c.Value).Take(max).Select(c => new ChangedGroup(c.Key, c.Value)).ToArray());
        }
    }

    public Task ForgetChangedAsync(IReadOnlyList<ChangedGroup> seen, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var c in seen)
            {
                if (_changed.TryGetValue(c.GroupId, out var mark) && mark == c.Mark)
                {
                    _changed.Remove(c.GroupId);
                }
            }
        }
        return Task.CompletedTask;
    }

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    public Task TouchAsync(string queue, string id, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            TouchLocked(queue, id, dueAt);
        }
        return Task.CompletedTask;
    }

    public Task EnqueueAsync(string queue, string id, string payload, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var rows = Rows(queue);
            rows.Due[id] = dueAt;
            rows.Payload[id] = payload;
            rows.Generation[id] = rows.Generation.GetValueOrDefault(id) + 1;
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<WorkItem>> ClaimAsync(string queue, int max, TimeSpan lease, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var rows = Rows(queue);
            var due = rows.Due.Where(d => d.Value <= now).OrderBy(d => d.Value).ThenBy(d => d.Key, StringComparer.Ordinal).Take(max).ToArray();
            var claimed = new List<WorkItem>(due.Length);
            foreach (var (id, at) in due)
            {
                rows.Due[id] = now + lease;
                claimed.Add(new WorkItem(id, rows.Payload.GetValueOrDefault(id), rows.Generation.GetValueOrDefault(id), at));
            }
            return Task.FromResult<IReadOnlyList<WorkItem>>(claimed);
        }
    }

    public Task CompleteAsync(string queue, WorkItem item, DateTimeOffset now, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var rows = Rows(queue);
            if (rows.Generation.GetValueOrDefault(item.Id) == item.Generation)
            {
                rows.Remove(item.Id);
            }
            else if (rows.Due.ContainsKey(item.Id))
            {
                rows.Due[item.Id] = now;
            }
        }
        return Task.CompletedTask;
    }

    public Task RescheduleAsync(string queue, WorkItem item, DateTimeOffset dueAt, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var rows = Rows(queue);
            if (rows.Due.ContainsKey(item.Id))
            {
                rows.Due[item.Id] = dueAt;
            }
        }
        return Task.CompletedTask;
    }

    public Task RemoveAsync(string queue, string id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Rows(queue).Remove(id);
        }
        return Task.CompletedTask;
    }

    public Task<long> CountAsync(string queue, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult((long)Rows(queue).Due.Count);
        }
    }

    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            AppendLocked(record);
        }
        return Task.CompletedTask;
    }

    /// <summary>Chained like Redis (<see cref="AuditChain"/>); ids are positions, so a page continues after one.</summary>
    private void AppendLocked(AuditRecord record)
    {
        var bytes = StateJson.Write(record);
        var prev = _audit.Count > 0 ? _audit[^1].Hash! : AuditChain.Genesis;
        _audit.Add(new(record, $"{_audit.Count + 1}-0", prev, AuditChain.Hash(prev, bytes)));
        _auditBytes.Add(bytes);
    }

    public Task<IReadOnlyList<AuditRecord>> ReadAsync(DateTimeOffset from, DateTimeOffset to, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<AuditRecord>>(
                _audit.Select(a => a.Record).Where(a => a.At >= from && a.At < to).Take(max).ToArray());
        }
    }

    public Task<AuditPage> ReadPageAsync(DateTimeOffset from, DateTimeOffset to, int max, string? cursor, CancellationToken cancellationToken)
    {
        var positions = AuditCursor.Decode(cursor) ?? throw new ArgumentException("Invalid audit cursor.", nameof(cursor));
        lock (_gate)
        {
            var skip = positions.TryGetValue("0", out var after) ? (int)AuditCursor.Parse(after).Ms : 0;
            var matching = _audit.Skip(skip).Where(a => a.Record.At >= from && a.Record.At < to).Take(max + 1).ToArray();
            var part = new AuditPaging.Part("0", [.. matching.Take(max)], matching.Length > max ? matching[max - 1].Id : _audit.LastOrDefault()?.Id,
                Exhausted: matching.Length <= max);
            return Task.FromResult(AuditPaging.Merge([part], positions, max));
        }
    }

    public Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var verifier = new AuditChain.Verifier("0");
            for (var i = 0; i < _audit.Count && verifier.Add(_audit[i].Id, _auditBytes[i], _audit[i].PrevHash, _audit[i].Hash); i++)
            {
            }
            return Task.FromResult(AuditChain.Summarise([verifier]));
        }
    }

    public IReadOnlyList<string> Chains => ["0"];

    private int _archived;

    public Task<IReadOnlyList<StoredAuditEntry>> ReadUnarchivedAsync(string chain, int max, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<StoredAuditEntry>>([.. _audit.Select((a, i) => new StoredAuditEntry(a.Id, _auditBytes[i], a.PrevHash, a.Hash))
                .Skip(_archived).Take(max)]);
        }
    }

    /// <summary>Memory is lost on restart anyway: archiving only moves the mark, records stay readable.</summary>
    public Task MarkArchivedAsync(string chain, string lastId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _archived = Math.Max(_archived, (int)AuditCursor.Parse(lastId).Ms);
        }
        return Task.CompletedTask;
    }

    public Task<string?> GetAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(LiveValue(key));
        }
    }

    public Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _values[key] = (value, ttl is { } t ? time.GetUtcNow() + t : null);
        }
        return Task.CompletedTask;
    }

    public Task<bool> TrySetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (LiveValue(key) is not null)
            {
                return Task.FromResult(false);
            }
            _values[key] = (value, time.GetUtcNow() + ttl);
            return Task.FromResult(true);
        }
    }

    public Task<bool> TryRenewAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (LiveValue(key) != value)
            {
                return Task.FromResult(false);
            }
            _values[key] = (value, time.GetUtcNow() + ttl);
            return Task.FromResult(true);
        }
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_values.Remove(key));
        }
    }

    public Task<DateTimeOffset> ReserveSlotAsync(string resource, string holder, TimeSpan interval, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nextKey = "rate-next:" + resource;
        var lastKey = "rate-last:" + resource;
        var heldKey = "slot:" + resource + ":" + holder;
        lock (_gate)
        {
            var next = LiveTime(nextKey) ?? DateTimeOffset.MinValue;
            var earliest = LiveTime(lastKey) is { } last ? last + interval : now;
            var held = LiveTime(heldKey);
            DateTimeOffset slot;
            if (held is { } h && now < h + interval)
            {
                if (now < h)
                {
                    return Task.FromResult(h);
                }
                slot = Max(now, earliest);
            }
            else
            {
                slot = Max(Max(now, next), earliest);
                next = slot + interval;
                SetTime(nextKey, next, next + TimeSpan.FromSeconds(1));
            }
            if (slot > now)
            {
                SetTime(heldKey, slot, slot + interval + TimeSpan.FromMinutes(1));
                return Task.FromResult(slot);
            }
            _values.Remove(heldKey);
            SetTime(lastKey, now, now + interval + TimeSpan.FromSeconds(1));
            return Task.FromResult(now);
        }

        static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
    }

    private DateTimeOffset? LiveTime(string key) =>
        LiveValue(key) is { } text ? DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(text, CultureInfo.InvariantCulture)) : null;

    private void SetTime(string key, DateTimeOffset value, DateTimeOffset expires) =>
        _values[key] = (value.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), expires);

    private string? LiveValue(string key)
    {
        if (!_values.TryGetValue(key, out var entry))
        {
            return null;
        }
        if (entry.Expires is { } expires && expires <= time.GetUtcNow())
        {
            _values.Remove(key);
            return null;
        }
        return entry.Value;
    }

    private void TouchLocked(string queue, string id, DateTimeOffset dueAt)
    {
        var rows = Rows(queue);
        rows.Due.TryAdd(id, dueAt);
        rows.Generation[id] = rows.Generation.GetValueOrDefault(id) + 1;
    }

    private QueueRows Rows(string queue)
    {
        if (!_queues.TryGetValue(queue, out var rows))
        {
            _queues[queue] = rows = new QueueRows();
        }
        return rows;
    }

    private sealed class GroupRow(GroupMeta meta, DateTimeOffset slaDueAt, long metaUpdatedAt)
    {
        public GroupMeta Meta { get; set; } = meta;
        public long MetaUpdatedAt { get; set; } = metaUpdatedAt;
        public DateTimeOffset SlaDueAt { get; set; } = slaDueAt;
        public Dictionary<string, GroupMember> Members { get; } = new(StringComparer.Ordinal);
        public WorkflowState Workflow { get; set; } = new();
        public long Version { get; set; }
        public Dictionary<string, ChatMessageRef> Cards { get; } = [];
    }

    private sealed class QueueRows
    {
        public Dictionary<string, DateTimeOffset> Due { get; } = [];
        public Dictionary<string, string> Payload { get; } = [];
        public Dictionary<string, long> Generation { get; } = [];

        public void Remove(string id)
        {
            Due.Remove(id);
            Payload.Remove(id);
            Generation.Remove(id);
        }
    }
}
