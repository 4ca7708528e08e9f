using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>Slack work lives in Redis, so a bot that stops mid-way leaves it for the next one.</summary>
public sealed class SlackDurabilityTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private SlackFake _slack = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _slack = await SlackFake.StartAsync();
    }

    [Fact]
    public async Task ClickAnsweredByTheNextInstanceAfterARestartRunsOnce()
    {
        var settings = TestApp.WithRedis(_redis, SlackApp.Settings(_slack));
        var cve = SlackApp.NewCve();
        var groupId = GroupIds.For("payments", cve);
        string responseUrl;
        await using (var first = new TestApp(settings))
        {
            var slack = new SlackAppClient(first, _slack);
            await slack.IngestAsync(cve);
            _slack.FailNext("hooks", 503);
            responseUrl = await slack.ClickAckAsync(groupId);
            // The action ran and its answer failed: the instance goes away at once, whatever the worker was doing.
            await TestApp.Eventually(() => Task.FromResult(_slack.Server.To(new Uri(responseUrl).AbsolutePath).Any()), "first answer attempt");
        }

        await using var second = new TestApp(settings);
        second.Client();

        var reply = await _slack.ResponseAsync(responseUrl, "the answer from the second instance");
        Assert.Contains("You acknowledged", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var audit = await second.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 10_000, default);
        Assert.Single(audit, a => a.GroupId == groupId && a.Action == "acknowledged");
    }

    public async Task DisposeAsync()
    {
        await _slack.DisposeAsync();
        await _redis.DisposeAsync();
    }

    /// <summary>The few <see cref="SlackApp"/> moves this test needs, on an app it owns.</summary>
    private sealed class SlackAppClient(TestApp app, SlackFake slack)
    {
        public async Task IngestAsync(string cve)
        {
            var evt = FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: cve, tags: new() { ["app"] = "payments" });
            Assert.Equal(System.Net.HttpStatusCode.Accepted, (await app.PostEventsAsync(evt.ToJsonString())).StatusCode);
        }

        public async Task<string> ClickAckAsync(string groupId)
        {
            var payload = System.Text.Json.Nodes.JsonNode.Parse(Fixtures.Read("slack", "block-actions-message.json"))!.AsObject();
            var responseUrl = slack.NewResponseUrl();
            payload["user"] = new System.Text.Json.Nodes.JsonObject { ["id"] = "UALICE0001", ["username"] = "alice" };
            payload["response_url"] = responseUrl;
            payload["trigger_id"] = Guid.NewGuid().ToString("n");
            payload["actions"]![0]!["action_id"] = $"ack:{groupId}";
            payload["actions"]![0]!["value"] = groupId;
            var request = SlackSigner.Signed("/api/slack/interactions", SlackSigner.Form(("payload", payload.ToJsonString())), "application/x-www-form-urlencoded", SlackApp.Secret);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await app.Client().SendAsync(request)).StatusCode);
            return responseUrl;
        }
    }
}
