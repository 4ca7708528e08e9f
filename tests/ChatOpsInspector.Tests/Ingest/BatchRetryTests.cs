using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.Ingest;

/// <summary>
/// A batch's findings live in different groups, hence different Redis hash slots, so one batch cannot be
/// one atomic script on a cluster. The contract is therefore "idempotently retryable": a store failure
/// part-way answers 503 with Retry-After (EventBridge and SQS redeliver the whole batch), each finding's
/// write is one script whose dedupe markers are written last, and the redelivery stores exactly the rest
/// of the batch and counts what was already stored as duplicates — never a finding twice, never one lost.
/// </summary>
public sealed class BatchRetryTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly string[] Names = ["batch-a", "batch-b", "batch-c", "batch-d"];

    private static string Batch(string tag) => new JsonArray(Names.Select((n, i) =>
        (JsonNode)FindingEvents.Ec2(n + tag, cve: $"CVE-2026-{4100 + i}", instanceId: $"i-{i + 1:x17}", eventId: $"evt-{n}{tag}")).ToArray()).ToJsonString();

    private static async Task<(int Accepted, int Duplicates, int Ignored)> Summary(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        return (root.GetProperty("accepted").GetInt32(), root.GetProperty("duplicates").GetInt32(), root.GetProperty("ignored").GetInt32());
    }

    /// <summary>Each finding of the batch is in its group exactly once, and the owner lists exactly the batch's groups.</summary>
    private static async Task AssertStoredOnce(IAlertStore store, string tag)
    {
        var groups = new List<string>();
        foreach (var name in Names)
        {
            var arn = FindingEvents.Arn(name + tag);
            var groupId = await store.GroupOfFindingAsync(arn, default);
            Assert.NotNull(groupId);
            var group = (await store.GetGroupAsync(groupId!, default))!;
            Assert.Equal(arn, Assert.Single(group.Members).FindingArn);
            groups.Add(groupId!);
        }
        var owner = Assert.Single(await store.OwnersAsync(default));
        Assert.Equal(groups.Order(StringComparer.Ordinal), (await store.GroupIdsAsync(owner, default)).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Production condition: Redis drops the connection after two of a batch's four findings were
    /// written (injected at the store seam, between two scripts). The sender is told to redeliver, and
    /// its redelivery of the same batch stores the other two and reports the first two as duplicates.
    /// </summary>
    [Fact]
    public async Task AStoreFailureHalfwayThroughABatchIs503AndTheRedeliveryStoresExactlyTheRest()
    {
        var faults = new FailingIngest(failOnCall: 3);
        await using var app = new TestApp(TestApp.WithRedis(redis), services =>
            services.AddSingleton<IAlertStore>(sp => faults.Wrap(sp.GetRequiredService<RedisStore>())));
        var store = app.Service<RedisStore>();

        var failed = await app.PostEventsAsync(Batch("-seam"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.NotNull(failed.Headers.RetryAfter);
        Assert.Equal(3, faults.Calls); // the failure was the third write, not a refusal before any write
        Assert.NotNull(await store.GroupOfFindingAsync(FindingEvents.Arn("batch-a-seam"), default));
        Assert.Null(await store.GroupOfFindingAsync(FindingEvents.Arn("batch-c-seam"), default));
        Assert.Null(await store.GroupOfFindingAsync(FindingEvents.Arn("batch-d-seam"), default));

        faults.Healed = true;
        Assert.Equal((2, 2, 0), await Summary(await app.PostEventsAsync(Batch("-seam"))));
        await AssertStoredOnce(store, "-seam");
        // Any further redelivery changes nothing.
        Assert.Equal((0, 4, 0), await Summary(await app.PostEventsAsync(Batch("-seam"))));
        await AssertStoredOnce(store, "-seam");
    }

    /// <summary>
    /// Production condition: a script fails part-way inside Redis (here an ACL user who may not ZADD, so
    /// the ingest script stops after writing the finding's member and group fields). Redis keeps a
    /// script's earlier writes, so the dedupe markers come last: the batch is 503, no finding of it counts
    /// as stored, and the redelivery — by a user with full rights on the same keys — stores all four once.
    /// </summary>
    [Fact]
    public async Task AScriptThatFailsPartWayLeavesNoFindingMarkedStoredAndTheRedeliveryStoresTheWholeBatchOnce()
    {
        var suffix = Guid.NewGuid().ToString("n")[..8];
        var prefix = RedisServer.UniquePrefix();
        await using (var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true"))
        {
            var server = admin.GetServer("127.0.0.1", redis.Port);
            await server.ExecuteAsync("ACL", "SETUSER", "nozadd" + suffix, "on", ">nozadd-pass", "~*", "&*", "+@all", "-zadd");
            await server.ExecuteAsync("ACL", "SETUSER", "full" + suffix, "on", ">full-pass", "~*", "&*", "+@all", "-@dangerous");
        }
        Dictionary<string, string?> As(string user, string password) => new()
        {
            ["State:Redis"] = redis.ConnectionString,
            ["State:KeyPrefix"] = prefix,
            ["State:User"] = user + suffix,
            ["State:Password"] = password,
        };
        await using var limited = new TestApp(As("nozadd", "nozadd-pass"));
        await using var full = new TestApp(As("full", "full-pass"));
        var store = full.Service<IAlertStore>();

        var failed = await limited.PostEventsAsync(Batch("-acl"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.NotNull(failed.Headers.RetryAfter);
        foreach (var name in Names)
        {
            Assert.Null(await store.GroupOfFindingAsync(FindingEvents.Arn(name + "-acl"), default));
        }

        Assert.Equal((4, 0, 0), await Summary(await full.PostEventsAsync(Batch("-acl"))));
        await AssertStoredOnce(store, "-acl");
        Assert.Equal((0, 4, 0), await Summary(await full.PostEventsAsync(Batch("-acl"))));
    }

    /// <summary>The store seam: the real Redis store, with one ingest call failing as a dropped connection would.</summary>
    private sealed class FailingIngest(int failOnCall)
    {
        private readonly int _failOnCall = failOnCall;
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public bool Healed { get; set; }

        public IAlertStore Wrap(IAlertStore inner) => new Store(inner, this);

        private sealed class Store(IAlertStore inner, FailingIngest faults) : IAlertStore
        {
            public Task<IngestOutcome> IngestAsync(IngestRecord record, CancellationToken cancellationToken)
            {
                var call = Interlocked.Increment(ref faults._calls);
                return !faults.Healed && call == faults._failOnCall
                    ? throw new RedisConnectionException(ConnectionFailureType.SocketClosed, CommandFlags.None, "injected: connection lost mid-batch", null, CommandStatus.Unknown)
                    : inner.IngestAsync(record, cancellationToken);
            }

            public Task<AlertGroup?> GetGroupAsync(string groupId, CancellationToken cancellationToken) => inner.GetGroupAsync(groupId, cancellationToken);

            public Task<IReadOnlyList<string>> GroupIdsAsync(string owner, CancellationToken cancellationToken) => inner.GroupIdsAsync(owner, cancellationToken);

            public Task<IReadOnlyList<SavedSummary>> SavedSummariesAsync(string owner, CancellationToken cancellationToken) => inner.SavedSummariesAsync(owner, cancellationToken);

            public void RememberSummary(AlertGroup group) => inner.RememberSummary(group);

            public Task<IReadOnlyList<string>> OwnersAsync(CancellationToken cancellationToken) => inner.OwnersAsync(cancellationToken);

            public Task<bool> TryUpdateWorkflowAsync(string groupId, long expectedVersion, WorkflowState next, AuditRecord audit, CancellationToken cancellationToken) =>
                inner.TryUpdateWorkflowAsync(groupId, expectedVersion, next, audit, cancellationToken);

            public Task SetCardRefAsync(string groupId, ChatMessageRef card, CancellationToken cancellationToken) => inner.SetCardRefAsync(groupId, card, cancellationToken);

            public Task<string?> GroupOfFindingAsync(string findingArn, CancellationToken cancellationToken) => inner.GroupOfFindingAsync(findingArn, cancellationToken);

            public Task<bool> PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

            public Task<IReadOnlyList<OwnerCounts>> CountsAsync(IReadOnlyCollection<string> owners, DateTimeOffset now, CancellationToken cancellationToken) =>
                inner.CountsAsync(owners, now, cancellationToken);

            public Task<IReadOnlyList<string>> DueGroupIdsAsync(IReadOnlyCollection<string> owners, DateTimeOffset until, int max, CancellationToken cancellationToken) =>
                inner.DueGroupIdsAsync(owners, until, max, cancellationToken);

            public Task<IReadOnlyList<string>> GroupsOfVulnerabilityAsync(string vulnerabilityId, CancellationToken cancellationToken) =>
                inner.GroupsOfVulnerabilityAsync(vulnerabilityId, cancellationToken);

            public Task<IReadOnlyList<ChangedGroup>> ChangedGroupsAsync(int max, CancellationToken cancellationToken) => inner.ChangedGroupsAsync(max, cancellationToken);

            public Task ForgetChangedAsync(IReadOnlyList<ChangedGroup> seen, CancellationToken cancellationToken) => inner.ForgetChangedAsync(seen, cancellationToken);
        }
    }
}
