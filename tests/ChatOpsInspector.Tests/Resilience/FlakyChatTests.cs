using System.Text.Json.Nodes;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Resilience;

public sealed class FlakyChatTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task EveryCardIsPostedExactlyOnceWhenChatRefusesThirtyPercentOfCalls()
    {
        await using var chat = await FlakyChatApi.StartAsync(failuresPerTen: 3);
        await using var app = ResilienceRig.Bot(redis.ConnectionString, RedisServer.UniquePrefix(), chat);
        const int groups = 30;
        var batch = new JsonArray(Enumerable.Range(0, groups * 3).Select(i => JsonNode.Parse(ResilienceRig.Event("flaky", i, groups))).ToArray());
        Assert.Equal(202, (int)(await app.PostEventsAsync(batch.ToJsonString())).StatusCode);

        var queue = app.Service<IWorkQueue>();
        await TestApp.Eventually(async () => chat.Cards.Count == groups && await queue.CountAsync(Queues.Groups, default) == 0,
            "every group posted and the queue drained", 20_000);

        Assert.True(chat.Refused > 0, "the fake refused no call; the test proves nothing");
        Assert.All(chat.Cards, card => Assert.Equal(1, card.Value));
        var store = app.Service<IAlertStore>();
        foreach (var owner in await store.OwnersAsync(default))
        {
            foreach (var id in await store.GroupIdsAsync(owner, default))
            {
                Assert.True((await store.GetGroupAsync(id, default))!.Cards.ContainsKey("test"), $"group {id} has no card ref");
            }
        }
    }
}
