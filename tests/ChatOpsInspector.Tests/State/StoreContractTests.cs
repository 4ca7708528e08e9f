using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.State;

/// <summary>One contract, two stores: everything here must hold for Redis and for memory alike.</summary>
public abstract class StoreContractTests : IAsyncLifetime
{
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));

    private protected IAlertStore Alerts { get; private set; } = null!;
    private protected IWorkQueue Queue { get; private set; } = null!;
    private protected IAuditLog Audit { get; private set; } = null!;
    private protected IKeyValueStore Values { get; private set; } = null!;

    /// <summary>The read side over the store: summaries are completed there from full reads.</summary>
    private protected AlertQueries Summaries => new(Alerts);

    private protected abstract Task<object> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        var store = await CreateStoreAsync();
        Alerts = (IAlertStore)store;
        Queue = (IWorkQueue)store;
        Audit = (IAuditLog)store;
        Values = (IKeyValueStore)store;
    }

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 8, 0, 0, TimeSpan.Zero);

    internal static IngestRecord Record(string arn, string group = "g000000001", string owner = "payments", DateTimeOffset? updated = null,
        FindingStatus status = FindingStatus.Active, string? eventId = null, string resource = "i-1", Severity severity = Severity.Critical) =>
        new(eventId, group,
            new GroupMeta
            {
                Owner = owner, VulnerabilityId = "CVE-2024-1", Title = "CVE-2024-1 - pkg", Type = FindingType.PackageVulnerability,
                Severity = severity, FirstSeenAt = T0, SlaDueAt = T0.AddHours(24), Alerting = true,
            },
            new GroupMember
            {
                FindingArn = arn, ResourceType = ResourceTypes.Ec2Instance, ResourceId = resource, Region = "eu-west-1", AccountId = "123456789012",
                Status = status, Severity = severity, FirstObservedAt = T0, UpdatedAt = updated ?? T0,
            });

    [Fact]
    public async Task NewFindingIsStoredInItsGroupAndMarksTheGroupForPublishing()
    {
        Assert.Equal(IngestOutcome.New, await Alerts.IngestAsync(Record("arn:1", eventId: "e1"), default));
        var group = await Alerts.GetGroupAsync("g000000001", default);
        Assert.NotNull(group);
        Assert.Equal("payments", group.Owner);
        Assert.Single(group.Members);
        Assert.Equal(GroupState.New, group.Workflow.State);
        Assert.Equal(["g000000001"], await Alerts.GroupIdsAsync("payments", default));
        Assert.Equal(["payments"], await Alerts.OwnersAsync(default));
        Assert.Equal("g000000001", await Alerts.GroupOfFindingAsync("arn:1", default));
        var claimed = await Queue.ClaimAsync(Queues.Groups, 10, TimeSpan.FromSeconds(30), Time.GetUtcNow(), default);
        Assert.Equal("g000000001", Assert.Single(claimed).Id);
    }

    [Fact]
    public async Task SameEventIdIsADuplicate()
    {
        await Alerts.IngestAsync(Record("arn:1", eventId: "e1"), default);
        Assert.Equal(IngestOutcome.Duplicate, await Alerts.IngestAsync(Record("arn:1", eventId: "e1", updated: T0.AddHours(1)), default));
    }

    [Fact]
    public async Task SameFindingWithUnchangedUpdatedAtIsADuplicateButANewerOneUpdates()
    {
        await Alerts.IngestAsync(Record("arn:1", eventId: "e1"), default);
        Assert.Equal(IngestOutcome.Duplicate, await Alerts.IngestAsync(Record("arn:1", eventId: "e2"), default));
        Assert.Equal(IngestOutcome.Duplicate, await Alerts.IngestAsync(Record("arn:1", eventId: "e3", updated: T0.AddMinutes(-1)), default));
        Assert.Equal(IngestOutcome.Updated, await Alerts.IngestAsync(Record("arn:1", eventId: "e4", updated: T0.AddMinutes(1), status: FindingStatus.Closed), default));
        var group = await Alerts.GetGroupAsync("g000000001", default);
        Assert.Equal(FindingStatus.Closed, Assert.Single(group!.Members).Status);
    }

    [Fact]
    public async Task ManyFindingsOfOneVulnerabilityShareOneGroup()
    {
        for (var i = 0; i < 50; i++)
        {
            await Alerts.IngestAsync(Record($"arn:{i}", resource: $"i-{i}"), default);
        }
        var group = await Alerts.GetGroupAsync("g000000001", default);
        Assert.Equal(50, group!.Members.Count);
        Assert.Equal(50, group.Resources.Count);
        Assert.Single(await Queue.ClaimAsync(Queues.Groups, 10, TimeSpan.FromSeconds(30), Time.GetUtcNow(), default));
    }

    [Fact]
    public async Task ConcurrentIngestOfTheSameFindingStoresItOnce()
    {
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Alerts.IngestAsync(Record("arn:race"), default)));
        Assert.Equal(1, outcomes.Count(o => o == IngestOutcome.New));
        Assert.Equal(19, outcomes.Count(o => o == IngestOutcome.Duplicate));
    }

    [Fact]
    public async Task WorkflowCompareAndSetLetsExactlyOneWriterWinAndAuditsIt()
    {
        await Alerts.IngestAsync(Record("arn:1"), default);
        var group = (await Alerts.GetGroupAsync("g000000001", default))!;
        var audit = new AuditRecord { At = Time.GetUtcNow(), Action = "ack", ActorPlatform = "slack", ActorId = "U1", ActorName = "Ana" };
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            Alerts.TryUpdateWorkflowAsync(group.Id, group.Version, group.Workflow with { State = GroupState.Acknowledged }, audit, default)));
        Assert.Equal(1, results.Count(r => r));
        var after = (await Alerts.GetGroupAsync("g000000001", default))!;
        Assert.Equal(GroupState.Acknowledged, after.Workflow.State);
        Assert.Equal(group.Version + 1, after.Version);
        var records = await Audit.ReadAsync(Time.GetUtcNow().AddMinutes(-1), Time.GetUtcNow().AddMinutes(1), 100, default);
        Assert.Equal("ack", Assert.Single(records).Action);
    }

    [Fact]
    public async Task CardRefsAreRemembered()
    {
        await Alerts.IngestAsync(Record("arn:1"), default);
        await Alerts.SetCardRefAsync("g000000001", new ChatMessageRef("slack", "C1", "1700000000.000100"), default);
        var group = await Alerts.GetGroupAsync("g000000001", default);
        Assert.Equal("1700000000.000100", group!.Cards["slack"].MessageId);
    }

    [Fact]
    public async Task QueueItemIsClaimedByOneWorkerUntilItsLeaseEnds()
    {
        var now = Time.GetUtcNow();
        await Queue.EnqueueAsync("q", "a", "payload-a", now, default);
        var first = await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now, default);
        Assert.Equal("payload-a", Assert.Single(first).Payload);
        Assert.Empty(await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now.AddSeconds(10), default));
        // The worker died: after the lease the item comes back.
        Assert.Single(await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now.AddSeconds(31), default));
    }

    [Fact]
    public async Task CompletedItemIsGoneUnlessTouchedWhileClaimed()
    {
        var now = Time.GetUtcNow();
        await Queue.TouchAsync("q", "g", now, default);
        var item = Assert.Single(await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now, default));
        await Queue.TouchAsync("q", "g", now, default); // changed again while being published
        await Queue.CompleteAsync("q", item, now, default);
        var again = Assert.Single(await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now, default));
        await Queue.CompleteAsync("q", again, now, default);
        Assert.Empty(await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now.AddMinutes(5), default));
        Assert.Equal(0, await Queue.CountAsync("q", default));
    }

    [Fact]
    public async Task RescheduledItemComesBackAtItsNewTimeAndRemovedItemNever()
    {
        var now = Time.GetUtcNow();
        await Queue.EnqueueAsync("q", "a", "x", now, default);
        await Queue.EnqueueAsync("q", "b", "y", now.AddHours(1), default);
        var item = Assert.Single(await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now, default));
        await Queue.RescheduleAsync("q", item, now.AddSeconds(5), default);
        Assert.Empty(await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now.AddSeconds(4), default));
        var back = Assert.Single(await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now.AddSeconds(5), default));
        await Queue.CompleteAsync("q", back, now.AddSeconds(5), default);
        await Queue.RemoveAsync("q", "b", default);
        Assert.Empty(await Queue.ClaimAsync("q", 10, TimeSpan.FromSeconds(30), now.AddHours(2), default));
    }

    [Fact]
    public async Task ConcurrentClaimsNeverShareAnItem()
    {
        var now = Time.GetUtcNow();
        for (var i = 0; i < 100; i++)
        {
            await Queue.EnqueueAsync("q", $"i{i}", "p", now, default);
        }
        var batches = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Queue.ClaimAsync("q", 20, TimeSpan.FromMinutes(1), now, default)));
        var ids = batches.SelectMany(b => b).Select(i => i.Id).ToList();
        Assert.Equal(100, ids.Count);
        Assert.Equal(100, ids.Distinct().Count());
    }

    [Fact]
    public async Task AuditRecordsAreReadBackByTimeRange()
    {
        var t = Time.GetUtcNow();
        foreach (var minutes in new[] { 0, 10, 20 })
        {
            await Audit.AppendAsync(new AuditRecord { At = t.AddMinutes(minutes), Action = $"a{minutes}", ActorPlatform = "slack", ActorId = "U", ActorName = "U" }, default);
        }
        var middle = await Audit.ReadAsync(t.AddMinutes(5), t.AddMinutes(20), 100, default);
        Assert.Equal("a10", Assert.Single(middle).Action);
    }

    [Fact]
    public async Task KeyedValuesExpireAndSetIfAbsentClaimsOnce()
    {
        Assert.True(await Values.TrySetIfAbsentAsync("lock", "a", TimeSpan.FromSeconds(30), default));
        Assert.False(await Values.TrySetIfAbsentAsync("lock", "b", TimeSpan.FromSeconds(30), default));
        Assert.Equal("a", await Values.GetAsync("lock", default));
        await Values.SetAsync("k", "v", null, default);
        Assert.True(await Values.DeleteAsync("k", default));
        Assert.Null(await Values.GetAsync("k", default));
    }

    [Fact]
    public async Task SummariesFollowEveryChangeOfTheGroups()
    {
        await Alerts.IngestAsync(Record("arn:1", group: "g000000001", severity: Severity.High), default);
        await Alerts.IngestAsync(Record("arn:2", group: "g000000002"), default);
        await Alerts.IngestAsync(Record("arn:3", group: "g000000003", owner: "other"), default);

        var first = (await Summaries.SummariesAsync("payments", default)).OrderBy(s => s.Id).ToArray();
        Assert.Equal(["g000000001", "g000000002"], first.Select(s => s.Id));
        Assert.Equal(Severity.High, first[0].Severity);
        Assert.All(first, s => Assert.Equal(GroupState.New, s.State));
        Assert.Equal(T0.AddHours(24), first[0].SlaDueAt);

        // A workflow change and a worse finding: both show in the next summaries.
        var group = (await Alerts.GetGroupAsync("g000000002", default))!;
        var ana = new Actor("slack", "U1", "Ana");
        var audit = new AuditRecord { At = Time.GetUtcNow(), Action = "assigned", ActorPlatform = "slack", ActorId = "U1", ActorName = "Ana" };
        Assert.True(await Alerts.TryUpdateWorkflowAsync(group.Id, group.Version, group.Workflow with { State = GroupState.Assigned, AssignedTo = ana }, audit, default));
        await Alerts.IngestAsync(Record("arn:4", group: "g000000001", resource: "i-4", severity: Severity.Critical), default);

        var second = (await Summaries.SummariesAsync("payments", default)).OrderBy(s => s.Id).ToArray();
        Assert.Equal(Severity.Critical, second[0].Severity);
        Assert.Equal(GroupState.Assigned, second[1].State);
        Assert.True(second[1].AssignedTo!.SamePersonAs(ana));
        Assert.Empty(await Summaries.SummariesAsync("nobody", default));
    }

    private protected static IngestRecord At(IngestRecord r, string cve, DateTimeOffset firstObserved, DateTimeOffset slaDue) => r with
    {
        Meta = r.Meta with { VulnerabilityId = cve, SlaDueAt = slaDue },
        Member = r.Member with { FirstObservedAt = firstObserved },
    };

    private async Task<bool> StepAsync(string groupId, Func<WorkflowState, WorkflowState> change, string? owner = "payments")
    {
        var group = (await Alerts.GetGroupAsync(groupId, default))!;
        var audit = new AuditRecord { At = Time.GetUtcNow(), Action = "step", ActorPlatform = "slack", ActorId = "U1", ActorName = "Ana", GroupId = groupId, Owner = owner };
        return await Alerts.TryUpdateWorkflowAsync(groupId, group.Version, change(group.Workflow), audit, default);
    }

    private async Task<OwnerCounts> CountsOfAsync(string owner) => Assert.Single(await Alerts.CountsAsync([owner], Time.GetUtcNow(), default));

    /// <summary>
    /// /vulns stats and sla answer from counters the writes keep: every figure a full read of the groups
    /// would give (open by worst severity, suppressed, mean times, breached, past SLA, due soon) follows
    /// ingest and every workflow step, here and on Redis alike.
    /// </summary>
    [Fact]
    public async Task CountersFollowIngestAndEveryWorkflowStep()
    {
        var now = Time.GetUtcNow();
        // g1: critical, overdue by an hour; g2: high, due in 3 h; g3: medium, due in 3 days; g4 other owner.
        await Alerts.IngestAsync(At(Record("arn:1", group: "g1", severity: Severity.Critical), "CVE-1", now.AddHours(-30), now.AddHours(-1)), default);
        await Alerts.IngestAsync(At(Record("arn:2", group: "g2", severity: Severity.High), "CVE-2", now.AddHours(-10), now.AddHours(3)), default);
        await Alerts.IngestAsync(At(Record("arn:3", group: "g3", severity: Severity.Medium), "CVE-3", now.AddHours(-2), now.AddDays(3)), default);
        await Alerts.IngestAsync(At(Record("arn:4", group: "g4", owner: "search", severity: Severity.Low), "CVE-1", now, now.AddHours(-5)), default);

        var c = await CountsOfAsync("payments");
        Assert.Equal(3, c.Open);
        Assert.Equal([KeyValuePair.Create(Severity.Critical, 1L), KeyValuePair.Create(Severity.High, 1L), KeyValuePair.Create(Severity.Medium, 1L)], c.OpenBySeverity);
        Assert.Equal((1L, 1L), (c.Overdue, c.DueSoon));
        Assert.Equal(1L, (await CountsOfAsync("search")).Overdue);

        // A worse finding joins g3: the group counts as critical now, not as medium as well.
        await Alerts.IngestAsync(At(Record("arn:3b", group: "g3", severity: Severity.Critical, resource: "i-3b"), "CVE-3", now.AddHours(-4), now.AddDays(3)), default);
        c = await CountsOfAsync("payments");
        Assert.Equal([KeyValuePair.Create(Severity.Critical, 2L), KeyValuePair.Create(Severity.High, 1L)], c.OpenBySeverity);

        // Acknowledged 6 h after g1 was first seen (30 h ago) and g3 (first seen 4 h ago, by its earlier member) 1 h later.
        Assert.True(await StepAsync("g1", w => w with { State = GroupState.Acknowledged, AcknowledgedAt = now.AddHours(-24) }));
        Assert.True(await StepAsync("g3", w => w with { State = GroupState.Acknowledged, AcknowledgedAt = now.AddHours(-3) }));
        c = await CountsOfAsync("payments");
        Assert.Equal(2, c.Acknowledged);
        Assert.Equal(TimeSpan.FromHours(3.5), c.MeanTimeToAcknowledge);
        Assert.Equal(3, c.Open);

        // g2 suppressed (an audit record without the owner still finds it), g1 resolved with its time to fix and breached.
        Assert.True(await StepAsync("g2", w => w with { State = GroupState.Suppressed }, owner: null));
        Assert.True(await StepAsync("g1", w => w with { State = GroupState.Resolved, TimeToFix = TimeSpan.FromHours(20), SlaBreached = true }));
        c = await CountsOfAsync("payments");
        Assert.Equal(1, c.Open);
        Assert.Equal(1, c.InState(GroupState.Suppressed));
        Assert.Equal((1L, TimeSpan.FromHours(20)), (c.Fixed, c.MeanTimeToFix!.Value));
        Assert.Equal(1, c.Breached);
        Assert.Equal((0L, 0L), (c.Overdue, c.DueSoon));
        Assert.Equal(3, c.Total);

        // Reopened: back among the open and past SLA again; no longer counted as fixed.
        Assert.True(await StepAsync("g1", w => w with { State = GroupState.New, TimeToFix = null }));
        c = await CountsOfAsync("payments");
        Assert.Equal((2L, 1L, 0L), (c.Open, c.Overdue, c.Fixed));

        // The soonest due open groups of both owners, soonest first; suppressed g2 is not among them.
        Assert.Equal(["g4", "g1"], await Alerts.DueGroupIdsAsync(["payments", "search"], now.AddHours(24), 10, default));
        Assert.Equal(["g4"], await Alerts.DueGroupIdsAsync(["payments", "search"], now.AddHours(24), 1, default));
    }

    /// <summary>/vulns show CVE-… reads the index of the vulnerability: every owner's group of it, in any letter case.</summary>
    [Fact]
    public async Task TheVulnerabilityIndexListsEveryGroupOfTheIdAcrossOwners()
    {
        var now = Time.GetUtcNow();
        await Alerts.IngestAsync(At(Record("arn:1", group: "g1"), "CVE-2024-9", now, now), default);
        await Alerts.IngestAsync(At(Record("arn:2", group: "g2", owner: "search"), "CVE-2024-9", now, now), default);
        await Alerts.IngestAsync(At(Record("arn:3", group: "g3"), "CVE-2024-10", now, now), default);
        Assert.Equal(["g1", "g2"], (await Alerts.GroupsOfVulnerabilityAsync("cve-2024-9", default)).Order());
        Assert.Equal(["g1", "g2"], (await Summaries.FindAsync("CVE-2024-9", default)).Select(g => g.Id).Order());
        Assert.Empty(await Alerts.GroupsOfVulnerabilityAsync("CVE-2024-11", default));
    }

    /// <summary>SLA planning reads only changed groups: a group leaves the list once planned, unless it changed again meanwhile.</summary>
    [Fact]
    public async Task ChangedGroupsStayListedUntilForgottenAndComeBackWhenTheyChangeAgain()
    {
        await Alerts.IngestAsync(Record("arn:1", group: "g1"), default);
        await Alerts.IngestAsync(Record("arn:2", group: "g2"), default);
        var listed = await Alerts.ChangedGroupsAsync(10, default);
        Assert.Equal(["g1", "g2"], listed.Select(c => c.GroupId).Order());
        Assert.Single(await Alerts.ChangedGroupsAsync(1, default));

        // g2 changes between listing and forgetting: it stays for the next pass.
        Assert.True(await StepAsync("g2", w => w with { State = GroupState.Acknowledged }));
        await Alerts.ForgetChangedAsync(listed, default);
        Assert.Equal(["g2"], (await Alerts.ChangedGroupsAsync(10, default)).Select(c => c.GroupId));
        await Alerts.ForgetChangedAsync(await Alerts.ChangedGroupsAsync(10, default), default);
        Assert.Empty(await Alerts.ChangedGroupsAsync(10, default));

        await Alerts.IngestAsync(Record("arn:1b", group: "g1", resource: "i-2"), default);
        Assert.Equal(["g1"], (await Alerts.ChangedGroupsAsync(10, default)).Select(c => c.GroupId));
    }

    /// <summary>The planning lease: one holder, renewed only by its holder, handed back by setting no time left.</summary>
    [Fact]
    public async Task ALeaseIsRenewedOnlyByItsHolder()
    {
        Assert.True(await Values.TrySetIfAbsentAsync("lease", "a", TimeSpan.FromMinutes(1), default));
        Assert.False(await Values.TrySetIfAbsentAsync("lease", "b", TimeSpan.FromMinutes(1), default));
        Assert.False(await Values.TryRenewAsync("lease", "b", TimeSpan.FromMinutes(1), default));
        Assert.True(await Values.TryRenewAsync("lease", "a", TimeSpan.FromMinutes(1), default));
        Assert.True(await Values.TryRenewAsync("lease", "a", TimeSpan.Zero, default));
        Assert.True(await Values.TrySetIfAbsentAsync("lease", "b", TimeSpan.FromMinutes(1), default));
    }

    [Fact]
    public async Task RateSlotsAreHandedOutOnePerIntervalAndAHeldSlotIsKeptForItsHolder()
    {
        var interval = TimeSpan.FromSeconds(1);
        var now = Time.GetUtcNow();
        Assert.Equal(now, await Values.ReserveSlotAsync("slack:C1", "a", interval, now, default));
        Assert.Equal(now + interval, await Values.ReserveSlotAsync("slack:C1", "b", interval, now, default));
        Assert.Equal(now + 2 * interval, await Values.ReserveSlotAsync("slack:C1", "c", interval, now, default));
        // Asking again before the slot comes neither moves it nor takes another.
        Assert.Equal(now + interval, await Values.ReserveSlotAsync("slack:C1", "b", interval, now + TimeSpan.FromMilliseconds(500), default));
        // Another channel has its own slots.
        Assert.Equal(now, await Values.ReserveSlotAsync("slack:C2", "b", interval, now, default));

        // b's slot has come: b gets it, once.
        var atB = now + interval;
        Assert.Equal(atB, await Values.ReserveSlotAsync("slack:C1", "b", interval, atB, default));
        Assert.Equal(now + 3 * interval, await Values.ReserveSlotAsync("slack:C1", "b", interval, atB, default));

        // c comes back too late: its slot lapsed, and it queues behind the slots taken since.
        var late = now + 2 * interval + TimeSpan.FromMilliseconds(1500);
        Assert.Equal(now + 4 * interval, await Values.ReserveSlotAsync("slack:C1", "c", interval, late, default));

        // Once the channel has been quiet for an interval, the next caller goes at once.
        var quiet = now + 10 * interval;
        Assert.Equal(quiet, await Values.ReserveSlotAsync("slack:C1", "d", interval, quiet, default));
    }

    [Fact]
    public async Task AHeldSlotWaitsAnIntervalAfterALateUseOfThePreviousOne()
    {
        var interval = TimeSpan.FromSeconds(1);
        var now = Time.GetUtcNow();
        Assert.Equal(now, await Values.ReserveSlotAsync("teams:C1", "a", interval, now, default));
        Assert.Equal(now + interval, await Values.ReserveSlotAsync("teams:C1", "b", interval, now, default));
        Assert.Equal(now + 2 * interval, await Values.ReserveSlotAsync("teams:C1", "c", interval, now, default));

        // b uses its slot 300 ms late; c, on time for its own, is held back to an interval after b.
        var bLate = now + interval + TimeSpan.FromMilliseconds(300);
        Assert.Equal(bLate, await Values.ReserveSlotAsync("teams:C1", "b", interval, bLate, default));
        var cOnTime = now + 2 * interval;
        Assert.Equal(bLate + interval, await Values.ReserveSlotAsync("teams:C1", "c", interval, cOnTime, default));
        Assert.Equal(bLate + interval, await Values.ReserveSlotAsync("teams:C1", "c", interval, bLate + interval, default));
    }
}

public sealed class InMemoryStoreContractTests : StoreContractTests
{
    private protected override Task<object> CreateStoreAsync() =>
        Task.FromResult<object>(new InMemoryStore(Time, Options.Create(new StateOptions())));
}

/// <summary>The contract on a single Redis.</summary>
public sealed class RedisStoreContractTests(RedisServer redis) : RedisBackedStoreContractTests, IClassFixture<RedisServer>
{
    protected override string ConnectionString => redis.ConnectionString;
}

/// <summary>
/// The same contract, unchanged, on a real three-master Redis Cluster: every script, MULTI and batch
/// keeps to one slot (a cross-slot call fails there with CROSSSLOT), and an owner's keys are spread.
/// </summary>
public sealed class ClusterStoreContractTests(RedisCluster cluster) : RedisBackedStoreContractTests, IClassFixture<RedisCluster>
{
    protected override string ConnectionString => cluster.ConnectionString;

    [Fact]
    public async Task KeysOfTwentyOwnersAreSpreadOverAllThreeShards()
    {
        var shards = new HashSet<int>();
        var owners = Enumerable.Range(1, 20).Select(i => "owner" + i).ToArray();
        foreach (var owner in owners)
        {
            for (var g = 0; g < 5; g++)
            {
                var group = owner + "-g" + g;
                Assert.Equal(IngestOutcome.New, await Alerts.IngestAsync(Record("arn:" + group, group: group, owner: owner, eventId: "e:" + group), default));
                shards.Add(await cluster.PortOfAsync(Connection, Store.Keys.Group(group)));
            }
        }
        Assert.Equal(cluster.Ports.Order(), shards.Order());
        // And the owner-wide reads, which span partitions, still see everything.
        Assert.Equal(owners.Order(), (await Alerts.OwnersAsync(default)).Order());
        Assert.Equal(5, (await Alerts.GroupIdsAsync("owner7", default)).Count);
        Assert.Equal(5, (await Summaries.SummariesAsync("owner7", default)).Count);
        Assert.Equal(100, await Queue.CountAsync(Queues.Groups, default));
        Assert.Equal(100, (await Queue.ClaimAsync(Queues.Groups, 500, TimeSpan.FromSeconds(30), Time.GetUtcNow(), default)).Count);
        Assert.Equal("owner3-g2", await Alerts.GroupOfFindingAsync("arn:owner3-g2", default));
    }

    [Fact]
    public async Task APrefixWithItsOwnHashTagDoesNotPutEveryKeyOnOneShard()
    {
        var tagged = "{" + RedisServer.UniquePrefix().TrimEnd(':') + "}:";
        var store = new RedisStore(Connection, Options.Create(new StateOptions { KeyPrefix = tagged }), Time);
        var shards = new HashSet<int>();
        for (var g = 0; g < 30; g++)
        {
            Assert.Equal(IngestOutcome.New, await store.IngestAsync(Record("arn:" + g, group: "grp" + g), default));
            var key = store.Keys.Group("grp" + g);
            Assert.StartsWith(tagged.Trim('{', '}').Replace("}", "", StringComparison.Ordinal), key.ToString(), StringComparison.Ordinal);
            shards.Add(await cluster.PortOfAsync(Connection, key));
        }
        Assert.Equal(3, shards.Count);
        Assert.Equal(30, (await store.GroupIdsAsync("payments", default)).Count);
    }

    [Fact]
    public async Task AClaimTakesAtMostTheRequestedNumberAcrossPartitions()
    {
        for (var g = 0; g < 40; g++)
        {
            await Alerts.IngestAsync(Record("arn:" + g, group: "grp" + g), default);
        }
        var first = await Queue.ClaimAsync(Queues.Groups, 7, TimeSpan.FromSeconds(30), Time.GetUtcNow(), default);
        Assert.Equal(7, first.Count);
        var rest = await Queue.ClaimAsync(Queues.Groups, 100, TimeSpan.FromSeconds(30), Time.GetUtcNow(), default);
        Assert.Equal(33, rest.Count);
        Assert.Empty(first.Select(i => i.Id).Intersect(rest.Select(i => i.Id)));
    }
}

/// <summary>What holds for the Redis store beyond the shared contract, on any Redis topology.</summary>
public abstract class RedisBackedStoreContractTests : StoreContractTests
{
    private ConnectionMultiplexer? _connection;
    private readonly string _prefix = RedisServer.UniquePrefix();

    protected abstract string ConnectionString { get; }

    private protected ConnectionMultiplexer Connection => _connection!;

    private protected RedisStore Store { get; private set; } = null!;

    private protected override async Task<object> CreateStoreAsync()
    {
        _connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
        Store = new RedisStore(_connection, Options.Create(new StateOptions { KeyPrefix = _prefix }), Time);
        return Store;
    }

    public override async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    /// <summary>
    /// Stats, SLA and show cost the same at 10 groups as at 2,000: counted with Redis's own
    /// INFO commandstats, the reads send a number of commands set by partitions, owners and matching
    /// groups, never by the number of groups stored.
    /// </summary>
    [Fact]
    public async Task StatsSlaAndShowDoNotReadEveryGroup()
    {
        const int groups = 2000;
        var now = Time.GetUtcNow();
        foreach (var chunk in Enumerable.Range(0, groups).Chunk(50))
        {
            await Task.WhenAll(chunk.Select(i => Alerts.IngestAsync(
                At(Record($"arn:{i}", group: $"grp{i}", owner: i % 2 == 0 ? "payments" : "search"), i < 3 ? "CVE-2099-1" : $"CVE-2024-{i}", now, now.AddHours(i % 48 - 24)), default)));
        }

        await using var admin = await ConnectionMultiplexer.ConnectAsync(ConnectionString + ",allowAdmin=true");
        var before = await CommandCallsAsync(admin);
        var counts = await Alerts.CountsAsync(["payments", "search"], now, default);
        var due = await Alerts.DueGroupIdsAsync(["payments", "search"], now.AddHours(24), 10, default);
        var shown = await Summaries.FindAsync("CVE-2099-1", default);
        var used = await CommandCallsAsync(admin) - before;

        Assert.Equal(groups, counts.Sum(c => c.Open));
        Assert.Equal(10, due.Count);
        Assert.Equal(3, shown.Count);
        // Partitions × (counter hash + 2 owners × 2 counts + 2 owners' due ranges + vulnerability index) + 2 reads per shown group,
        // plus the commandstats calls themselves: a few hundred at most, against 2,000 groups that a full read would touch.
        var bound = Store.Keys.Partitions * (1 + 4 + 2 + 1) + 3 * 2 + 30;
        Assert.InRange(used, 1, bound);
        Assert.True(bound < groups / 10);
    }

    private static async Task<long> CommandCallsAsync(ConnectionMultiplexer admin)
    {
        long total = 0;
        foreach (var endpoint in admin.GetEndPoints())
        {
            var server = admin.GetServer(endpoint);
            if (server.IsReplica)
            {
                continue;
            }
            var info = await server.InfoAsync("commandstats");
            foreach (var pair in info.SelectMany(g => g))
            {
                // cmdstat_hgetall: calls=12,usec=...
                var calls = pair.Value.Split(',')[0];
                total += long.Parse(calls["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return total;
    }

    [Fact]
    public async Task ASavedSummaryIsUsedOnlyWhileTheGroupIsUnchanged()
    {
        await Alerts.IngestAsync(Record("arn:1"), default);
        var db = _connection!.GetDatabase();
        var key = Store.Keys.Group("g000000001");
        Assert.Equal(GroupState.New, Assert.Single(await Summaries.SummariesAsync("payments", default)).State);
        await TestApp.Eventually(async () => await db.HashExistsAsync(key, "sum"), "summary saved");

        // A saved summary that no longer matches the group is not believed.
        var group = (await Alerts.GetGroupAsync("g000000001", default))!;
        var audit = new AuditRecord { At = Time.GetUtcNow(), Action = "acknowledged", ActorPlatform = "slack", ActorId = "U1", ActorName = "Ana" };
        Assert.True(await Alerts.TryUpdateWorkflowAsync(group.Id, group.Version, group.Workflow with { State = GroupState.Acknowledged }, audit, default));
        Assert.Equal(GroupState.Acknowledged, Assert.Single(await Summaries.SummariesAsync("payments", default)).State);

        // One that matches is read as saved: planting a different state shows it is not recomputed.
        await TestApp.Eventually(async () => (await db.HashGetAsync(key, "sum")).ToString().Contains("acknowledged", StringComparison.OrdinalIgnoreCase), "new summary saved");
        var saved = (await db.HashGetAsync(key, "sum")).ToString();
        await db.HashSetAsync(key, "sum", saved.Replace("acknowledged", "patching", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(GroupState.Patching, Assert.Single(await Summaries.SummariesAsync("payments", default)).State);

        // An expired group is not brought back by a late summary.
        await db.KeyDeleteAsync(key);
        Assert.Empty(await Summaries.SummariesAsync("payments", default));
        Alerts.RememberSummary(group);
        await Alerts.PingAsync(default);
        Assert.False(await db.KeyExistsAsync(key));
    }

    [Fact]
    public async Task ASummaryRememberedAfterAFullReadServesTheNextList()
    {
        await Alerts.IngestAsync(Record("arn:1"), default);
        await Alerts.IngestAsync(Record("arn:2", resource: "i-2"), default);
        var db = _connection!.GetDatabase();
        var key = Store.Keys.Group("g000000001");
        var group = (await Alerts.GetGroupAsync("g000000001", default))!;
        Assert.Equal("2:0", group.Stamp);
        Alerts.RememberSummary(group);
        await TestApp.Eventually(async () => (await db.HashGetAsync(key, "sumstamp")) == "2:0", "summary remembered");
    }

    [Fact]
    public async Task ResolvedGroupsGetATimeToLiveAndReopenedOnesLoseIt()
    {
        await Alerts.IngestAsync(Record("arn:1"), default);
        var group = (await Alerts.GetGroupAsync("g000000001", default))!;
        var audit = new AuditRecord { At = Time.GetUtcNow(), Action = "resolved", ActorPlatform = "system", ActorId = "s", ActorName = "s" };
        Assert.True(await Alerts.TryUpdateWorkflowAsync(group.Id, group.Version, group.Workflow with { State = GroupState.Resolved }, audit, default));
        var key = Store.Keys.Group("g000000001");
        var ttl = await _connection!.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.True(ttl > TimeSpan.FromDays(80));
        Assert.True(await Alerts.TryUpdateWorkflowAsync(group.Id, group.Version + 1, group.Workflow with { State = GroupState.New }, audit, default));
        Assert.Null(await _connection.GetDatabase().KeyTimeToLiveAsync(key));
    }
}
