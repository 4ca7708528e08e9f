using System.Net;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Slack;
using ChatOpsInspector.Tests.Teams;
using ChatOpsInspector.Tests.Workflow;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.EndToEnd;

/// <summary>
/// One bot on Slack and Teams at once, with real Slack signatures and real Bot Framework tokens: identity
/// is (platform, workspace or tenant, user id), and the four-eyes rule sees one human across platforms.
/// The payments approvers are a developer listed by Slack id and Entra id together, a Slack approver,
/// a Teams approver, and a person listed by e-mail only.
/// </summary>
public sealed class CrossPlatformIdentityTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string Developer = "UDEVELOP01";
    private const string DeveloperAad = "de7e0000-0000-4000-8000-00000000de01";
    private const string SlackApprover = SlackApp.ApproverId;
    private const string EmailApproverSlack = "UMAILER001";
    /// <summary>The fake Slack's users.info gives every user id lower-cased at example.com.</summary>
    private const string EmailApprover = "umailer001@example.com";
    private const string Instance = "i-0c0055000000000a1";

    private SlackFake _slack = null!;
    private BotFramework _bf = null!;
    private FakeAws _aws = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _slack = await SlackFake.StartAsync();
        _bf = await BotFramework.StartAsync();
        _aws = await FakeAws.StartAsync();
        _aws.ManagedInstances[Instance] = "Online";
        var settings = SlackApp.Settings(_slack);
        foreach (var (key, value) in _bf.Settings())
        {
            if (key.StartsWith("Teams:", StringComparison.Ordinal))
            {
                settings[key] = value;
            }
        }
        settings["Aws:Region"] = "eu-central-1";
        settings["Aws:Inspector2:ServiceUrl"] = _aws.Server.BaseUrl;
        settings["Aws:Ssm:ServiceUrl"] = _aws.Server.BaseUrl;
        settings["Routing:Rules:0:Target:TeamsChannel"] = BotFramework.ChannelId;
        settings["Routing:Rules:0:Target:Approvers:0"] = $"{Developer}, {DeveloperAad}";
        settings["Routing:Rules:0:Target:Approvers:1"] = SlackApprover;
        settings["Routing:Rules:0:Target:Approvers:2"] = BotFramework.ApproverAad;
        settings["Routing:Rules:0:Target:Approvers:3"] = EmailApprover;
        _app = new TestApp(TestApp.WithRedis(redis, settings), services =>
            services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDCROSSPLATFORM01", "secret/for/the/fake")));
        _app.Client();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
        await _bf.DisposeAsync();
        await _slack.DisposeAsync();
    }

    private int SendCommands => _aws.Ssm("SendCommand").Count();

    private async Task<AlertGroup> GroupAsync(string groupId) => (await _app.Service<IAlertStore>().GetGroupAsync(groupId, default))!;

    /// <summary>Ingests a payments finding and has <paramref name="requester"/> press "Request patch" in Slack.</summary>
    private async Task<(string GroupId, string PatchId)> RequestedInSlackAsync(string cve, string requester)
    {
        var evt = FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: cve, instanceId: Instance, updatedAt: DateTimeOffset.UtcNow.AddMinutes(-5),
            tags: new Dictionary<string, string> { ["app"] = "payments" });
        Assert.Equal(HttpStatusCode.Accepted, (await _app.PostEventsAsync(evt.ToJsonString())).StatusCode);
        var groupId = GroupIds.For("payments", cve);
        await TestApp.Eventually(async () => await _app.Service<IAlertStore>().GetGroupAsync(groupId, default) is not null, "group stored");
        var url = await SlackClickAsync($"patch:{groupId}", groupId, requester);
        await _slack.ResponseAsync(url, "answer to the patch request");
        // The SSM check runs from the queue a moment after the answer; decisions wait for it.
        await TestApp.Eventually(async () => (await GroupAsync(groupId)).Workflow.Patch is { Checking: false }, "SSM checked");
        var group = await GroupAsync(groupId);
        Assert.Equal(GroupState.PatchRequested, group.Workflow.State);
        return (groupId, group.Workflow.Patch!.Id);
    }

    private async Task<string> SlackClickAsync(string actionId, string value, string userId)
    {
        var payload = JsonNode.Parse(Fixtures.Read("slack", "block-actions-message.json"))!.AsObject();
        var responseUrl = _slack.NewResponseUrl();
        payload["user"] = new JsonObject { ["id"] = userId, ["username"] = userId.ToLowerInvariant(), ["team_id"] = SlackApp.TeamId };
        payload["response_url"] = responseUrl;
        payload["trigger_id"] = Guid.NewGuid().ToString("n");
        payload["channel"] = new JsonObject { ["id"] = SlackApp.PaymentsChannel, ["name"] = "payments" };
        payload["container"]!["channel_id"] = SlackApp.PaymentsChannel;
        payload["actions"]![0]!["action_id"] = actionId;
        payload["actions"]![0]!["value"] = value;
        var response = await _app.Client().SendAsync(SlackSigner.Signed("/api/slack/interactions",
            SlackSigner.Form(("payload", payload.ToJsonString())), "application/x-www-form-urlencoded", SlackApp.Secret));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return responseUrl;
    }

    /// <summary>An Approve press on the Teams card in the payments channel; returns the HTTP status and the card's text.</summary>
    private async Task<(HttpStatusCode Status, string Card)> TeamsApproveAsync(string groupId, string patchId, string aad, string name, string tenant = BotFramework.TenantId)
    {
        var activity = _bf.Invoke("approve", new JsonObject { ["groupId"] = groupId, ["patchRequestId"] = patchId }, aad, name);
        activity["from"]!["id"] = aad.Contains('-', StringComparison.Ordinal) ? "29:" + aad : aad;
        activity["conversation"] = new JsonObject
        {
            ["id"] = BotFramework.ChannelId + ";messageid=1700000000000",
            ["isGroup"] = true,
            ["conversationType"] = "channel",
            ["tenantId"] = tenant,
        };
        activity["channelData"]!["tenant"]!["id"] = tenant;
        var response = await _bf.SendAsync(_app, activity);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Issue case 2: an activity whose sender id is a Slack approver's id is a Teams user, not that approver.</summary>
    [Fact]
    public async Task TeamsSenderCarryingASlackApproversIdIsNotThatApprover()
    {
        var (groupId, patchId) = await RequestedInSlackAsync("CVE-2099-74001", Developer);

        var (status, card) = await TeamsApproveAsync(groupId, patchId, SlackApprover, "Not The Approver");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Only the approvers of payments may decide patch requests.", card, StringComparison.Ordinal);
        Assert.Equal(GroupState.PatchRequested, (await GroupAsync(groupId)).Workflow.State);
        Assert.Equal(0, SendCommands);
    }

    /// <summary>Issue case 5: one approver entry lists the developer's Slack id and Entra id, so they are one person.</summary>
    [Fact]
    public async Task RequesterListedBySlackAndEntraIdCannotApproveInTeamsButAnotherApproverCan()
    {
        var (groupId, patchId) = await RequestedInSlackAsync("CVE-2099-74002", Developer);

        var (_, own) = await TeamsApproveAsync(groupId, patchId, DeveloperAad, "Dana Developer");

        Assert.Contains("You requested this; another approver must approve it.", own, StringComparison.Ordinal);
        Assert.Equal(GroupState.PatchRequested, (await GroupAsync(groupId)).Workflow.State);
        Assert.Equal(0, SendCommands);

        var (_, other) = await TeamsApproveAsync(groupId, patchId, BotFramework.ApproverAad, "Avery Approver");

        Assert.Contains("Patching", other, StringComparison.Ordinal);
        Assert.Equal(GroupState.Patching, (await GroupAsync(groupId)).Workflow.State);
        await TestApp.Eventually(() => Task.FromResult(SendCommands == 1), "the queued start sent the command");
        Assert.Equal(1, SendCommands);
        // The audit names every actor by platform, workspace or tenant, and id.
        var audit = await _app.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 1000, default);
        var requested = Assert.Single(audit, r => r.GroupId == groupId && r.Action == "patch_requested");
        Assert.Equal(("slack", SlackApp.TeamId, Developer), (requested.ActorPlatform, requested.ActorWorkspace, requested.ActorId));
        var approved = Assert.Single(audit, r => r.GroupId == groupId && r.Action == "patch_approved");
        Assert.Equal(("teams", BotFramework.TenantId, BotFramework.ApproverAad), (approved.ActorPlatform, approved.ActorWorkspace, approved.ActorId));
    }

    /// <summary>The same e-mail behind a Slack account and a Teams account is one person for four eyes.</summary>
    [Fact]
    public async Task SameEmailInSlackAndTeamsCannotApproveItsOwnRequest()
    {
        var (groupId, patchId) = await RequestedInSlackAsync("CVE-2099-74003", EmailApproverSlack);
        _bf.MemberEmail = EmailApprover;

        var (_, card) = await TeamsApproveAsync(groupId, patchId, "e0a11000-0000-4000-8000-0000000e0a11", "Mel Mailer");

        Assert.Contains("You requested this; another approver must approve it.", card, StringComparison.Ordinal);
        Assert.Equal(GroupState.PatchRequested, (await GroupAsync(groupId)).Workflow.State);
        Assert.Equal(0, SendCommands);
    }

    /// <summary>
    /// Issue case 1: a user of another tenant whose tenant reports an approver's e-mail. The token is
    /// genuine; the tenant is not ours, so the invoke is refused before any e-mail is looked up.
    /// </summary>
    [Fact]
    public async Task UserOfAnotherTenantReportingAnApproversEmailCannotApprove()
    {
        var (groupId, patchId) = await RequestedInSlackAsync("CVE-2099-74004", Developer);
        _bf.MemberEmail = EmailApprover;

        var (status, _) = await TeamsApproveAsync(groupId, patchId, "0a75de00-0000-4000-8000-00000000b0b0", "Outsider", BotFramework.ForeignTenantId);

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal(GroupState.PatchRequested, (await GroupAsync(groupId)).Workflow.State);
        Assert.Equal(0, SendCommands);
        Assert.DoesNotContain(_bf.Connector.Requests, r => r.Path.Contains("/members/", StringComparison.Ordinal));
    }

    /// <summary>Issue case 6: an Approve button value without the request id no longer approves whatever is pending.</summary>
    [Fact]
    public async Task ApproveButtonWithoutThePatchRequestIdIsRefused()
    {
        var (groupId, patchId) = await RequestedInSlackAsync("CVE-2099-74005", Developer);

        var bare = await SlackClickAsync($"approve:{groupId}", groupId, SlackApprover);

        Assert.Contains("older request", (await _slack.ResponseAsync(bare, "answer to the bare approve"))["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(GroupState.PatchRequested, (await GroupAsync(groupId)).Workflow.State);
        Assert.Equal(0, SendCommands);

        var named = await SlackClickAsync($"approve:{groupId}", $"{groupId}:{patchId}", SlackApprover);

        Assert.Contains("Approved", (await _slack.ResponseAsync(named, "answer to the approve"))["text"]!.GetValue<string>(), StringComparison.Ordinal);
        await TestApp.Eventually(() => Task.FromResult(SendCommands == 1), "the queued start sent the command");
        Assert.Equal(1, SendCommands);
    }
}
