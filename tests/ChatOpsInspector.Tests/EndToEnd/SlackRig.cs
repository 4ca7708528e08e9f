using System.Net;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Slack;
using ChatOpsInspector.Tests.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.EndToEnd;

/// <summary>
/// The whole bot on its own Redis key prefix, wired to the fake Slack Web API and the fake Inspector2 +
/// SSM, driven only through signed Slack requests and the ingest endpoint. The payments owner has three
/// approvers — one of them a developer who may request as well — and a suppressor named by e-mail.
/// </summary>
internal sealed class SlackRig : IAsyncDisposable
{
    public const string Channel = SlackApp.PaymentsChannel;
    public const string Owner = "payments";

    /// <summary>A developer who is also an approver: only the own-request rule stops them approving.</summary>
    public const string Developer = "UDEVELOP01";
    public const string Approver = SlackApp.ApproverId;
    public const string SecondApprover = "UAPPROVER2";
    public const string Suppressor = SlackApp.SuppressorId;
    public const string Instance = "i-0e2e0000000000a01";

    private SlackRig(SlackFake slack, FakeAws aws, TestApp app)
    {
        Slack = slack;
        Aws = aws;
        App = app;
    }

    public SlackFake Slack { get; }
    public FakeAws Aws { get; }
    public TestApp App { get; }

    public static async Task<SlackRig> StartAsync(RedisServer redis, Action<Dictionary<string, string?>>? configure = null)
    {
        var slack = await SlackFake.StartAsync();
        var aws = await FakeAws.StartAsync();
        aws.ManagedInstances[Instance] = "Online";
        var settings = SlackApp.Settings(slack);
        settings["Aws:Region"] = "eu-central-1";
        settings["Aws:Inspector2:ServiceUrl"] = aws.Server.BaseUrl;
        settings["Aws:Ssm:ServiceUrl"] = aws.Server.BaseUrl;
        settings["Routing:Rules:0:Target:Approvers:0"] = Approver;
        settings["Routing:Rules:0:Target:Approvers:1"] = SecondApprover;
        settings["Routing:Rules:0:Target:Approvers:2"] = Developer;
        configure?.Invoke(settings);
        var app = new TestApp(TestApp.WithRedis(redis, settings), services =>
            services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDENDTOENDSLACK001", "secret/for/the/fake")));
        app.Client();
        return new SlackRig(slack, aws, app);
    }

    /// <summary>Ingests a critical EC2 finding for payments and waits for its card; returns the group id and the card's ts.</summary>
    public async Task<(string GroupId, string Ts)> PostedCardAsync(string cve)
    {
        var evt = FindingEvents.Ec2(
            findingId: Guid.NewGuid().ToString("n"),
            cve: cve,
            instanceId: Instance,
            updatedAt: DateTimeOffset.UtcNow.AddMinutes(-5),
            tags: new Dictionary<string, string> { ["app"] = Owner });
        var response = await App.PostEventsAsync(evt.ToJsonString());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        JsonObject? post = null;
        await TestApp.Eventually(() =>
        {
            post = Slack.Calls("chat.postMessage").FirstOrDefault(c => c["thread_ts"] is null && c.ToJsonString().Contains(cve, StringComparison.Ordinal));
            return Task.FromResult(post is not null);
        }, $"card for {cve} posted to Slack");
        Assert.Equal(Channel, post!["channel"]!.GetValue<string>());
        // The card's ts comes from the fake's answer; the stored card reference is the way to read it back.
        var groupId = GroupIds.For(Owner, cve);
        string? ts = null;
        await TestApp.Eventually(async () =>
        {
            var group = await App.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(groupId, default);
            ts = group?.Cards.TryGetValue("slack", out var card) == true ? card.MessageId : null;
            return ts is not null;
        }, "Slack card reference stored");
        return (groupId, ts!);
    }

    /// <summary>A card button press as Slack sends it (block_actions, signed), from the card's channel and message.</summary>
    public async Task<string> ClickAsync(string actionId, string value, string userId, string ts)
    {
        var payload = JsonNode.Parse(Fixtures.Read("slack", "block-actions-message.json"))!.AsObject();
        var responseUrl = Slack.NewResponseUrl();
        payload["user"] = new JsonObject { ["id"] = userId, ["username"] = userId.ToLowerInvariant(), ["team_id"] = "T9TK3CUKW" };
        payload["response_url"] = responseUrl;
        payload["trigger_id"] = Guid.NewGuid().ToString("n");
        payload["channel"] = new JsonObject { ["id"] = Channel, ["name"] = Owner };
        payload["container"]!["type"] = "message";
        payload["container"]!["channel_id"] = Channel;
        payload["container"]!["message_ts"] = ts;
        payload["message"]!["ts"] = ts;
        payload["actions"]![0]!["action_id"] = actionId;
        payload["actions"]![0]!["value"] = value;
        var response = await SendAsync(payload);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return responseUrl;
    }

    /// <summary>Presses the button of <paramref name="action"/> (e.g. "approve") exactly as it appears on <paramref name="card"/>.</summary>
    public Task<string> PressAsync(JsonObject card, string action, string userId)
    {
        var button = Button(card, action) ?? throw new InvalidOperationException($"The card has no '{action}' button: {card.ToJsonString()}");
        return ClickAsync(button["action_id"]!.GetValue<string>(), button["value"]!.GetValue<string>(), userId, card["ts"]!.GetValue<string>());
    }

    /// <summary>A dialog submission as Slack sends it (view_submission, signed).</summary>
    public async Task<HttpResponseMessage> SubmitAsync(JsonObject openedView, JsonObject values, string userId)
    {
        var payload = JsonNode.Parse(Fixtures.Read("slack", "view-submission.json"))!.AsObject();
        payload["user"] = new JsonObject { ["id"] = userId, ["username"] = userId.ToLowerInvariant() };
        var view = payload["view"]!.AsObject();
        view["id"] = "V" + Guid.NewGuid().ToString("n")[..10];
        view["callback_id"] = openedView["callback_id"]!.GetValue<string>();
        view["private_metadata"] = openedView["private_metadata"]!.GetValue<string>();
        view["state"] = new JsonObject { ["values"] = values };
        return await SendAsync(payload);
    }

    private Task<HttpResponseMessage> SendAsync(JsonObject payload) =>
        App.Client().SendAsync(SlackSigner.Signed("/api/slack/interactions", SlackSigner.Form(("payload", payload.ToJsonString())),
            "application/x-www-form-urlencoded", SlackApp.Secret));

    /// <summary>The latest chat.update of the card at <paramref name="ts"/> that satisfies <paramref name="match"/>.</summary>
    public async Task<JsonObject> CardUpdateAsync(string ts, Func<JsonObject, bool> match, string what)
    {
        JsonObject? update = null;
        await TestApp.Eventually(() =>
        {
            update = Slack.Calls("chat.update").LastOrDefault(u => u["ts"]?.GetValue<string>() == ts && match(u));
            return Task.FromResult(update is not null);
        }, what);
        return update!;
    }

    public static JsonObject? Button(JsonObject message, string action) =>
        (message["blocks"] as JsonArray ?? [])
            .Where(b => b?["type"]?.GetValue<string>() == "actions")
            .SelectMany(b => b!["elements"]!.AsArray())
            .OfType<JsonObject>()
            .FirstOrDefault(e => e["action_id"]?.GetValue<string>().StartsWith(action + ":", StringComparison.Ordinal) == true);

    public static string[] ButtonLabels(JsonObject message) =>
        (message["blocks"] as JsonArray ?? [])
            .Where(b => b?["type"]?.GetValue<string>() == "actions")
            .SelectMany(b => b!["elements"]!.AsArray())
            .Select(e => e!["text"]!["text"]!.GetValue<string>())
            .ToArray();

    /// <summary>The text of the private answer sent to one click's response_url.</summary>
    public async Task<string> ReplyTextAsync(string responseUrl, string what)
    {
        var reply = await Slack.ResponseAsync(responseUrl, what);
        Assert.Equal("ephemeral", reply["response_type"]!.GetValue<string>());
        return reply["text"]!.GetValue<string>();
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Aws.DisposeAsync();
        await Slack.DisposeAsync();
    }
}
