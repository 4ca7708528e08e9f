using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Slack;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>
/// Slack's transient failures on every Web API path the bot uses. Oracles: Slack's Web API docs —
/// "Rate limits" (api.slack.com/apis/rate-limits: HTTP 429 with a Retry-After header in seconds), the
/// errors every method lists as Slack's own failures (<c>internal_error</c>, <c>fatal_error</c>,
/// <c>service_unavailable</c>, <c>request_timeout</c>), and chat.update's <c>message_not_found</c> and
/// <c>cant_update_message</c> (api.slack.com/methods/chat.update).
/// </summary>
public sealed class SlackRetryTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private SlackFake _slack = null!;
    private HttpClient _http = null!;
    private SlackApiClient _client = null!;

    public async Task InitializeAsync()
    {
        _slack = await SlackFake.StartAsync();
        var options = new SlackOptions { BotToken = "xoxb-test-token", SigningSecret = "s", ApiBaseUrl = new Uri(_slack.BaseUrl), ResponseUrlHosts = ["127.0.0.1"] };
        _http = new HttpClient { BaseAddress = new Uri(_slack.BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        _client = new SlackApiClient(new OneClient(_http), new FixedOptions(options), NullLogger<SlackApiClient>.Instance);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _slack.DisposeAsync();
    }

    /// <summary>Production condition: Slack answers HTTP 200 with ok:false and one of its own failures; the call is retried, after Retry-After when given.</summary>
    [Theory]
    [InlineData("internal_error")]
    [InlineData("fatal_error")]
    [InlineData("service_unavailable")]
    [InlineData("request_timeout")]
    public async Task SlacksOwnFailuresAreRetriedOnEveryCallPath(string error)
    {
        var body = $$"""{"ok":false,"error":"{{error}}"}""";
        _slack.FailNext("chat.postMessage", 200, retryAfter: "4", body: body);
        _slack.FailNext("chat.update", 200, body: body);
        _slack.FailNext("chat.postEphemeral", 200, body: body);

        var post = await _client.PostMessageAsync("C0123456789", "card", null, null, default);
        var update = await _client.UpdateAsync("C0123456789", "1.2", "card", [], default);
        var ephemeral = await _client.PostEphemeralAsync("C0123456789", "UALICE0001", "answer", null, default);

        Assert.All(new[] { post, update, ephemeral }, r => Assert.True(r is { Ok: false, Transient: true } && r.Error == error, r.ToString()));
        Assert.Equal(TimeSpan.FromSeconds(4), post.RetryAfter);
        Assert.Equal(ChatOutcome.RetryLater, SlackChatAdapter.ToChatResult(update, "C0123456789").Outcome);
    }

    /// <summary>Production condition: 429 or 5xx on chat.postEphemeral and on a response_url carry Retry-After; the result keeps it.</summary>
    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task RetryAfterIsKeptForEphemeralsAndResponseUrls(int status)
    {
        _slack.FailNext("chat.postEphemeral", status, retryAfter: "9");
        _slack.FailNext("hooks", status, retryAfter: "11");

        var ephemeral = await _client.PostEphemeralAsync("C0123456789", "UALICE0001", "answer", null, default);
        var responded = await _client.RespondAsync(_slack.NewResponseUrl(), SlackReplies.Ephemeral("answer"), default);

        Assert.True(ephemeral.Transient);
        Assert.Equal(TimeSpan.FromSeconds(9), ephemeral.RetryAfter);
        Assert.True(responded.Transient);
        Assert.Equal(TimeSpan.FromSeconds(11), responded.RetryAfter);
    }

    /// <summary>Production condition: someone deleted the card; chat.update answers message_not_found or cant_update_message.</summary>
    [Theory]
    [InlineData("message_not_found")]
    [InlineData("cant_update_message")]
    public async Task UpdatingADeletedCardSaysTheCardIsGone(string error)
    {
        _slack.FailNext("chat.update", 200, body: $$"""{"ok":false,"error":"{{error}}"}""");
        var result = await new SlackChatAdapter(_client,
                new SlackEmailDirectory(_client, new InMemoryStore(TimeProvider.System, Options.Create(new StateOptions())), Options.Create(new SlackOptions())),
                TimeProvider.System)
            .UpdateCardAsync(new ChatMessageRef("slack", "C0123456789", "1.2"), SampleCard(), default);
        Assert.True(result.MessageGone);
        Assert.Equal(error, result.Error);
    }

    /// <summary>
    /// Production condition: the card was deleted in the channel and the group then changes. The card is
    /// posted again, its stored ref points at the new message, and the next change updates that one.
    /// </summary>
    [Fact]
    public async Task ADeletedCardIsPostedAgainAndLaterUpdatesGoToTheNewMessage()
    {
        var settings = TestApp.WithRedis(redis, SlackApp.Settings(_slack));
        settings["Dispatch:ChannelInterval"] = "00:00:00";
        await using var app = new TestApp(settings);
        var cve = SlackApp.NewCve();
        var groupId = GroupIds.For("payments", cve);
        await IngestAsync(app, cve);
        var first = await CardRefAsync(app, groupId, _ => true, "first card");

        _slack.FailNext("chat.update", 200, body: """{"ok":false,"error":"message_not_found"}""");
        await IngestAsync(app, cve);
        var second = await CardRefAsync(app, groupId, r => r.MessageId != first.MessageId, "card posted again");

        Assert.Equal(2, CardPosts(cve));
        Assert.Equal(SlackApp.PaymentsChannel, second.Channel);
        await IngestAsync(app, cve);
        await TestApp.Eventually(() => Task.FromResult(_slack.Calls("chat.update").Any(u =>
            u["ts"]!.GetValue<string>() == second.MessageId && u.ToJsonString().Contains(cve, StringComparison.Ordinal))), "update of the new card");
        Assert.Equal(2, CardPosts(cve));
        Assert.Single(_slack.Calls("chat.update"), u => u["ts"]!.GetValue<string>() == first.MessageId);
    }

    /// <summary>
    /// Production condition: the answer to a button press hits 503 with Retry-After: 30. The worker's own
    /// backoff (2 s for a first retry) is not enough: nothing is due 29 s later, the answer goes at 30 s.
    /// Time is a FakeTimeProvider, so the negative check needs no sleep.
    /// </summary>
    [Fact]
    public async Task TheReplyWorkerWaitsAsLongAsRetryAfterAsks()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = TestApp.WithRedis(redis, SlackApp.Settings(_slack));
        await using var app = new TestApp(settings, services => services.AddSingleton<TimeProvider>(time));
        var cve = SlackApp.NewCve();
        await IngestAsync(app, cve);
        var groupId = GroupIds.For("payments", cve);
        var responseUrl = _slack.NewResponseUrl();
        var hook = new Uri(responseUrl).AbsolutePath;
        _slack.FailNext("hooks", 503, retryAfter: "30");

        Assert.Equal(HttpStatusCode.OK, (await ClickAckAsync(app, groupId, responseUrl)).StatusCode);
        await TestApp.Eventually(() => Task.FromResult(_slack.Server.To(hook).Any()), "first answer attempt");
        var worker = app.Service<SlackWorker>();
        // The retry is in the durable queue, due exactly Retry-After from the failed attempt.
        var redisDb = app.Service<IConnectionMultiplexer>().GetDatabase();
        var prefix = app.Service<IOptions<StateOptions>>().Value.KeyPrefix + "{q:" + SlackWorkQueue.Name + "}";
        double? due = null;
        await TestApp.Eventually(async () =>
        {
            var retry = (await redisDb.HashGetAllAsync(prefix + "qp:" + SlackWorkQueue.Name)).SingleOrDefault(e => e.Value.ToString().Contains("\"attempts\":1", StringComparison.Ordinal));
            due = retry.Name.IsNull ? null : await redisDb.SortedSetScoreAsync(prefix + "q:" + SlackWorkQueue.Name, retry.Name);
            return due is not null;
        }, "the retry is queued");
        Assert.Equal((time.GetUtcNow() + TimeSpan.FromSeconds(30)).ToUnixTimeMilliseconds(), due);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await worker.DrainAsync(default));
        Assert.Single(_slack.Server.To(hook));

        time.Advance(TimeSpan.FromSeconds(1));
        await TestApp.Eventually(async () => { await worker.DrainAsync(default); return _slack.Server.To(hook).Count() == 2; }, "the answer after Retry-After");
        var reply = _slack.Responses(responseUrl)[1];
        Assert.Contains("acknowledged", reply["text"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    private int CardPosts(string cve) =>
        _slack.Calls("chat.postMessage").Count(c => c["thread_ts"] is null && c.ToJsonString().Contains(cve, StringComparison.Ordinal));

    private static async Task IngestAsync(TestApp app, string cve)
    {
        var evt = FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: cve, instanceId: "i-" + Guid.NewGuid().ToString("n")[..17],
            tags: new() { ["app"] = "payments" });
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(evt.ToJsonString())).StatusCode);
    }

    private static async Task<ChatMessageRef> CardRefAsync(TestApp app, string groupId, Func<ChatMessageRef, bool> wanted, string what)
    {
        ChatMessageRef? found = null;
        await TestApp.Eventually(async () =>
        {
            found = (await app.Service<IAlertStore>().GetGroupAsync(groupId, default))?.Cards.GetValueOrDefault("slack");
            return found is not null && wanted(found);
        }, what);
        return found!;
    }

    private static Task<HttpResponseMessage> ClickAckAsync(TestApp app, string groupId, string responseUrl)
    {
        var payload = JsonNode.Parse(Fixtures.Read("slack", "block-actions-message.json"))!.AsObject();
        payload["user"] = new JsonObject { ["id"] = "UALICE0001", ["username"] = "alice", ["team_id"] = SlackApp.TeamId };
        payload["response_url"] = responseUrl;
        payload["trigger_id"] = Guid.NewGuid().ToString("n");
        payload["channel"] = new JsonObject { ["id"] = SlackApp.PaymentsChannel, ["name"] = "payments" };
        payload["container"]!["channel_id"] = SlackApp.PaymentsChannel;
        payload["actions"]![0]!["action_id"] = $"ack:{groupId}";
        payload["actions"]![0]!["value"] = groupId;
        var request = SlackSigner.Signed("/api/slack/interactions", SlackSigner.Form(("payload", payload.ToJsonString())),
            "application/x-www-form-urlencoded", SlackApp.Secret);
        return app.Client().SendAsync(request);
    }

    private static ChatOpsInspector.Cards.AlertCardView SampleCard() => new()
    {
        GroupId = "3f9a1c2b7d",
        Owner = "payments",
        VulnerabilityId = "CVE-2024-29069",
        Title = "CVE-2024-29069 - snapd",
        Severity = ChatOpsInspector.Findings.Severity.Critical,
        PriorityLabel = "P1",
        FixAvailable = "YES",
        FirstSeenAt = DateTimeOffset.UtcNow,
        SlaDueAt = DateTimeOffset.UtcNow.AddHours(24),
        OpenCount = 1,
        FixedCount = 0,
        ResourceCount = 1,
        Resources = [],
        State = ChatOpsInspector.Workflow.GroupState.New,
        StateLabel = "New",
        InspectorConsoleUrl = "https://eu-central-1.console.aws.amazon.com/inspector/v2/home",
        Actions = [ChatOpsInspector.Cards.CardAction.Acknowledge],
        FallbackText = "CRITICAL CVE-2024-29069: snapd",
    };

    private sealed class OneClient(HttpClient http) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => http;
    }

    private sealed class FixedOptions(SlackOptions value) : IOptionsMonitor<SlackOptions>
    {
        public SlackOptions CurrentValue => value;
        public SlackOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<SlackOptions, string?> listener) => null;
    }
}
