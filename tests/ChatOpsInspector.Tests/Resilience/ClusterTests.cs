using System.Net;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.Resilience;

/// <summary>
/// The bot, unchanged, on a real three-master Redis Cluster: what ElastiCache and MemoryDB in cluster
/// mode give. Default settings (no hash tag in the prefix) must work and spread over the shards.
/// </summary>
public sealed class ClusterTests(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    [Fact]
    public async Task TwoBotsOnAClusterPostEachCardOnceAndEachReminderOnce()
    {
        await using var chat = await FlakyChatApi.StartAsync();
        var prefix = RedisServer.UniquePrefix();
        var fast = new Dictionary<string, string?>
        {
            ["Sla:Scheduler:PollInterval"] = "00:00:00.100",
            ["Sla:Scheduler:ScanInterval"] = "00:00:00.200",
        };
        await using var a = ResilienceRig.Bot(cluster.ConnectionString, prefix, chat, fast);
        await using var b = ResilienceRig.Bot(cluster.ConnectionString, prefix, chat, fast);
        Assert.Equal(HttpStatusCode.OK, (await a.Client().GetAsync("/readyz")).StatusCode);
        const int groups = 20;
        // Seen 13 hours ago: a critical finding's 24-hour SLA is past its 50 % reminder.
        var seen = DateTimeOffset.UtcNow.AddHours(-13);
        for (var i = 0; i < groups * 2; i++)
        {
            var app = i % 2 == 0 ? a : b;
            Assert.Equal(202, (int)(await app.PostEventsAsync(ResilienceRig.Event("cluster", i, groups, seen))).StatusCode);
        }

        await TestApp.Eventually(() => Task.FromResult(chat.Cards.Count == groups), "a card for every group", 15_000);
        await TestApp.Eventually(() => Task.FromResult(chat.Notes.Select(n => n.Group).Distinct().Count() == groups), "a reminder for every group", 15_000);
        var queue = a.Service<IWorkQueue>();
        await TestApp.Eventually(async () => await queue.CountAsync(Queues.Outbox, default) == 0, "outbox drained", 10_000);
        await TestApp.Eventually(async () => await queue.CountAsync(Queues.Groups, default) == 0, "groups drained", 10_000);
        Assert.All(chat.Cards.Values, n => Assert.Equal(1, n));
        var repeated = chat.Notes.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => $"{g.Key.Group}: {g.Key.Text}").ToArray();
        Assert.True(repeated.Length == 0, "posted twice: " + string.Join(" | ", repeated));

        // The groups really are on every shard: the cluster is not a single shard in disguise.
        var store = a.Service<RedisStore>();
        var ids = await store.GroupIdsAsync("unrouted", default);
        Assert.Equal(groups, ids.Count);
        await using var probe = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var shards = new HashSet<int>();
        foreach (var id in ids)
        {
            shards.Add(await cluster.PortOfAsync(probe, store.Keys.Group(id)));
        }
        Assert.Equal(3, shards.Count);
    }

    [Fact]
    public async Task AnAclUserWithoutScriptingIsNotReadyAndIngestAnswers503NotA500() =>
        await AclUserWithoutScriptingAsync(cluster.ConnectionString, cluster.OnEveryNodeAsync);

    /// <summary>
    /// An ACL user who may PING and write but not run scripts (a common ElastiCache access string
    /// mistake): /readyz must say so, since ingest runs a script, and ingest must ask for redelivery.
    /// A second user with scripting rights on the same server is ready, so the refusal is for scripting.
    /// </summary>
    internal static async Task AclUserWithoutScriptingAsync(string connectionString, Func<Func<IServer, Task>, Task> onEveryNode)
    {
        var suffix = Guid.NewGuid().ToString("n")[..8];
        var limited = "noscript" + suffix;
        var full = "full" + suffix;
        var prefix = RedisServer.UniquePrefix();
        await onEveryNode(async server =>
        {
            await server.ExecuteAsync("ACL", "SETUSER", limited, "on", ">limited-pass", "~*", "&*", "+@all", "-@scripting");
            // The access string the README recommends, limited to the prefix.
            await server.ExecuteAsync("ACL", "SETUSER", full, "on", ">full-pass", "~" + prefix + "*", "&*", "+@all", "-@dangerous");
        });
        await using var refused = new TestApp(new Dictionary<string, string?>
        {
            ["State:Redis"] = connectionString,
            ["State:KeyPrefix"] = prefix,
            ["State:User"] = limited,
            ["State:Password"] = "limited-pass",
        });
        await using var allowed = new TestApp(new Dictionary<string, string?>
        {
            ["State:Redis"] = connectionString,
            ["State:KeyPrefix"] = prefix,
            ["State:User"] = full,
            ["State:Password"] = "full-pass",
        });
        await TestApp.Eventually(async () => (await allowed.Client().GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "full user ready");
        Assert.True(await refused.Service<IAlertStore>().OwnersAsync(default) is not null, "the limited user can read");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await refused.Client().GetAsync("/readyz")).StatusCode);

        var answer = await refused.PostEventsAsync(FindingEvents.Ec2("acl-1").ToJsonString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.NotNull(answer.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.Accepted, (await allowed.PostEventsAsync(FindingEvents.Ec2("acl-1").ToJsonString())).StatusCode);
    }
}

public sealed class SingleRedisAclTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task AnAclUserWithoutScriptingIsNotReadyAndIngestAnswers503NotA500() =>
        await ClusterTests.AclUserWithoutScriptingAsync(redis.ConnectionString, async action =>
        {
            await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
            await action(admin.GetServer("127.0.0.1", redis.Port));
        });
}
