using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Resilience;

public sealed class RedisOutageTests(DurableRedis redis) : IClassFixture<DurableRedis>
{
    [Fact]
    public async Task EventsAcceptedBeforeAndRetriedAfterARedisOutageAreAllStoredAndPostedOnce()
    {
        await using var chat = await FlakyChatApi.StartAsync();
        await using var app = ResilienceRig.Bot(redis.ConnectionString, RedisServer.UniquePrefix(), chat);
        const int count = 90, groups = 9;
        var outcomes = new List<int>[count];

        for (var i = 0; i < 30; i++)
        {
            outcomes[i] = await ResilienceRig.SendUntilAcceptedAsync(app, ResilienceRig.Event("outage", i, groups), TimeSpan.FromSeconds(10));
        }
        redis.Kill();
        var whileDown = new List<int>();
        for (var i = 30; i < 60; i++)
        {
            whileDown.Add((int)(await app.PostEventsAsync(ResilienceRig.Event("outage", i, groups))).StatusCode);
        }
        await redis.StartAsync();
        for (var i = 30; i < count; i++)
        {
            outcomes[i] = await ResilienceRig.SendUntilAcceptedAsync(app, ResilienceRig.Event("outage", i, groups), TimeSpan.FromSeconds(15));
        }

        Assert.All(whileDown, s => Assert.Equal(503, s));
        Assert.All(outcomes, o => Assert.Equal(202, o[^1]));
        var store = app.Service<IAlertStore>();
        for (var i = 0; i < count; i++)
        {
            Assert.NotNull(await store.GroupOfFindingAsync(ResilienceRig.Arn("outage", i), default));
        }
        await TestApp.Eventually(() => Task.FromResult(chat.Cards.Count == groups), "a card for every group", 15_000);
        Assert.All(chat.Cards.Values, n => Assert.Equal(1, n));
    }
}
