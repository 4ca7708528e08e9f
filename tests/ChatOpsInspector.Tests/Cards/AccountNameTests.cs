using System.Net;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Slack;

namespace ChatOpsInspector.Tests.Cards;

/// <summary>
/// In an AWS organisation a twelve-digit number tells the reader nothing: accounts named under
/// <c>Accounts</c> appear on the card by name, with the number beside it for the console.
/// </summary>
public sealed class AccountNameTests(SlackApp app) : IClassFixture<SlackApp>
{
    [Fact]
    public async Task CardNamesTheAccountConfiguredUnderAccountsAndKeepsItsNumber()
    {
        await using var slack = await SlackFake.StartAsync();
        var settings = SlackApp.Settings(slack);
        settings["Accounts:210987654321:Name"] = "payments-prod";
        settings["Accounts:210987654321:Environment"] = "production";
        await using var bot = new TestApp(TestApp.WithRedis(app.Redis, settings));
        bot.Client();
        var named = SlackApp.NewCve();
        var unnamed = SlackApp.NewCve();

        foreach (var (cve, account) in new[] { (named, "210987654321"), (unnamed, "123456789012") })
        {
            var evt = FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: cve, account: account,
                tags: new Dictionary<string, string> { ["app"] = "payments" });
            Assert.Equal(HttpStatusCode.Accepted, (await bot.PostEventsAsync(evt.ToJsonString())).StatusCode);
        }

        await TestApp.Eventually(() => Task.FromResult(Card(slack, named) is not null && Card(slack, unnamed) is not null), "both cards posted");
        Assert.Contains("payments-prod (210987654321)", Card(slack, named), StringComparison.Ordinal);
        Assert.Contains("123456789012", Card(slack, unnamed), StringComparison.Ordinal);
        Assert.DoesNotContain("payments-prod", Card(slack, unnamed), StringComparison.Ordinal);
    }

    private static string? Card(SlackFake slack, string cve) =>
        slack.Calls("chat.postMessage").FirstOrDefault(c => c["thread_ts"] is null && c.ToJsonString().Contains(cve, StringComparison.Ordinal))?.ToJsonString();
}
