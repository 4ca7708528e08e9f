using System.Net;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>
/// The real bot on Redis, talking to <see cref="SlackFake"/>: routing sends app=payments to the payments
/// channel (approver, suppressor by e-mail), app=bulk to the bulk channel, the rest to security.
/// Inspector2 and SSM are <see cref="FakeAws"/>, so every button that reaches AWS leaves a request to assert on;
/// every instance a test ingests is SSM-managed and online unless the test says otherwise.
/// One app serves a test class; tests keep apart by using their own CVE ids.
/// </summary>
public sealed class SlackApp : IAsyncLifetime
{
    public const string Secret = "8f742231b10e8888abcd99yyyzzz85a5";
    public const string DefaultChannel = "C0123456789";
    public const string PaymentsChannel = "C0PAYMENTS1";
    public const string ApproverId = "UAPPROVER1";
    public const string SuppressorId = "USUPPRESS1";
    public const string SuppressorEmail = "suppressor@example.com";
    public const string SecurityLeadId = "USECLEAD01";

    /// <summary>The workspaces of the captured payloads: block_actions, slash command and view_submission.</summary>
    public const string TeamId = "T9TK3CUKW";
    public const string CommandTeamId = "T0001";
    public const string DialogTeamId = "T1234567";

    /// <summary>A workspace the bot is not configured for (another organisation's install, a Slack Connect guest's home).</summary>
    public const string ForeignTeamId = "T0FOREIGN1";

    private static int _cve = 10_000;

    public RedisServer Redis { get; } = new();
    public SlackFake Slack { get; private set; } = null!;
    public FakeAws Aws { get; private set; } = null!;
    public TestApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Redis.InitializeAsync();
        Slack = await SlackFake.StartAsync();
        Aws = await FakeAws.StartAsync();
        var settings = Settings(Slack);
        settings["Aws:Region"] = "eu-west-1";
        settings["Aws:Inspector2:ServiceUrl"] = Aws.Server.BaseUrl;
        settings["Aws:Ssm:ServiceUrl"] = Aws.Server.BaseUrl;
        App = new TestApp(TestApp.WithRedis(Redis, settings), services =>
            services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDSLACKAPPTESTS01", "secret/for/the/fake")));
        App.Client();
    }

    public static Dictionary<string, string?> Settings(SlackFake slack) => new()
    {
        ["Slack:BotToken"] = "xoxb-test-token",
        ["Slack:SigningSecret"] = Secret,
        ["Slack:TeamIds:0"] = TeamId,
        ["Slack:TeamIds:1"] = CommandTeamId,
        ["Slack:TeamIds:2"] = DialogTeamId,
        ["Slack:ApiBaseUrl"] = slack.BaseUrl,
        ["Slack:ResponseUrlHosts:0"] = "127.0.0.1",
        ["Slack:WorkPollInterval"] = "00:00:00.050",
        ["Routing:Default:Owner"] = "security",
        ["Routing:Default:SlackChannel"] = DefaultChannel,
        ["Routing:Default:Suppressors:0"] = SecurityLeadId,
        // Alice, who most tests act as, is on the security team, which sees every owner's alerts.
        ["Routing:Default:Members:0"] = "UALICE0001",
        ["Routing:Rules:0:Tags:app"] = "payments",
        ["Routing:Rules:0:Target:Owner"] = "payments",
        ["Routing:Rules:0:Target:SlackChannel"] = PaymentsChannel,
        ["Routing:Rules:0:Target:Approvers:0"] = ApproverId,
        ["Routing:Rules:0:Target:Suppressors:0"] = SuppressorEmail,
        ["Routing:Rules:1:Tags:app"] = "bulk",
        ["Routing:Rules:1:Target:Owner"] = "bulk",
        ["Routing:Rules:1:Target:SlackChannel"] = "C0BULK00001",
        ["Routing:Rules:2:Tags:app"] = "shop",
        ["Routing:Rules:2:Target:Owner"] = "shop",
        ["Routing:Rules:2:Target:SlackChannel"] = "C0SHOP00001",
    };

    /// <summary>The owner routing gives an app tag: its own rule, or the default (security).</summary>
    public static string OwnerOf(string app) => app is "payments" or "bulk" or "shop" ? app : "security";

    public static string NewCve() => $"CVE-2099-{Interlocked.Increment(ref _cve)}";

    /// <summary>Ingests a critical EC2 finding and waits for its card; returns the group id and the posted message.</summary>
    public async Task<(string GroupId, JsonObject Post)> PostedCardAsync(string cve, string app = "payments", string? instance = null)
    {
        await IngestAsync(cve, app, instance);
        var groupId = GroupIds.For(OwnerOf(app), cve);
        JsonObject? post = null;
        await TestApp.Eventually(() =>
        {
            post = Slack.Calls("chat.postMessage").FirstOrDefault(c => c.ToJsonString().Contains(cve, StringComparison.Ordinal) && c["thread_ts"] is null);
            return Task.FromResult(post is not null);
        }, $"card for {cve}");
        return (groupId, post!);
    }

    public async Task IngestAsync(string cve, string app = "payments", string? instance = null, DateTimeOffset? updatedAt = null, string severity = "CRITICAL", double score = 9.8)
    {
        instance ??= "i-" + Guid.NewGuid().ToString("n")[..17];
        Aws.ManagedInstances.TryAdd(instance, "Online");
        var evt = FindingEvents.Ec2(
            findingId: Guid.NewGuid().ToString("n"),
            cve: cve,
            severity: severity,
            score: score,
            instanceId: instance,
            updatedAt: updatedAt,
            tags: new Dictionary<string, string> { ["app"] = app });
        var response = await App.PostEventsAsync(evt.ToJsonString());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    public Task<HttpResponseMessage> SendAsync(string path, string body, string contentType, DateTimeOffset? at = null, string secret = Secret, Action<HttpRequestMessage>? tweak = null)
    {
        var request = SlackSigner.Signed(path, body, contentType, secret, at);
        tweak?.Invoke(request);
        return App.Client().SendAsync(request);
    }

    /// <summary>A slash command as Slack posts it; returns the immediate answer and the command's response_url.</summary>
    public async Task<(HttpResponseMessage Response, JsonObject? Json, string ResponseUrl)> CommandAsync(
        string text, string userId = "UALICE0001", string userName = "alice", string teamId = CommandTeamId, string channel = PaymentsChannel)
    {
        var responseUrl = Slack.NewResponseUrl();
        var body = SlackSigner.Form(
            ("token", "gIkuvaNzQIHg97ATvDxqgjtO"), ("team_id", teamId), ("team_domain", "example"),
            ("channel_id", channel), ("channel_name", "payments"),
            ("user_id", userId), ("user_name", userName), ("command", "/vulns"), ("text", text),
            ("response_url", responseUrl), ("trigger_id", Guid.NewGuid().ToString("n")), ("api_app_id", "A123456"));
        var response = await SendAsync("/api/slack/commands", body, "application/x-www-form-urlencoded");
        var content = await response.Content.ReadAsStringAsync();
        var json = content.Length > 0 && content[0] == '{' ? JsonNode.Parse(content)!.AsObject() : null;
        return (response, json, responseUrl);
    }

    /// <summary>A card button press, shaped like Slack's block_actions fixture.</summary>
    public async Task<(HttpResponseMessage Response, string ResponseUrl, string TriggerId)> ClickAsync(
        string actionId, string value, string userId = "UALICE0001", string channel = PaymentsChannel, string ts = "1548261231.000200",
        string? triggerId = null, string? responseUrl = null, Action<HttpRequestMessage>? tweak = null, string userTeamId = TeamId)
    {
        var payload = JsonNode.Parse(Fixtures.Read("slack", "block-actions-message.json"))!.AsObject();
        responseUrl ??= Slack.NewResponseUrl();
        triggerId ??= Guid.NewGuid().ToString("n");
        payload["user"] = new JsonObject { ["id"] = userId, ["username"] = userId.ToLowerInvariant(), ["team_id"] = userTeamId };
        payload["response_url"] = responseUrl;
        payload["trigger_id"] = triggerId;
        payload["channel"] = new JsonObject { ["id"] = channel, ["name"] = "payments" };
        payload["container"]!["channel_id"] = channel;
        payload["container"]!["message_ts"] = ts;
        payload["actions"]![0]!["action_id"] = actionId;
        payload["actions"]![0]!["value"] = value;
        var response = await SendAsync("/api/slack/interactions", SlackSigner.Form(("payload", payload.ToJsonString())), "application/x-www-form-urlencoded", tweak: tweak);
        return (response, responseUrl, triggerId);
    }

    /// <summary>A dialog submission, shaped like Slack's view_submission fixture.</summary>
    public Task<HttpResponseMessage> SubmitAsync(string callbackId, string privateMetadata, JsonObject values, string userId = "UALICE0001")
    {
        var payload = JsonNode.Parse(Fixtures.Read("slack", "view-submission.json"))!.AsObject();
        payload["user"] = new JsonObject { ["id"] = userId, ["username"] = userId.ToLowerInvariant() };
        var view = payload["view"]!.AsObject();
        view["id"] = "V" + Guid.NewGuid().ToString("n")[..10];
        view["callback_id"] = callbackId;
        view["private_metadata"] = privateMetadata;
        view["state"] = new JsonObject { ["values"] = values };
        return SendAsync("/api/slack/interactions", SlackSigner.Form(("payload", payload.ToJsonString())), "application/x-www-form-urlencoded");
    }

    public async Task<JsonObject> UpdateContainingAsync(string groupId, string text)
    {
        JsonObject? update = null;
        await TestApp.Eventually(() =>
        {
            update = Slack.Calls("chat.update").LastOrDefault(u => u.ToJsonString().Contains(groupId, StringComparison.Ordinal)
                && u.ToJsonString().Contains(text, StringComparison.Ordinal));
            return Task.FromResult(update is not null);
        }, $"chat.update of {groupId} with '{text}'");
        return update!;
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Aws.DisposeAsync();
        await Slack.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
