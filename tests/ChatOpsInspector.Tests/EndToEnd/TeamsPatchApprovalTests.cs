using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using ChatOpsInspector.Tests.Teams;
using ChatOpsInspector.Tests.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.EndToEnd;

/// <summary>
/// The approval rule through Teams Universal Actions: the bot installed in a channel posts the card,
/// and every click is an <c>adaptiveCard/action</c> invoke with a signed Bot Framework token.
/// </summary>
public sealed class TeamsPatchApprovalTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    /// <summary>An approver who also requests patches: only the own-request rule stops them approving.</summary>
    private const string RequesterAad = "d0e2e000-0000-4000-8000-00000000d001";
    private const string Instance = "i-0e2e0000000000b01";

    private BotFramework _bf = null!;
    private FakeAws _aws = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _bf = await BotFramework.StartAsync();
        _aws = await FakeAws.StartAsync();
        _aws.ManagedInstances[Instance] = "Online";
        _app = new TestApp(TestApp.WithRedis(redis, _bf.Settings(new()
        {
            ["Aws:Region"] = "eu-central-1",
            ["Aws:Inspector2:ServiceUrl"] = _aws.Server.BaseUrl,
            ["Aws:Ssm:ServiceUrl"] = _aws.Server.BaseUrl,
            ["Routing:Default:Approvers:1"] = RequesterAad,
        })), services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDENDTOENDTEAMS001", "secret/for/the/fake")));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
        await _bf.DisposeAsync();
    }

    private async Task<JsonNode> InvokeAsync(string verb, JsonObject data, string aad, string name)
    {
        // Data taken from a card still belongs to it; the invoke carries a copy, as Teams sends.
        var activity = _bf.Invoke(verb, data.DeepClone().AsObject(), aad, name);
        activity["conversation"] = new JsonObject
        {
            ["id"] = BotFramework.ChannelId,
            ["isGroup"] = true,
            ["conversationType"] = "channel",
            ["tenantId"] = BotFramework.TenantId,
        };
        var response = await _bf.SendAsync(_app, activity);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(200, body["statusCode"]!.GetValue<int>());
        Assert.Equal("application/vnd.microsoft.card.adaptive", body["type"]!.GetValue<string>());
        Schemas.AssertValidCard(body["value"]);
        return body["value"]!;
    }

    private static JsonObject? Action(JsonNode card, string verb) =>
        card["actions"]?.AsArray().OfType<JsonObject>().FirstOrDefault(a => a["verb"]?.GetValue<string>() == verb);

    /// <summary>The card's "State: …" row (a RichTextBlock of a bold title run and the value run), as one string.</summary>
    private static string State(JsonNode card) =>
        card["body"]!.AsArray()
            .Select(b => b?["inlines"] is JsonArray runs ? string.Concat(runs.Select(r => r?["text"]?.GetValue<string>())) : null)
            .First(t => t?.StartsWith("State: ", StringComparison.Ordinal) == true)!;

    /// <summary>The data of the confirmation card's Confirm button: the same action without the confirmation step.</summary>
    private static JsonObject ConfirmData(JsonNode confirmation)
    {
        var confirm = confirmation["actions"]!.AsArray().OfType<JsonObject>().First();
        Assert.Null(confirm["data"]!["step"]);
        return confirm["data"]!.AsObject();
    }

    private int SendCommands => _aws.Ssm("SendCommand").Count();

    [Fact]
    public async Task RequesterCannotApproveTheirOwnPatchInTeamsButAnotherApproverStartsExactlyOneCommand()
    {
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(_app, _bf.BotAddedToTeam())).StatusCode);
        var evt = FindingEvents.Ec2("teams-e2e-1", cve: "CVE-2099-73001", instanceId: Instance, updatedAt: DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(HttpStatusCode.Accepted, (await _app.PostEventsAsync(evt.ToJsonString())).StatusCode);
        string? groupId = null;
        await TestApp.Eventually(async () =>
        {
            groupId = (await _app.Service<AlertQueries>().GroupsAsync("security", default)).FirstOrDefault(g => g.Cards.ContainsKey("teams"))?.Id;
            return groupId is not null;
        }, "card posted to the Teams channel");

        var requesterCard = await InvokeAsync("refresh", new JsonObject { ["groupId"] = groupId }, RequesterAad, "Dana Developer");
        var request = Action(requesterCard, "patch");
        Assert.NotNull(request);
        var checking = await InvokeAsync("patch", request!["data"]!.AsObject(), RequesterAad, "Dana Developer");
        // Answered before SSM is asked; the check runs from the queue and the card follows.
        Assert.Contains("checking SSM", State(checking), StringComparison.Ordinal);
        JsonNode requested = checking;
        await TestApp.Eventually(async () =>
        {
            requested = await InvokeAsync("refresh", new JsonObject { ["groupId"] = groupId }, RequesterAad, "Dana Developer");
            return State(requested).Contains("awaiting approval", StringComparison.Ordinal);
        }, "SSM checked and the request open for approval");

        var ownApprove = Action(requested, "approve");
        Assert.NotNull(ownApprove);
        Assert.False(string.IsNullOrEmpty(ownApprove!["data"]!["patchRequestId"]?.GetValue<string>()));
        var refused = await InvokeAsync("approve", ConfirmData(await InvokeAsync("approve", ownApprove["data"]!.AsObject(), RequesterAad, "Dana Developer")), RequesterAad, "Dana Developer");
        Assert.Contains("You requested this; another approver must approve it.", refused.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("awaiting approval", State(refused), StringComparison.Ordinal);
        Assert.Equal(0, SendCommands);

        var approverCard = await InvokeAsync("refresh", new JsonObject { ["groupId"] = groupId }, BotFramework.ApproverAad, "Avery Approver");
        var approve = Action(approverCard, "approve");
        Assert.NotNull(approve);
        // The first press only asks: what runs (document, operation, reboot, the instance), Confirm or Cancel.
        var confirmation = await InvokeAsync("approve", approve!["data"]!.AsObject(), BotFramework.ApproverAad, "Avery Approver");
        var asked = confirmation.ToJsonString();
        foreach (var shown in new[] { "Approve patch?", "AWS-RunPatchBaseline", "Operation=Install", "RebootOption=RebootIfNeeded", "may reboot", Instance, "Cancel" })
        {
            Assert.Contains(shown, asked, StringComparison.Ordinal);
        }
        Assert.Equal(0, SendCommands);
        Assert.Equal(GroupState.PatchRequested, (await _app.Service<IAlertStore>().GetGroupAsync(groupId!, default))!.Workflow.State);
        var confirm = ConfirmData(confirmation);
        var approved = await InvokeAsync("approve", confirm, BotFramework.ApproverAad, "Avery Approver");

        Assert.StartsWith("State: Patching", State(approved), StringComparison.Ordinal);
        Assert.Null(Action(approved, "approve"));
        await TestApp.Eventually(() => Task.FromResult(SendCommands == 1), "the queued start sent the command");
        var send = Assert.Single(_aws.Ssm("SendCommand"));
        using (var body = JsonDocument.Parse(send.Body))
        {
            Assert.Equal("AWS-RunPatchBaseline", body.RootElement.GetProperty("DocumentName").GetString());
            Assert.Equal("Install", body.RootElement.GetProperty("Parameters").GetProperty("Operation")[0].GetString());
            Assert.Equal([Instance], body.RootElement.GetProperty("InstanceIds").EnumerateArray().Select(i => i.GetString()));
        }

        // A second click on the approver's stale card changes nothing.
        var again = await InvokeAsync("approve", confirm, BotFramework.ApproverAad, "Avery Approver");
        Assert.Contains("Already approved by Avery Approver", again.ToJsonString(), StringComparison.Ordinal);
        await TestApp.Eventually(() => Task.FromResult(_bf.Connector.Requests.Any(r => r.Method == "PUT" && r.Body.Contains("Patching", StringComparison.Ordinal))),
            "channel card updated to Patching for everyone");
        Assert.Equal(1, SendCommands);
    }
    [Fact]
    public async Task AnApproverWhoAsksForTheOwnersAlertsGetsAnApproveButtonThatDecidesThePendingRequest()
    {
        // Approvers on a phone rarely scroll back to the channel card: they ask "vulns security" and approve from the answer.
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(_app, _bf.BotAddedToTeam())).StatusCode);
        var evt = FindingEvents.Ec2("teams-e2e-2", cve: "CVE-2099-73002", instanceId: Instance, updatedAt: DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(HttpStatusCode.Accepted, (await _app.PostEventsAsync(evt.ToJsonString())).StatusCode);
        string? groupId = null;
        await TestApp.Eventually(async () =>
        {
            groupId = (await _app.Service<AlertQueries>().GroupsAsync("security", default)).FirstOrDefault(g => g.Cards.ContainsKey("teams"))?.Id;
            return groupId is not null;
        }, "card posted to the Teams channel");
        var requesterCard = await InvokeAsync("refresh", new JsonObject { ["groupId"] = groupId }, RequesterAad, "Dana Developer");
        await InvokeAsync("patch", Action(requesterCard, "patch")!["data"]!.AsObject(), RequesterAad, "Dana Developer");
        // The SSM check runs from the queue; only a checked request offers Approve.
        await TestApp.Eventually(async () => (await _app.Service<AlertQueries>().GroupsAsync("security", default))
            .Single(g => g.Id == groupId).Workflow.Patch is { Checking: false }, "SSM checked and the request open for approval");
        var pending = (await _app.Service<AlertQueries>().GroupsAsync("security", default)).Single(g => g.Id == groupId).Workflow.Patch!.Id;

        var ask = _bf.ChannelMention("vulns security");
        ask["from"]!["aadObjectId"] = BotFramework.ApproverAad;
        ask["from"]!["name"] = "Avery Approver";
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(_app, ask)).StatusCode);
        JsonObject? approve = null;
        await TestApp.Eventually(() =>
        {
            approve = _bf.Connector.Requests
                .Where(r => r.Method == "POST" && r.Body.Contains("CVE-2099-73002", StringComparison.Ordinal))
                .SelectMany(r => JsonNode.Parse(r.Body)!["attachments"]?.AsArray() ?? [])
                .Select(a => Action(a!["content"]!, "approve"))
                .FirstOrDefault(a => a is not null);
            return Task.FromResult(approve is not null);
        }, "the answer's card with Approve patch");

        Assert.Equal(pending, approve!["data"]!["patchRequestId"]?.GetValue<string>());
        // The answer's Approve asks first, like the channel card's; Confirm decides the same pending request.
        var confirmation = await InvokeAsync("approve", approve["data"]!.AsObject(), BotFramework.ApproverAad, "Avery Approver");
        Assert.Contains("Approve patch?", confirmation.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(0, SendCommands);
        var confirm = ConfirmData(confirmation);
        Assert.Equal(pending, confirm["patchRequestId"]?.GetValue<string>());
        var approved = await InvokeAsync("approve", confirm, BotFramework.ApproverAad, "Avery Approver");
        Assert.StartsWith("State: Patching", State(approved), StringComparison.Ordinal);
        await TestApp.Eventually(() => Task.FromResult(SendCommands == 1), "the queued start sent the command");
        Assert.Equal(1, SendCommands);
    }
}
