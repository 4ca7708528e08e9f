using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Resilience;

public sealed class TwoInstancesTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task TwoBotsOnOneRedisPostEachCardOnceAndEachReminderOnce()
    {
        await using var chat = await FlakyChatApi.StartAsync();
        var prefix = RedisServer.UniquePrefix();
        var fast = new Dictionary<string, string?>
        {
            ["Sla:Scheduler:PollInterval"] = "00:00:00.100",
            ["Sla:Scheduler:ScanInterval"] = "00:00:00.200",
        };
        await using var a = ResilienceRig.Bot(redis.ConnectionString, prefix, chat, fast);
        await using var b = ResilienceRig.Bot(redis.ConnectionString, prefix, chat, fast);
        const int groups = 20;
        // Seen 13 hours ago: a critical finding's 24-hour SLA is past its 50 % reminder.
        var seen = DateTimeOffset.UtcNow.AddHours(-13);
        for (var i = 0; i < groups * 2; i++)
        {
            var app = i % 2 == 0 ? a : b;
            Assert.Equal(202, (int)(await app.PostEventsAsync(ResilienceRig.Event("pair", i, groups, seen))).StatusCode);
        }

        await TestApp.Eventually(() => Task.FromResult(chat.Cards.Count == groups), "a card for every group", 15_000);
        await TestApp.Eventually(() => Task.FromResult(chat.Notes.Select(n => n.Group).Distinct().Count() == groups), "a reminder for every group", 15_000);
        var queue = a.Service<IWorkQueue>();
        // Claimed items stay counted until completed, so empty queues mean every card and note has been worked off.
        await TestApp.Eventually(async () => await queue.CountAsync(Queues.Groups, default) == 0 && await queue.CountAsync(Queues.Outbox, default) == 0,
            "groups and outbox drained", 10_000);

        Assert.All(chat.Cards.Values, n => Assert.Equal(1, n));
        var repeated = chat.Notes.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => $"{g.Key.Group}: {g.Key.Text}").ToArray();
        Assert.True(repeated.Length == 0, "posted twice: " + string.Join(" | ", repeated));
    }
}
