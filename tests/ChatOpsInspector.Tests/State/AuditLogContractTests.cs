using System.Security.Cryptography;
using System.Text;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.State;

/// <summary>
/// The audit log as evidence: every record hash-chained to its predecessor, exports that start at
/// <c>from</c> and page with a cursor, on memory, a single Redis and a Redis Cluster alike.
/// </summary>
public abstract class AuditLogContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 0, 0, TimeSpan.Zero);

    protected FakeTimeProvider Time { get; } = new(T0);

    private protected IAuditLog Audit { get; private set; } = null!;

    private protected abstract Task<IAuditLog> CreateAsync();

    public async Task InitializeAsync() => Audit = await CreateAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private protected static AuditRecord Record(int i, DateTimeOffset at, string? group = null) => new()
    {
        At = at, Action = "acknowledged", ActorPlatform = "slack", ActorWorkspace = "T0001", ActorId = "U" + i, ActorName = "user " + i,
        GroupId = group ?? $"group{i % 7:00000000000000000000000000000}", Owner = "payments", Detail = new string('x', i * 13 % 200),
    };

    [Fact]
    public async Task RecordsSpreadOverEveryPartitionVerifyAsOneIntactChainEach()
    {
        for (var i = 0; i < 40; i++)
        {
            await Audit.AppendAsync(Record(i, T0.AddSeconds(i)), default);
        }

        var result = await Audit.VerifyAsync(default);

        Assert.True(result.Intact, result.FirstBroken?.Reason);
        Assert.Equal(40, result.Checked);
        Assert.All(result.Chains.Where(c => c.Records > 0), c => Assert.Equal(AuditChain.Genesis, c.FirstPrevHash));
    }

    [Fact]
    public async Task AnExportPagedByCursorReturnsEveryRecordInRangeExactlyOnce()
    {
        for (var i = 0; i < 37; i++)
        {
            await Audit.AppendAsync(Record(i, T0.AddMinutes(i)), default);
        }
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Audit.ReadPageAsync(T0.AddMinutes(3), T0.AddMinutes(35), 10, cursor, default);
            Assert.True(page.Records.Count <= 10);
            seen.AddRange(page.Records.Select(r => r.Record.ActorId));
            cursor = page.Next;
            pages++;
        }
        while (cursor is not null && pages < 20);

        Assert.Equal(Enumerable.Range(3, 32).Select(i => "U" + i).Order(), seen.Order());
        Assert.InRange(pages, 4, 5);
    }

    [Fact]
    public async Task AReadFromATimeReturnsOnlyRecordsFromThen()
    {
        for (var i = 0; i < 30; i++)
        {
            await Audit.AppendAsync(Record(i, T0.AddDays(i)), default);
        }

        var page = await Audit.ReadPageAsync(T0.AddDays(25), DateTimeOffset.MaxValue, 100, null, default);

        Assert.Equal(["U25", "U26", "U27", "U28", "U29"], page.Records.Select(r => r.Record.ActorId));
        Assert.Null(page.Next);
        Assert.All(page.Records, r => Assert.NotNull(r.Hash));
    }
}

public sealed class InMemoryAuditLogContractTests : AuditLogContractTests
{
    private protected override Task<IAuditLog> CreateAsync() => Task.FromResult<IAuditLog>(new InMemoryStore(Time, Options.Create(new StateOptions())));
}

public sealed class RedisAuditLogContractTests(RedisServer redis) : RedisBackedAuditLogContractTests, IClassFixture<RedisServer>
{
    protected override string ConnectionString => redis.ConnectionString;
}

/// <summary>On a three-master cluster: the append script names the stream and its chain head, both under the partition's tag.</summary>
public sealed class ClusterAuditLogContractTests(RedisCluster cluster) : RedisBackedAuditLogContractTests, IClassFixture<RedisCluster>
{
    protected override string ConnectionString => cluster.ConnectionString;
}

public abstract class RedisBackedAuditLogContractTests : AuditLogContractTests
{
    private readonly string _prefix = RedisServer.UniquePrefix();
    private readonly List<ConnectionMultiplexer> _connections = [];

    protected abstract string ConnectionString { get; }

    private protected RedisStore Store { get; private set; } = null!;

    private protected async Task<RedisStore> NewStoreAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
        _connections.Add(connection);
        return new RedisStore(connection, Options.Create(new StateOptions { KeyPrefix = _prefix }), Time);
    }

    private protected override async Task<IAuditLog> CreateAsync() => Store = await NewStoreAsync();

    public override async Task DisposeAsync()
    {
        foreach (var c in _connections)
        {
            await c.DisposeAsync();
        }
    }

    private IDatabase Db => _connections[0].GetDatabase();

    private const string OneGroup = "0123456789abcdef0123456789abcdef";

    private async Task<StreamEntry[]> EntriesAsync() =>
        await Db.StreamRangeAsync(Store.Keys.Audit(Store.Keys.PartitionOf(OneGroup)), "-", "+");

    [Fact]
    public async Task TheScriptsSha256IsDotnetsSha256OverThePredecessorAndTheStoredBytes()
    {
        // Lengths around SHA-256's 64-byte blocks and its 55/56-byte padding edge, and multi-byte UTF-8.
        var details = new[] { "", "a", new string('b', 55), new string('c', 56), new string('d', 63), new string('e', 64), new string('f', 119), "Zürich ✓ 日本", new string('g', 5000) };
        foreach (var (detail, i) in details.Select((d, i) => (d, i)))
        {
            await Audit.AppendAsync(Record(i, T0.AddSeconds(i), OneGroup) with { Detail = detail }, default);
        }

        var entries = await EntriesAsync();

        Assert.Equal(details.Length, entries.Length);
        var prev = AuditChain.Genesis;
        foreach (var entry in entries)
        {
            var bytes = (byte[])entry["r"]!;
            var expected = Convert.ToHexStringLower(SHA256.HashData([.. Encoding.ASCII.GetBytes(prev + "\n"), .. bytes]));
            Assert.Equal(prev, entry["p"].ToString());
            Assert.Equal(expected, entry["h"].ToString());
            prev = expected;
        }
    }

    [Fact]
    public async Task StreamIdsFollowTheRecordsTimeAndNeverGoBack()
    {
        await Audit.AppendAsync(Record(1, T0.AddMinutes(10), OneGroup), default);
        // A replica whose clock is behind: its record is filed just after the newest one, not before it.
        await Audit.AppendAsync(Record(2, T0.AddMinutes(5), OneGroup), default);
        await Audit.AppendAsync(Record(3, T0.AddMinutes(20), OneGroup), default);

        var ids = (await EntriesAsync()).Select(e => e.Id.ToString()).ToArray();

        var ms = T0.AddMinutes(10).ToUnixTimeMilliseconds();
        Assert.Equal([$"{ms}-0", $"{ms}-1", $"{T0.AddMinutes(20).ToUnixTimeMilliseconds()}-0"], ids);
        Assert.Equal(["U2"], (await Audit.ReadPageAsync(T0.AddMinutes(4), T0.AddMinutes(6), 10, null, default)).Records.Select(r => r.Record.ActorId));
    }

    /// <summary>
    /// What someone with write access to Redis would do to change history: rebuild the stream with the
    /// same ids and one record edited. Streams cannot be edited in place, so this is the whole attack.
    /// </summary>
    [Fact]
    public async Task ARecordAlteredInRedisIsReportedAsTheFirstBrokenLink()
    {
        for (var i = 0; i < 5; i++)
        {
            await Audit.AppendAsync(Record(i, T0.AddMinutes(i), OneGroup), default);
        }
        var entries = await EntriesAsync();
        var key = Store.Keys.Audit(Store.Keys.PartitionOf(OneGroup));
        await Db.KeyDeleteAsync(key);
        foreach (var (entry, i) in entries.Select((e, i) => (e, i)))
        {
            var record = entry["r"].ToString();
            if (i == 2)
            {
                record = record.Replace("\"actorId\":\"U2\"", "\"actorId\":\"U_SOMEONE_ELSE\"", StringComparison.Ordinal);
                Assert.Contains("U_SOMEONE_ELSE", record, StringComparison.Ordinal);
            }
            await Db.ExecuteAsync("XADD", key, entry.Id, "r", record, "p", entry["p"], "h", entry["h"]);
        }

        var result = await Audit.VerifyAsync(default);

        Assert.False(result.Intact);
        Assert.Equal(entries[2].Id.ToString(), result.FirstBroken!.Id);
        Assert.Contains("altered", result.FirstBroken.Reason, StringComparison.Ordinal);
        Assert.Equal(entries[2]["h"].ToString(), result.FirstBroken.Found);
    }

    [Fact]
    public async Task ARecordDeletedFromRedisIsReportedAtTheRecordAfterIt()
    {
        for (var i = 0; i < 4; i++)
        {
            await Audit.AppendAsync(Record(i, T0.AddMinutes(i), OneGroup), default);
        }
        var entries = await EntriesAsync();
        await Db.StreamDeleteAsync(Store.Keys.Audit(Store.Keys.PartitionOf(OneGroup)), [entries[1].Id]);

        var result = await Audit.VerifyAsync(default);

        Assert.False(result.Intact);
        Assert.Equal(entries[2].Id.ToString(), result.FirstBroken!.Id);
        Assert.Contains("previous-hash", result.FirstBroken.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoReplicasAppendingAtOnceKeepOneChain()
    {
        var other = await NewStoreAsync();
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            (i % 2 == 0 ? Store : other).AppendAsync(Record(i, T0.AddMilliseconds(i % 3), OneGroup), default)));

        var result = await Audit.VerifyAsync(default);

        Assert.True(result.Intact, result.FirstBroken?.Reason);
        Assert.Equal(200, result.Checked);
        Assert.Equal(200, (await EntriesAsync()).Length);
    }

    [Fact]
    public async Task RecordsWrittenBeforeChainingStillReadAndCountAsUnchained()
    {
        var key = Store.Keys.Audit(Store.Keys.PartitionOf(OneGroup));
        // An entry as earlier versions wrote it: XADD * with the record alone, in the old record shape.
        await Db.StreamAddAsync(key, "r", """{"at":"2026-11-02T08:00:00+00:00","action":"acknowledged","actorPlatform":"slack","actorId":"UOLD","actorName":"old","groupId":"0123456789abcdef0123456789abcdef","outcome":"ok"}""");
        await Audit.AppendAsync(Record(1, DateTimeOffset.UtcNow.AddMinutes(1), OneGroup), default);

        var result = await Audit.VerifyAsync(default);
        var all = await Audit.ReadPageAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, 10, null, default);

        Assert.True(result.Intact, result.FirstBroken?.Reason);
        Assert.Equal(1, result.Unchained);
        Assert.Equal(1, result.Checked);
        Assert.Equal(["UOLD", "U1"], all.Records.Select(r => r.Record.ActorId));
        Assert.Null(all.Records[0].Hash);
    }
}
