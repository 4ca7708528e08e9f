using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.State;

/// <summary>
/// The errors a real cluster gives a caller that breaks its rules, or whose scripts fail, are store
/// unavailability (503 + Retry-After at the edge), not bugs answered 500. Each is provoked for real.
/// </summary>
public sealed class StoreFailureTests(RedisCluster cluster) : IClassFixture<RedisCluster>
{
    [Fact]
    public async Task ACrossSlotCommandOnAClusterIsAStoreFailure()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        // Two keys without a common tag: the client refuses before sending (it knows the slot map).
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            connection.GetDatabase().StringSetAsync([new("a-" + Guid.NewGuid(), "1"), new("b-" + Guid.NewGuid(), "1")]));
        Assert.Contains("slot", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(StoreFailures.IsStoreFailure(error), error.GetType().Name);
    }

    [Fact]
    public async Task AnErrorInsideAScriptAndAnUnknownScriptAreStoreFailures()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var db = connection.GetDatabase();
        RedisKey key = "{t}" + Guid.NewGuid();
        await db.HashSetAsync(key, "f", "v");
        var inScript = await Assert.ThrowsAnyAsync<Exception>(() => db.ScriptEvaluateAsync("return redis.call('INCR', KEYS[1])", [key]));
        Assert.True(StoreFailures.IsStoreFailure(inScript), inScript.GetType().Name);
        var noScript = await Assert.ThrowsAnyAsync<Exception>(() => db.ExecuteAsync("EVALSHA", new string('0', 40), 1, key));
        Assert.Contains("NOSCRIPT", noScript.Message, StringComparison.Ordinal);
        Assert.True(StoreFailures.IsStoreFailure(noScript), noScript.GetType().Name);
    }

    [Fact]
    public void ACallerBugIsNotAStoreFailure()
    {
        Assert.False(StoreFailures.IsStoreFailure(new InvalidOperationException("bug")));
        Assert.True(StoreFailures.IsStoreFailure(new AggregateException(new TimeoutException("no answer"))));
    }
}
