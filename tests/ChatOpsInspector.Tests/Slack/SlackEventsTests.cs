using System.Net;
using System.Text.Json.Nodes;

namespace ChatOpsInspector.Tests.Slack;

[Collection(SlackCollection.Name)]
public class SlackEventsTests(SlackApp slack)
{
    private static string Mention(string eventId, string text, string ts, string? threadTs = null) => new JsonObject
    {
        ["token"] = "XXYYZZ",
        ["team_id"] = SlackApp.TeamId,
        ["api_app_id"] = "A123ABC456",
        ["type"] = "event_callback",
        ["event_id"] = eventId,
        ["event_time"] = 1700000000,
        ["event"] = new JsonObject
        {
            ["type"] = "app_mention",
            ["user"] = "UALICE0001",
            ["text"] = text,
            ["ts"] = ts,
            ["thread_ts"] = threadTs,
            ["channel"] = SlackApp.PaymentsChannel,
            ["event_ts"] = ts,
        },
    }.ToJsonString();

    private async Task<JsonObject> ThreadReplyAsync(string ts)
    {
        JsonObject? reply = null;
        await Infrastructure.TestApp.Eventually(() =>
        {
            // The answer is private to the person who asked, in the thread (chat.postEphemeral with thread_ts).
            reply = slack.Slack.Calls("chat.postEphemeral").FirstOrDefault(c => c["thread_ts"]?.GetValue<string>() == ts);
            return Task.FromResult(reply is not null);
        }, $"reply in thread {ts}");
        Assert.Equal("UALICE0001", reply!["user"]!.GetValue<string>());
        Assert.DoesNotContain(slack.Slack.Calls("chat.postMessage"), c => c["thread_ts"]?.GetValue<string>() == ts);
        return reply!;
    }

    private static string NewTs() => $"{Random.Shared.Next(1_600_000_000, 1_700_000_000)}.{Random.Shared.Next(100_000, 999_999)}";

    [Fact]
    public async Task UrlVerificationEchoesTheChallenge()
    {
        var body = """{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}""";
        var response = await slack.SendAsync("/api/slack/events", body, "application/json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", json["challenge"]!.GetValue<string>());
    }

    [Fact]
    public async Task MentionRunsTheCommandAndRepliesInTheThread()
    {
        var ts = NewTs();
        var response = await slack.SendAsync("/api/slack/events", Mention("Ev" + Guid.NewGuid().ToString("n"), "<@U0BOT00001> vulns help", ts), "application/json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = await ThreadReplyAsync(ts);
        Assert.Equal(SlackApp.PaymentsChannel, reply["channel"]!.GetValue<string>());
        Assert.Contains("mine", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MentionInsideAThreadAnswersInThatThread()
    {
        var (threadTs, ts) = (NewTs(), NewTs());
        await slack.SendAsync("/api/slack/events", Mention("Ev" + Guid.NewGuid().ToString("n"), "<@U0BOT00001> payments", ts, threadTs), "application/json");
        var reply = await ThreadReplyAsync(threadTs);
        Assert.Contains("payments", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetriedEventIsAcknowledgedWithoutRepeatingWork()
    {
        var eventId = "Ev" + Guid.NewGuid().ToString("n");
        var ts = NewTs();
        await slack.SendAsync("/api/slack/events", Mention(eventId, "<@U0BOT00001> help", ts), "application/json");
        await ThreadReplyAsync(ts);

        var retry = await slack.SendAsync("/api/slack/events", Mention(eventId, "<@U0BOT00001> help", ts), "application/json",
            tweak: r => { r.Headers.Add("X-Slack-Retry-Num", "1"); r.Headers.Add("X-Slack-Retry-Reason", "http_timeout"); });
        var barrier = NewTs();
        await slack.SendAsync("/api/slack/events", Mention("Ev" + Guid.NewGuid().ToString("n"), "<@U0BOT00001> help", barrier), "application/json");
        await ThreadReplyAsync(barrier);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Single(slack.Slack.Calls("chat.postEphemeral"), c => c["thread_ts"]?.GetValue<string>() == ts);
    }

    [Theory]
    [InlineData("<@U0BOT00001> vulns my-app", "my-app")]
    [InlineData("<@U0BOT00001|bot> /vulns show CVE-2024-6119", "show CVE-2024-6119")]
    [InlineData("<@U0BOT00001> stats", "stats")]
    [InlineData("  <@U0BOT00001>   ", "")]
    public void MentionTextBecomesTheCommand(string text, string command) =>
        Assert.Equal(command, ChatOpsInspector.Slack.SlackApi.CommandTextOfMention(text));
}
