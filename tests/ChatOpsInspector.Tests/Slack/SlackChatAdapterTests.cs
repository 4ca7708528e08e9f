using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Slack;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>The adapter against the Slack fake: how Slack's answers map to the dispatcher's outcomes.</summary>
public sealed class SlackChatAdapterTests : IAsyncLifetime
{
    private SlackFake _slack = null!;
    private HttpClient _http = null!;
    private SlackApiClient _client = null!;
    private SlackChatAdapter _adapter = null!;

    public async Task InitializeAsync()
    {
        _slack = await SlackFake.StartAsync();
        (_http, _client) = Client(_slack.BaseUrl);
        _adapter = new SlackChatAdapter(_client, Emails(_client), TimeProvider.System);
    }

    private static (HttpClient, SlackApiClient) Client(string baseUrl)
    {
        var options = new SlackOptions { BotToken = "xoxb-test-token", SigningSecret = "s", ApiBaseUrl = new Uri(baseUrl), ResponseUrlHosts = ["127.0.0.1"] };
        var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(5) };
        return (http, new SlackApiClient(new OneClient(http), new FixedOptions(options), NullLogger<SlackApiClient>.Instance));
    }

    private static SlackEmailDirectory Emails(SlackApiClient client) =>
        new(client, new ChatOpsInspector.State.InMemoryStore(TimeProvider.System, Options.Create(new ChatOpsInspector.State.StateOptions())), Options.Create(new SlackOptions()));

    private static AlertCardView View() => new()
    {
        GroupId = "3f9a1c2b7d",
        Owner = "payments",
        VulnerabilityId = "CVE-2024-29069",
        Title = "CVE-2024-29069 - snapd",
        Severity = Severity.Critical,
        PriorityLabel = "P1",
        FixAvailable = "YES",
        FirstSeenAt = DateTimeOffset.UtcNow,
        SlaDueAt = DateTimeOffset.UtcNow.AddHours(24),
        OpenCount = 1,
        FixedCount = 0,
        ResourceCount = 1,
        Resources = [],
        State = GroupState.New,
        StateLabel = "New",
        InspectorConsoleUrl = "https://eu-central-1.console.aws.amazon.com/inspector/v2/home",
        Actions = [CardAction.Acknowledge],
        FallbackText = "CRITICAL CVE-2024-29069: snapd — 1 open, owner payments",
    };

    [Fact]
    public async Task PostedCardIsAChatPostMessageWithBlocksTextAndBearerToken()
    {
        var result = await _adapter.PostCardAsync("C0123456789", View(), default);

        Assert.Equal(ChatOutcome.Ok, result.Outcome);
        Assert.Equal("slack", result.Message!.Platform);
        Assert.Equal("C0123456789", result.Message.Channel);
        var raw = Assert.Single(_slack.Raw("chat.postMessage"));
        Assert.Equal("Bearer xoxb-test-token", raw.Headers["Authorization"]);
        Assert.Equal("application/json; charset=utf-8", raw.Headers["Content-Type"]);
        var body = JsonNode.Parse(raw.Body)!.AsObject();
        Assert.Equal("C0123456789", body["channel"]!.GetValue<string>());
        Assert.Contains("CVE-2024-29069", body["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("header", body["blocks"]![0]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpdateEditsTheSameMessage()
    {
        var posted = (await _adapter.PostCardAsync("C0123456789", View(), default)).Message!;
        var result = await _adapter.UpdateCardAsync(posted, View() with { StateLabel = "Acknowledged by ana" }, default);

        Assert.Equal(ChatOutcome.Ok, result.Outcome);
        var update = Assert.Single(_slack.Calls("chat.update"));
        Assert.Equal(posted.MessageId, update["ts"]!.GetValue<string>());
        Assert.Equal("C0123456789", update["channel"]!.GetValue<string>());
    }

    [Fact]
    public async Task NoteGoesIntoTheCardThreadEscaped()
    {
        var thread = new ChatMessageRef("slack", "C0123456789", "1700000000.000100");
        var result = await _adapter.PostNoteAsync("C0123456789", thread, new ChatNote("Patched <!channel> & done", ["UAPPROVER1", "ops@example.com"]), default);

        Assert.Equal(ChatOutcome.Ok, result.Outcome);
        var note = Assert.Single(_slack.Calls("chat.postMessage"));
        Assert.Equal("1700000000.000100", note["thread_ts"]!.GetValue<string>());
        Assert.Equal("Patched &lt;!channel&gt; &amp; done <@UAPPROVER1> ops@example.com", note["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task PushTextNamesTheVulnerabilityOnce()
    {
        await _adapter.PostCardAsync("C0123456789", View(), default);

        // The title is Inspector's "CVE-2024-29069 - snapd": the notification says the id once.
        var text = Assert.Single(_slack.Calls("chat.postMessage"))["text"]!.GetValue<string>();
        Assert.Equal("CRITICAL CVE-2024-29069 in snapd — 1 open, payments", text);
    }

    [Fact]
    public async Task EmailOfAKnownSlackUserBecomesAMentionAndIsLookedUpOnce()
    {
        // users.lookupByEmail (docs.slack.dev/reference/methods/users.lookupByEmail): form field `email`,
        // answer {ok, user:{id}}; the id is cached, so the second note asks Slack nothing.
        _slack.Emails["oncall@example.com"] = "UONCALL001";
        var thread = new ChatMessageRef("slack", "C0123456789", "1700000000.000100");

        await _adapter.PostNoteAsync("C0123456789", thread, new ChatNote("SLA breached", ["oncall@example.com", "UONCALL001", "a0e4c0de-0000-4000-8000-00000000a001"]), default);
        await _adapter.PostNoteAsync("C0123456789", thread, new ChatNote("Still breached", ["oncall@example.com"]), default);

        var notes = _slack.Calls("chat.postMessage");
        // One mention per person, and the Entra id (a Teams person) is not printed in Slack.
        Assert.Equal("SLA breached <@UONCALL001>", notes[0]["text"]!.GetValue<string>());
        Assert.Equal("Still breached <@UONCALL001>", notes[1]["text"]!.GetValue<string>());
        var lookup = Assert.Single(_slack.Raw("users.lookupByEmail"));
        Assert.Equal("email=oncall%40example.com", lookup.Body);
    }

    [Fact]
    public async Task BroadcastNoteIsAThreadReplyAlsoSentToTheChannel()
    {
        // chat.postMessage reply_broadcast: "used in conjunction with thread_ts" to show the reply in the channel too.
        var thread = new ChatMessageRef("slack", "C0123456789", "1700000000.000100");

        await _adapter.PostNoteAsync("C0123456789", thread, new ChatNote("SLA breached") { Broadcast = true }, default);
        await _adapter.PostNoteAsync("C0123456789", thread, new ChatNote("A reminder"), default);

        var notes = _slack.Calls("chat.postMessage");
        Assert.Equal("1700000000.000100", notes[0]["thread_ts"]!.GetValue<string>());
        Assert.True(notes[0]["reply_broadcast"]!.GetValue<bool>());
        Assert.Null(notes[1]["reply_broadcast"]);
    }

    [Fact]
    public async Task DirectMessageByEmailPostsToTheUsersIdWhichIsTheAppsDm()
    {
        // chat.postMessage with a user id as `channel` posts in the app's DM with that user.
        _slack.Emails["ana@example.com"] = "UANA000001";

        var sent = await _adapter.DirectMessageAsync("ana@example.com", null, new ChatNote("You were assigned CVE-2099-1"), default);
        var unknown = await _adapter.DirectMessageAsync("nobody@example.com", null, new ChatNote("x"), default);

        Assert.Equal(ChatOutcome.Ok, sent.Outcome);
        var dm = Assert.Single(_slack.Calls("chat.postMessage"));
        Assert.Equal("UANA000001", dm["channel"]!.GetValue<string>());
        Assert.Null(dm["thread_ts"]);
        Assert.Equal(ChatOutcome.Failed, unknown.Outcome);
        Assert.StartsWith("users_not_found", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThrottledCallIsRetriedAfterSlacksRetryAfter()
    {
        _slack.FailNext("chat.postMessage", 429, retryAfter: "7");
        var result = await _adapter.PostCardAsync("C0123456789", View(), default);
        Assert.Equal(ChatOutcome.RetryLater, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
    }

    [Theory]
    [InlineData(500, "")]
    [InlineData(503, "")]
    [InlineData(200, """{"ok":false,"error":"ratelimited"}""")]
    public async Task TransientFailuresAreRetried(int status, string body)
    {
        _slack.FailNext("chat.update", status, body: body);
        var result = await _adapter.UpdateCardAsync(new ChatMessageRef("slack", "C0123456789", "1.2"), View(), default);
        Assert.Equal(ChatOutcome.RetryLater, result.Outcome);
    }

    [Theory]
    [InlineData("channel_not_found")]
    [InlineData("invalid_auth")]
    [InlineData("msg_too_long")]
    public async Task RefusalsFailForGoodWithSlacksErrorCode(string error)
    {
        _slack.FailNext("chat.postMessage", 200, body: $$"""{"ok":false,"error":"{{error}}"}""");
        var result = await _adapter.PostCardAsync("C0123456789", View(), default);
        Assert.Equal(ChatOutcome.Failed, result.Outcome);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public async Task UnreachableSlackIsRetried()
    {
        var (http, client) = Client($"http://127.0.0.1:{Infrastructure.RedisServer.FreePort()}/");
        using (http)
        {
            var result = await new SlackChatAdapter(client, Emails(client), TimeProvider.System).PostCardAsync("C0123456789", View(), default);
            Assert.Equal(ChatOutcome.RetryLater, result.Outcome);
        }
    }

    [Fact]
    public async Task ResponseUrlsOutsideTheAllowedHostsAreNeverCalled()
    {
        var result = await _client.RespondAsync("https://evil.example/hooks/x", SlackReplies.Ephemeral("hi"), default);
        Assert.False(result.Ok);
        Assert.Equal("response_url_not_allowed", result.Error);
        Assert.False(new SlackOptions().IsAllowedResponseUrl("http://hooks.slack.com/commands/1/2"));
        Assert.True(new SlackOptions().IsAllowedResponseUrl("https://hooks.slack.com/commands/1/2"));
        Assert.False(new SlackOptions().IsAllowedResponseUrl("https://hooks.slack.com.evil.example/x"));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _slack.DisposeAsync();
    }

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
