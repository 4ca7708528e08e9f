using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Tests.Infrastructure;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>
/// A slash command's inline answer is bounded by <c>Slack:InlineBudget</c> even while Redis does not
/// answer: the budget's cancellation reaches the Redis reads, and the designed fallback goes out.
/// </summary>
public sealed class SlackDeadlineTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task StatsWhileRedisStallsFallsBackWithinTheBudgetAndAnswersLaterThroughResponseUrl()
    {
        await using var slack = await SlackFake.StartAsync();
        var settings = SlackApp.Settings(slack);
        settings["Slack:InlineBudget"] = "00:00:00.300";
        await using var app = new TestApp(TestApp.WithRedis(redis, settings));
        app.Client();
        await using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        var responseUrl = slack.NewResponseUrl();
        // No trigger_id: the retry guard, which writes to Redis before the budget starts, is not involved.
        var body = SlackSigner.Form(
            ("token", "gIkuvaNzQIHg97ATvDxqgjtO"), ("team_id", SlackApp.CommandTeamId), ("team_domain", "example"),
            ("channel_id", SlackApp.PaymentsChannel), ("channel_name", "payments"),
            ("user_id", "UALICE0001"), ("user_name", "alice"), ("command", "/vulns"), ("text", "stats"),
            ("response_url", responseUrl), ("api_app_id", "A123456"));

        // Redis holds every client's commands for 1.5 s: a read that ignored the budget would simply
        // wait and then answer the figures inline; one that honours it gives up after 0.3 s.
        await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "PAUSE", "1500", "ALL");
        using var response = await app.Client().SendAsync(SlackSigner.Signed("/api/slack/commands", body, "application/x-www-form-urlencoded", SlackApp.Secret));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var inline = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["text"]!.GetValue<string>();
        Assert.Contains("Still looking", inline, StringComparison.Ordinal);
        // The work went to the background and its answer arrives where Slack said to send it.
        var later = await slack.ResponseAsync(responseUrl);
        Assert.Contains("open alert", later["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
