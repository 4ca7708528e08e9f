using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>
/// Socket Mode against a fake Slack on loopback: the same handlers as the HTTP endpoints, every envelope
/// acknowledged by envelope_id, reconnects on disconnect and on drops, redeliveries run nothing twice.
/// </summary>
public sealed class SlackSocketModeTests : IAsyncLifetime
{
    private const string AppToken = "xapp-1-A123456-0000-socketmodetoken";

    private SlackFake _slack = null!;
    private SocketModeServer _sockets = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _slack = await SlackFake.StartAsync();
        _sockets = await SocketModeServer.StartAsync();
        _slack.SocketUrl = _sockets.NextUrl;
        var settings = SlackApp.Settings(_slack);
        settings["Slack:AppToken"] = AppToken;
        settings["Slack:SocketModeConnections"] = "1";
        settings["Slack:SocketModeBackoff"] = "00:00:00.050";
        settings["Slack:SocketModeMaxBackoff"] = "00:00:00.200";
        _app = new TestApp(settings);
        _app.Client();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _sockets.DisposeAsync();
        await _slack.DisposeAsync();
    }

    private JsonObject SlashCommand(string text) => new()
    {
        ["token"] = "gIkuvaNzQIHg97ATvDxqgjtO",
        ["team_id"] = "T0001",
        ["team_domain"] = "example",
        ["channel_id"] = SlackApp.PaymentsChannel,
        ["channel_name"] = "payments",
        ["user_id"] = "UALICE0001",
        ["user_name"] = "alice",
        ["command"] = "/vulns",
        ["text"] = text,
        ["api_app_id"] = "A123456",
        ["response_url"] = _slack.NewResponseUrl(),
        ["trigger_id"] = Guid.NewGuid().ToString("n"),
    };

    private static JsonObject Mention(string eventId, string text) => new()
    {
        ["token"] = "XXYYZZ",
        ["team_id"] = "T0001",
        ["api_app_id"] = "A123456",
        ["type"] = "event_callback",
        ["event_id"] = eventId,
        ["event_time"] = 1_700_000_000,
        ["event"] = new JsonObject
        {
            ["type"] = "app_mention",
            ["user"] = "UALICE0001",
            ["text"] = "<@U0BOT0001> " + text,
            ["ts"] = "1700000000.000100",
            ["channel"] = SlackApp.PaymentsChannel,
            ["event_ts"] = "1700000000.000100",
        },
    };

    // A mention is answered privately in its thread (chat.postEphemeral), as over HTTP.
    private IEnumerable<JsonObject> RepliesInThread(string ts) =>
        _slack.Calls("chat.postEphemeral").Concat(_slack.Calls("chat.postMessage")).Where(c => c["thread_ts"]?.GetValue<string>() == ts);

    [Fact]
    public async Task ASlashCommandEnvelopeIsAcknowledgedWithTheSameReplyTheHttpEndpointGives()
    {
        var connection = await _sockets.NextConnectionAsync();
        var envelope = SocketModeServer.Envelope("slash_commands", SlashCommand("help"));

        await connection.SendAsync(envelope);
        var ack = await connection.AckAsync(envelope["envelope_id"]!.GetValue<string>());

        var http = await _app.Client().SendAsync(SlackSigner.Signed("/api/slack/commands",
            SlackSigner.Form([.. SlashCommand("help").Select(p => (p.Key, p.Value!.ToString()))]), "application/x-www-form-urlencoded", SlackApp.Secret));
        Assert.Equal(HttpStatusCode.OK, http.StatusCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(await http.Content.ReadAsStringAsync()), ack["payload"]), ack.ToJsonString());
        Assert.Contains("/vulns", ack["payload"]!.ToJsonString(), StringComparison.Ordinal);
        var open = Assert.Single(_slack.Raw("apps.connections.open"));
        Assert.Equal("Bearer " + AppToken, open.Headers["Authorization"]);
    }

    [Fact]
    public async Task ABlockActionsEnvelopeAcknowledgesTheAlertOnceAndIsAcknowledged()
    {
        var connection = await _sockets.NextConnectionAsync();
        var cve = SlackApp.NewCve();
        Assert.Equal(HttpStatusCode.Accepted, (await _app.PostEventsAsync(FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: cve,
            tags: new() { ["app"] = "payments" }).ToJsonString())).StatusCode);
        var groupId = GroupIds.For("payments", cve);
        var payload = JsonNode.Parse(Fixtures.Read("slack", "block-actions-message.json"))!.AsObject();
        payload["user"] = new JsonObject { ["id"] = "UALICE0001", ["username"] = "alice", ["team_id"] = "T9TK3CUKW" };
        payload["response_url"] = _slack.NewResponseUrl();
        payload["trigger_id"] = Guid.NewGuid().ToString("n");
        payload["channel"] = new JsonObject { ["id"] = SlackApp.PaymentsChannel, ["name"] = "payments" };
        payload["actions"]![0]!["action_id"] = "ack:" + groupId;
        payload["actions"]![0]!["value"] = groupId;
        var envelope = SocketModeServer.Envelope("interactive", payload);

        await connection.SendAsync(envelope);
        var ack = await connection.AckAsync(envelope["envelope_id"]!.GetValue<string>());

        Assert.Null(ack["payload"]);  // block_actions answer with an empty 200, so the acknowledgement carries nothing
        await TestApp.Eventually(async () => (await _app.Service<AlertQueries>().GroupsAsync("payments", default))
            .Any(g => g.Id == groupId && g.Workflow.AcknowledgedBy?.UserId == "UALICE0001"), "alert acknowledged by alice");
    }

    [Fact]
    public async Task AViewSubmissionEnvelopeWithAMissingReasonIsAnsweredWithTheFormErrors()
    {
        var connection = await _sockets.NextConnectionAsync();
        var cve = SlackApp.NewCve();
        await _app.PostEventsAsync(FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: cve, tags: new() { ["app"] = "payments" }).ToJsonString());
        var payload = JsonNode.Parse(Fixtures.Read("slack", "view-submission.json"))!.AsObject();
        payload["user"] = new JsonObject { ["id"] = SlackApp.SecurityLeadId, ["username"] = "lead" };
        var view = payload["view"]!.AsObject();
        view["callback_id"] = "coi_suppress";
        view["private_metadata"] = new JsonObject { ["g"] = GroupIds.For("payments", cve), ["c"] = SlackApp.PaymentsChannel, ["r"] = _slack.NewResponseUrl() }.ToJsonString();
        view["state"] = new JsonObject
        {
            ["values"] = new JsonObject
            {
                ["reason"] = new JsonObject { ["reason"] = new JsonObject { ["type"] = "plain_text_input", ["value"] = "  " } },
                ["expiry"] = new JsonObject { ["expiry"] = new JsonObject { ["type"] = "static_select", ["selected_option"] = new JsonObject { ["value"] = "30" } } },
            },
        };
        var envelope = SocketModeServer.Envelope("interactive", payload);

        await connection.SendAsync(envelope);
        var ack = await connection.AckAsync(envelope["envelope_id"]!.GetValue<string>());

        Assert.Equal("errors", ack["payload"]?["response_action"]?.GetValue<string>());
        Assert.NotNull(ack["payload"]!["errors"]!["reason"]);
    }

    [Fact]
    public async Task AnEventsApiEnvelopeRunsTheMentionHandler()
    {
        var connection = await _sockets.NextConnectionAsync();
        var envelope = SocketModeServer.Envelope("events_api", Mention("Ev0SOCKET01", "help"));

        await connection.SendAsync(envelope);
        await connection.AckAsync(envelope["envelope_id"]!.GetValue<string>());

        await TestApp.Eventually(() => Task.FromResult(RepliesInThread("1700000000.000100").Any()), "reply to the mention in its thread");
    }

    [Fact]
    public async Task ADisconnectRefreshOpensANewConnectionThatKeepsServing()
    {
        var first = await _sockets.NextConnectionAsync();

        await first.SendAsync(new JsonObject { ["type"] = "disconnect", ["reason"] = "refresh_requested", ["debug_info"] = new JsonObject { ["host"] = "applink-1" } });
        var second = await _sockets.NextConnectionAsync();
        var envelope = SocketModeServer.Envelope("slash_commands", SlashCommand("help"));
        await second.SendAsync(envelope);
        var ack = await second.AckAsync(envelope["envelope_id"]!.GetValue<string>());

        Assert.NotNull(ack["payload"]);
        Assert.Equal(2, _slack.Raw("apps.connections.open").Count);  // a fresh URL per connection: tickets are single-use
        Assert.NotEqual(first.Query, second.Query);
        await first.Closed;  // the old connection was closed by the bot
    }

    [Theory]
    [InlineData(false)]  // dropped as the envelope went out: the redelivery must run it
    [InlineData(true)]   // dropped after the handler ran, before Slack read the acknowledgement: the redelivery must not run it again
    public async Task AConnectionDroppedBeforeTheAcknowledgementLosesNothingAndTheRedeliveryRunsNothingTwice(bool afterHandling)
    {
        var first = await _sockets.NextConnectionAsync();
        var envelopeId = Guid.NewGuid().ToString();

        await first.SendAsync(SocketModeServer.Envelope("events_api", Mention("Ev0DROPPED1", "help"), envelopeId));
        if (afterHandling)
        {
            await TestApp.Eventually(() => Task.FromResult(RepliesInThread("1700000000.000100").Any()), "first delivery handled");
        }
        first.Drop();
        var second = await _sockets.NextConnectionAsync();
        await second.SendAsync(SocketModeServer.Envelope("events_api", Mention("Ev0DROPPED1", "help"), envelopeId, retryAttempt: 1));
        await second.AckAsync(envelopeId);

        // A later mention is answered after any duplicate of the first would have been: the worker takes jobs in order.
        var marker = Mention("Ev0MARKER01", "help");
        marker["event"]!["ts"] = "1700000001.000100";
        var markerEnvelope = SocketModeServer.Envelope("events_api", marker);
        await second.SendAsync(markerEnvelope);
        await second.AckAsync(markerEnvelope["envelope_id"]!.GetValue<string>());
        await TestApp.Eventually(() => Task.FromResult(RepliesInThread("1700000001.000100").Any()), "reply to the later mention");
        Assert.Single(RepliesInThread("1700000000.000100"));
    }
}
