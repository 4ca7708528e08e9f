using System.Net;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Workflow;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Teams;

/// <summary>
/// Card buttons as Teams sends them (signed Action.Execute invokes) against a bot whose Inspector2 and SSM
/// are <see cref="FakeAws"/>: each action answers with a valid card and has its effect on the group and in AWS.
/// </summary>
public sealed class TeamsCardActionTests : IAsyncLifetime
{
    private const string Instance = "i-0123456789abcdef0";
    private BotFramework _bf = null!;
    private FakeAws _aws = null!;
    private TestApp _app = null!;
    private string _groupId = "";

    public async Task InitializeAsync()
    {
        _bf = await BotFramework.StartAsync();
        _aws = await FakeAws.StartAsync();
        _aws.ManagedInstances[Instance] = "Online";
        _app = new TestApp(_bf.Settings(new()
        {
            ["Aws:Region"] = "eu-west-1",
            ["Aws:Inspector2:ServiceUrl"] = _aws.Server.BaseUrl,
            ["Aws:Ssm:ServiceUrl"] = _aws.Server.BaseUrl,
        }), services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDTEAMSCARDACTION1", "secret/for/the/fake")));
        await _app.PostEventsAsync(FindingEvents.Ec2("f1", instanceId: Instance).ToJsonString());
        _groupId = Assert.Single(await _app.Service<AlertQueries>().GroupsAsync("security", default)).Id;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
        await _bf.DisposeAsync();
    }

    private async Task<JsonNode> InvokeAsync(string verb, JsonObject? inputs = null, string user = BotFramework.MemberAad)
    {
        var data = new JsonObject { ["groupId"] = _groupId };
        foreach (var (k, v) in inputs ?? [])
        {
            data[k] = v?.DeepClone();
        }
        var response = await _bf.SendAsync(_app, _bf.Invoke(verb, data, user));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static JsonNode AssertCard(JsonNode response)
    {
        Assert.Equal(200, response["statusCode"]!.GetValue<int>());
        Assert.Equal("application/vnd.microsoft.card.adaptive", response["type"]!.GetValue<string>());
        Schemas.AssertValidCard(response["value"]);
        return response["value"]!;
    }

    private static string[] ButtonTitles(JsonNode card) =>
        card["actions"]?.AsArray().Select(a => a!["title"]!.GetValue<string>()).ToArray() ?? [];

    /// <summary>Verb, inputs, the group's state afterwards, a phrase the answering card must show, the AWS call it must make.</summary>
    public static TheoryData<string, string, string, string, string> Actions => new()
    {
        { "refresh", "", "New", "CVE-2024-29069", "" },
        { "ack", "", "Acknowledged", "You acknowledged CVE-2024-29069", "" },
        { "assign", """{"assignee":"me"}""", "Assigned", "Assigned", "" },
        { "assign", """{"assignee":"ana@example.com"}""", "Assigned", "Assigned", "" },
        { "suppress", """{"reason":"accepted risk until the vendor ships","expiry":"30"}""", "Suppressed", "Suppressed", "/filters/create" },
        { "suppress", """{"reason":"accepted","expiry":"30","expiryDate":"{in60days}"}""", "Suppressed", "Suppressed", "/filters/create" },
        { "unsuppress", "", "New", "This alert is not suppressed.", "" },
        { "patch", "", "PatchRequested", "Patch requested by Rido, checking SSM", "AmazonSSM.DescribeInstanceInformation" },
        { "approve", """{"patchRequestId":"p-1"}""", "New", "There is no patch request waiting for a decision.", "" },
        { "reject", """{"patchRequestId":"p-1","reason":"not in the change window"}""", "New", "There is no patch request waiting for a decision.", "" },
        { "isolate", "", "New", "Remediation:IsolationDocument", "" },
    };

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task EachActionAnswersWithASchemaValidCardAndHasItsEffect(string verb, string inputs, string state, string shown, string aws)
    {
        inputs = inputs.Replace("{in60days}", DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd"), StringComparison.Ordinal);
        var response = await InvokeAsync(verb, inputs.Length == 0 ? null : JsonNode.Parse(inputs)!.AsObject(), BotFramework.SuppressorAad);

        var card = AssertCard(response);
        Assert.Equal("refresh", card["refresh"]!["action"]!["verb"]!.GetValue<string>());
        Assert.Equal(_groupId, card["refresh"]!["action"]!["data"]!["groupId"]!.GetValue<string>());
        Assert.True(card.ToJsonString().Contains(shown, StringComparison.Ordinal), $"'{shown}' not on the card: {card.ToJsonString()}");
        var group = (await _app.Service<AlertQueries>().FindAsync(_groupId, default)).Single();
        Assert.Equal(Enum.Parse<GroupState>(state), group.Workflow.State);
        var awsCalls = _aws.Server.Requests.Select(r => r.Headers.TryGetValue("X-Amz-Target", out var t) ? t : r.Path).ToArray();
        if (aws.Length > 0)
        {
            // SSM is asked from the remediation queue a moment after the answer; Inspector within the request.
            await TestApp.Eventually(() => Task.FromResult(_aws.Server.Requests.Any(r => (r.Headers.TryGetValue("X-Amz-Target", out var t) ? t : r.Path) == aws)), aws);
        }
        Assert.DoesNotContain("AmazonSSM.SendCommand", awsCalls);
    }

    /// <summary>
    /// Production condition: SSM answering after 12 s (a slow region, a throttled account), while the Bot
    /// Service gives an invoke 10–15 s before it shows the user an error. Requesting and approving a
    /// patch are answered with the card in its working state within a 5 s client timeout; the SSM check
    /// and the SendCommand run from the durable remediation queue and finish later.
    /// </summary>
    [Fact]
    public async Task SlowAwsDoesNotHoldUpTheInvokeAndTheQueuedWorkFinishesLater()
    {
        _aws.SsmDelay = TimeSpan.FromSeconds(12);

        var requested = AssertCard(await InvokeWithin5sAsync("patch", new JsonObject { ["groupId"] = _groupId }, BotFramework.MemberAad));
        Assert.Contains("checking SSM", requested.ToJsonString(), StringComparison.Ordinal);
        await TestApp.Eventually(async () => (await GroupAsync()).Workflow.Patch is { Checking: false }, "SSM check finished after the slow answer", 60_000);
        var pending = (await GroupAsync()).Workflow.Patch!;
        Assert.Equal([Instance], pending.InstanceIds);

        var approved = AssertCard(await InvokeWithin5sAsync("approve", new JsonObject { ["groupId"] = _groupId, ["patchRequestId"] = pending.Id }, BotFramework.ApproverAad));
        // The "State: …" row is a RichTextBlock: a bold title run and the value run.
        Assert.Contains(approved["body"]!.AsArray(), b => b?["inlines"] is JsonArray runs
            && string.Concat(runs.Select(r => r?["text"]?.GetValue<string>())).StartsWith("State: Patching", StringComparison.Ordinal));
        Assert.Empty((await GroupAsync()).Workflow.Patch!.CommandIds); // answered before SendCommand was even answered
        await TestApp.Eventually(async () => (await GroupAsync()).Workflow.Patch!.CommandIds.Count == 1, "SendCommand recorded after the slow answer", 60_000);
        Assert.Single(_aws.Ssm("SendCommand"));
        Assert.Empty(_aws.Rejected);
    }

    private async Task<AlertGroup> GroupAsync() => (await _app.Service<AlertQueries>().FindAsync(_groupId, default)).Single();

    private async Task<JsonNode> InvokeWithin5sAsync(string verb, JsonObject data, string user)
    {
        var activity = _bf.Invoke(verb, data, user);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages")
        {
            Content = new StringContent(activity.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _bf.Token(activity["serviceUrl"]!.GetValue<string>()));
        using var client = _app.Client();
        client.Timeout = TimeSpan.FromSeconds(5); // A slower answer fails the test with a TaskCanceledException.
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task AcknowledgeChangesTheStateAndSaysSo()
    {
        var card = AssertCard(await InvokeAsync("ack", user: BotFramework.MemberAad));

        Assert.Contains("You acknowledged CVE-2024-29069", card.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Ack", ButtonTitles(card));
        var group = (await _app.Service<AlertQueries>().FindAsync(_groupId, default)).Single();
        Assert.Equal(BotFramework.MemberAad, group.Workflow.AcknowledgedBy!.UserId);
        Assert.Equal("teams", group.Workflow.AcknowledgedBy.Platform);
    }

    [Fact]
    public async Task AssignToMeAssignsTheClicker()
    {
        AssertCard(await InvokeAsync("assign", new JsonObject { ["assignee"] = "me" }, BotFramework.MemberAad));

        var group = (await _app.Service<AlertQueries>().FindAsync(_groupId, default)).Single();
        Assert.Equal(BotFramework.MemberAad, group.Workflow.AssignedTo!.UserId);
    }

    [Fact]
    public async Task SuppressorSeesSuppressButOthersDoNot()
    {
        var suppressor = AssertCard(await InvokeAsync("refresh", user: BotFramework.SuppressorAad));
        var member = AssertCard(await InvokeAsync("refresh", user: BotFramework.MemberAad));

        Assert.Contains("Suppress", ButtonTitles(suppressor));
        Assert.DoesNotContain("Suppress", ButtonTitles(member));
        Assert.Contains("Ack", ButtonTitles(member));
    }

    [Fact]
    public async Task SuppressorConfiguredByEmailIsRecognisedThroughTheMemberList()
    {
        _bf.MemberEmail = "Sec-Lead@example.com";
        const string someone = "d0000000-0000-4000-8000-000000000042";

        var first = AssertCard(await InvokeAsync("refresh", user: someone));
        var second = AssertCard(await InvokeAsync("refresh", user: someone));

        Assert.Contains("Suppress", ButtonTitles(first));
        Assert.Contains("Suppress", ButtonTitles(second));
        Assert.Single(_bf.Connector.Requests, r => r.Method == "GET" && r.Path.Contains("/members/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnauthorisedUserGetsACardSayingWhoMaySuppress()
    {
        var card = AssertCard(await InvokeAsync("suppress", new JsonObject { ["reason"] = "meh", ["expiry"] = "7" }, BotFramework.MemberAad));

        Assert.Contains("Only the suppressors of security", card.ToJsonString(), StringComparison.Ordinal);
        var group = (await _app.Service<AlertQueries>().FindAsync(_groupId, default)).Single();
        Assert.Equal(GroupState.New, group.Workflow.State);
        Assert.DoesNotContain(_aws.Server.Requests, r => r.Path == "/filters/create");
    }

    [Theory]
    [InlineData("suppress", """{"expiry":"30"}""", "reason is required")]
    [InlineData("suppress", """{"reason":"x","expiry":"45"}""", "7, 30 or 90")]
    [InlineData("suppress", """{"reason":"x","expiryDate":"2001-01-01"}""", "in the future")]
    [InlineData("suppress", """{"reason":"x","expiryDate":"tomorrow"}""", "2026-12-31")]
    [InlineData("assign", "{}", "Pick a person")]
    [InlineData("approve", "{}", "which patch request")]
    [InlineData("explode", "{}", "Unknown action")]
    public async Task BadInputIsAnsweredWithAnErrorObject(string verb, string inputs, string message)
    {
        var response = await InvokeAsync(verb, JsonNode.Parse(inputs)!.AsObject(), BotFramework.SuppressorAad);

        Assert.Equal(400, response["statusCode"]!.GetValue<int>());
        Assert.Equal("application/vnd.microsoft.error", response["type"]!.GetValue<string>());
        Assert.Equal("BadRequest", response["value"]!["code"]!.GetValue<string>());
        Assert.Contains(message, response["value"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>
    /// In a personal chat (not the owner's channel) a user who is none of the owner's or the security
    /// team's people neither sees the card nor acknowledges it; the refusal shows nothing of the alert.
    /// </summary>
    [Fact]
    public async Task OutsiderInAPersonalChatGetsNoCardAndChangesNothing()
    {
        const string outsider = "0u751de0-0000-4000-8000-000000000001";

        var refreshed = AssertCard(await InvokeAsync("refresh", user: outsider));
        var acked = AssertCard(await InvokeAsync("ack", user: outsider));

        foreach (var card in new[] { refreshed, acked })
        {
            Assert.Contains("Alert not available", card.ToJsonString(), StringComparison.Ordinal);
            Assert.DoesNotContain("CVE-", card.ToJsonString(), StringComparison.Ordinal);
        }
        var group = await _app.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(_groupId, default);
        Assert.Null(group!.Workflow.AcknowledgedBy);
        // The security team's member in the same personal chat sees it: only who asked differed.
        Assert.Contains("CVE-", AssertCard(await InvokeAsync("refresh")).ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Every button pressed by an outsider on an alert they may not see is answered with exactly the bytes
    /// of the answer for a group id that does not exist, so a refusal never confirms that an alert exists.
    /// </summary>
    [Fact]
    public async Task OutsidersButtonOnAnInvisibleAlertIsAnsweredExactlyAsOnOneThatDoesNotExist()
    {
        const string outsider = "0u751de0-0000-4000-8000-000000000001";
        var missing = GroupIds.For("security", "CVE-2099-0000002");
        var verbs = new (string Verb, string Inputs)[]
        {
            ("refresh", "{}"), ("ack", "{}"), ("assign", """{"assignee":"me"}"""),
            ("suppress", """{"reason":"accepted","expiry":"30"}"""), ("unsuppress", "{}"), ("patch", "{}"),
            ("approve", """{"patchRequestId":"p-1"}"""), ("reject", """{"patchRequestId":"p-1","reason":"no"}"""), ("isolate", "{}"),
        };
        foreach (var (verb, inputs) in verbs)
        {
            async Task<string> Answer(string groupId)
            {
                var data = JsonNode.Parse(inputs)!.AsObject();
                data["groupId"] = groupId;
                var response = await _bf.SendAsync(_app, _bf.Invoke(verb, data, outsider));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return await response.Content.ReadAsStringAsync();
            }
            var onHidden = await Answer(_groupId);
            var onMissing = await Answer(missing);
            Assert.True(onHidden == onMissing, $"{verb}: {onHidden} vs {onMissing}");
            Assert.Contains("Alert not found or not visible to you.", onHidden, StringComparison.Ordinal);
        }
        var group = await _app.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(_groupId, default);
        Assert.Equal(GroupState.New, group!.Workflow.State);
        Assert.DoesNotContain(_aws.Server.Requests, r => r.Path == "/filters/create");
    }

    [Fact]
    public async Task CardFromSomethingElseIsABadRequest()
    {
        var fixture = _bf.Captured("invoke-adaptiveCard-action.teams-net-test.json");

        var response = await _bf.SendAsync(_app, fixture);

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(400, body["statusCode"]!.GetValue<int>());
        Assert.Equal("application/vnd.microsoft.error", body["type"]!.GetValue<string>());
    }
}
