using System.Net;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Slack;

namespace ChatOpsInspector.Tests.Alerts;

/// <summary>
/// One card per problem, where a problem is an owner and a vulnerability: the same CVE in two teams'
/// fleets is two problems, and <c>Alerting:Grouping=None</c> makes every finding its own card.
/// </summary>
public sealed class GroupingTests(SlackApp app) : IClassFixture<SlackApp>
{
    [Fact]
    public async Task TwoOwnersWithTheSameCveGetTwoCardsEachInItsOwnChannel()
    {
        var cve = SlackApp.NewCve();

        await app.IngestAsync(cve, "payments");
        await app.IngestAsync(cve, "shop");

        await TestApp.Eventually(() => Task.FromResult(Cards(app, cve).Length == 2), $"two cards for {cve}");
        Assert.Equal(["C0PAYMENTS1", "C0SHOP00001"], Cards(app, cve).Select(c => c["channel"]!.GetValue<string>()).Order());
        Assert.NotEqual(GroupIds.For("payments", cve), GroupIds.For("shop", cve));
        var store = app.App.Service<IAlertStore>();
        var payments = await store.GetGroupAsync(GroupIds.For("payments", cve), default);
        var shop = await store.GetGroupAsync(GroupIds.For("shop", cve), default);
        Assert.Equal("payments", payments!.Owner);
        Assert.Single(payments.Members);
        Assert.Equal("shop", shop!.Owner);
        Assert.Single(shop.Members);
    }

    [Fact]
    public async Task WithGroupingNoneEveryFindingOfOneCveGetsItsOwnCard()
    {
        await using var slack = await SlackFake.StartAsync();
        var settings = SlackApp.Settings(slack);
        settings["Alerting:Grouping"] = "None";
        await using var bot = new TestApp(TestApp.WithRedis(app.Redis, settings));
        var cve = SlackApp.NewCve();
        bot.Client();

        foreach (var instance in new[] { "i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2", "i-0aaaaaaaaaaaaaaa3" })
        {
            var evt = FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: cve, instanceId: instance,
                tags: new Dictionary<string, string> { ["app"] = "payments" });
            Assert.Equal(HttpStatusCode.Accepted, (await bot.PostEventsAsync(evt.ToJsonString())).StatusCode);
        }

        await TestApp.Eventually(() => Task.FromResult(Cards(slack, cve).Length == 3), $"three cards for {cve}");
        Assert.All(Cards(slack, cve), c => Assert.Equal(SlackApp.PaymentsChannel, c["channel"]!.GetValue<string>()));
        Assert.Null(await bot.Service<IAlertStore>().GetGroupAsync(GroupIds.For("payments", cve), default));
    }

    private static System.Text.Json.Nodes.JsonObject[] Cards(SlackApp app, string cve) => Cards(app.Slack, cve);

    private static System.Text.Json.Nodes.JsonObject[] Cards(SlackFake slack, string cve) =>
        slack.Calls("chat.postMessage").Where(c => c["thread_ts"] is null && c.ToJsonString().Contains(cve, StringComparison.Ordinal)).ToArray();
}
