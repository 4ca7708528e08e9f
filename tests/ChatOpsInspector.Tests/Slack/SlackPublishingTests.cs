using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Slack;

[Collection(SlackCollection.Name)]
public class SlackPublishingTests(SlackApp slack)
{
    [Fact]
    public async Task CriticalFindingIsPostedToTheRoutedChannelAndLaterUpdatedInPlace()
    {
        var cve = SlackApp.NewCve();
        var (groupId, post) = await slack.PostedCardAsync(cve, app: "unrouted-app");

        Assert.Equal(SlackApp.DefaultChannel, post["channel"]!.GetValue<string>());
        Assert.Contains(cve, post["text"]!.GetValue<string>(), StringComparison.Ordinal);
        BlockKitLimits.AssertValid(post["blocks"]!.AsArray());
        var card = await CardRefAsync(groupId);

        // Another instance with the same CVE joins the group: the same message is edited, not a new one posted.
        await slack.IngestAsync(cve, app: "unrouted-app");
        var update = await slack.UpdateContainingAsync(groupId, "2 resources");
        Assert.Equal(card.MessageId, update["ts"]!.GetValue<string>());
        Assert.Equal(SlackApp.DefaultChannel, update["channel"]!.GetValue<string>());
        Assert.Single(slack.Slack.Calls("chat.postMessage"), c => c.ToJsonString().Contains(cve, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OwnersCardGoesToTheOwnersChannel()
    {
        var (_, post) = await slack.PostedCardAsync(SlackApp.NewCve(), app: "payments");
        Assert.Equal(SlackApp.PaymentsChannel, post["channel"]!.GetValue<string>());
    }

    [Fact]
    public async Task HostileFindingIsPostedEscapedAndWithinLimits()
    {
        var cve = SlackApp.NewCve();
        var evt = FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: cve, tags: new() { ["app"] = "<!channel>", ["x<@U1>"] = "&y" });
        evt["detail"]!["title"] = $"{cve} <!channel> *urgent* <https://evil.example|login here>";
        evt["detail"]!["description"] = "<!here> " + new string('D', 10_000);

        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await slack.App.PostEventsAsync(evt.ToJsonString())).StatusCode);

        JsonObject? post = null;
        await TestApp.Eventually(() =>
        {
            post = slack.Slack.Calls("chat.postMessage").FirstOrDefault(c => c["text"]!.GetValue<string>().Contains(cve, StringComparison.Ordinal));
            return Task.FromResult(post is not null);
        }, "hostile card posted");
        BlockKitLimits.AssertValid(post!["blocks"]!.AsArray());
        BlockKitLimits.AssertNoMarkupInjection(post["text"]!.GetValue<string>());
        Assert.Contains("&lt;!channel&gt; *urgent* &lt;https://evil.example|login here&gt;", post.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }), StringComparison.Ordinal);
    }

    private async Task<ChatMessageRef> CardRefAsync(string groupId)
    {
        ChatMessageRef? card = null;
        await TestApp.Eventually(async () =>
        {
            var group = await slack.App.Service<IAlertStore>().GetGroupAsync(groupId, default);
            card = group?.Cards.GetValueOrDefault("slack");
            return card is not null;
        }, "card ref stored");
        return card!;
    }
}

/// <summary>Its own bot (in-memory store) because it makes Slack throttle.</summary>
public sealed class SlackRateLimitTests : IAsyncLifetime
{
    private SlackFake _slack = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _slack = await SlackFake.StartAsync();
        _app = new TestApp(SlackApp.Settings(_slack));
        _app.Client();
    }

    [Fact]
    public async Task ThrottledPostIsRetriedAfterRetryAfterAndNothingIsLost()
    {
        _slack.FailNext("chat.postMessage", 429, retryAfter: "1");
        var cves = Enumerable.Range(0, 3).Select(_ => SlackApp.NewCve()).ToArray();
        var events = new JsonArray(cves.Select(cve => (JsonNode)FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: cve)).ToArray());

        var response = await _app.PostEventsAsync(events.ToJsonString());
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);

        var store = _app.Service<IAlertStore>();
        await TestApp.Eventually(async () =>
        {
            foreach (var cve in cves)
            {
                if ((await store.GetGroupAsync(GroupIds.For("security", cve), default))?.Cards.ContainsKey("slack") != true)
                {
                    return false;
                }
            }
            return true;
        }, "every card posted");
        var posts = _slack.Arrivals.Where(a => a.Method == "chat.postMessage").Select(a => a.At).ToArray();
        // Three cards, one of them twice: the throttled attempt and its retry.
        Assert.Equal(4, posts.Length);
        // The throttled call was the first; its retry came no sooner than Slack asked.
        Assert.True(posts.Max() - posts[0] >= TimeSpan.FromSeconds(1), $"retried after {posts.Max() - posts[0]}");
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _slack.DisposeAsync();
    }
}
