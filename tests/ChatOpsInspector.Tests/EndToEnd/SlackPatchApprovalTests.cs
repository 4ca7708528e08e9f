using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.EndToEnd;

/// <summary>
/// A critical EC2 finding goes from ingest to a patch running in SSM, entirely through Slack: the card,
/// the request, the approval rule, the runbook, and the audit trail of who did it from which channel.
/// </summary>
public sealed class SlackPatchApprovalTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private SlackRig _rig = null!;

    public async Task InitializeAsync() => _rig = await SlackRig.StartAsync(redis);

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    private int SendCommands => _rig.Aws.Ssm("SendCommand").Count();

    private async Task<AlertGroup> GroupAsync(string groupId) =>
        await _rig.App.Service<IAlertStore>().GetGroupAsync(groupId, default) ?? throw new InvalidOperationException($"no group {groupId}");

    /// <summary>Posts a card and has the developer request a patch; returns the card as updated to ask for approval.</summary>
    private async Task<(string GroupId, JsonObject Card)> PatchRequestedAsync(string cve)
    {
        var (groupId, ts) = await _rig.PostedCardAsync(cve);
        var posted = _rig.Slack.Calls("chat.postMessage").Single(c => c["thread_ts"] is null && c.ToJsonString().Contains(cve, StringComparison.Ordinal));
        posted["ts"] = ts;
        var requested = await _rig.PressAsync(posted, "patch", SlackRig.Developer);
        Assert.StartsWith(":white_check_mark:", await _rig.ReplyTextAsync(requested, "answer to the patch request"), StringComparison.Ordinal);
        var card = await _rig.CardUpdateAsync(ts, u => SlackRig.Button(u, "approve") is not null, "card updated with Approve/Reject");
        return (groupId, card);
    }

    [Fact]
    public async Task PatchRequestedInSlackNeedsAnotherApproverAndThenRunsOnePatchBaselineInstall()
    {
        var cve = "CVE-2099-71001";
        var (groupId, card) = await PatchRequestedAsync(cve);

        // The thread asks the other approvers, by mention; the requester is not asked to approve themself.
        JsonObject? note = null;
        await TestApp.Eventually(() =>
        {
            note = _rig.Slack.Calls("chat.postMessage").FirstOrDefault(c => c["thread_ts"]?.GetValue<string>() == card["ts"]!.GetValue<string>());
            return Task.FromResult(note is not null);
        }, "approval note in the card's thread");
        var noteText = note!["text"]!.GetValue<string>();
        Assert.Equal(SlackRig.Channel, note["channel"]!.GetValue<string>());
        Assert.Contains(cve, noteText, StringComparison.Ordinal);
        Assert.Contains($"<@{SlackRig.Approver}>", noteText, StringComparison.Ordinal);
        Assert.Contains($"<@{SlackRig.SecondApprover}>", noteText, StringComparison.Ordinal);
        Assert.DoesNotContain($"<@{SlackRig.Developer}>", noteText, StringComparison.Ordinal);

        Assert.Equal(["Approve patch", "Reject patch"], SlackRig.ButtonLabels(card));
        Assert.Contains("awaiting approval", card.ToJsonString(), StringComparison.Ordinal);
        var approve = SlackRig.Button(card, "approve")!;
        Assert.StartsWith(groupId + ":", approve["value"]!.GetValue<string>(), StringComparison.Ordinal);

        var own = await _rig.PressAsync(card, "approve", SlackRig.Developer);
        var refusal = await _rig.ReplyTextAsync(own, "answer to the requester's own approval");
        Assert.StartsWith(":no_entry:", refusal, StringComparison.Ordinal);
        Assert.Contains("You requested this; another approver must approve it", refusal, StringComparison.Ordinal);
        Assert.Equal(0, SendCommands);

        var approved = await _rig.PressAsync(card, "approve", SlackRig.Approver);
        Assert.StartsWith(":white_check_mark:", await _rig.ReplyTextAsync(approved, "answer to the approval"), StringComparison.Ordinal);
        await TestApp.Eventually(() => Task.FromResult(SendCommands > 0), "the queued start sent the command");
        var send = Assert.Single(_rig.Aws.Ssm("SendCommand"));
        using (var body = JsonDocument.Parse(send.Body))
        {
            Assert.Equal("AWS-RunPatchBaseline", body.RootElement.GetProperty("DocumentName").GetString());
            Assert.Equal("Install", body.RootElement.GetProperty("Parameters").GetProperty("Operation")[0].GetString());
            Assert.Equal([SlackRig.Instance], body.RootElement.GetProperty("InstanceIds").EnumerateArray().Select(i => i.GetString()));
        }
        var patching = await _rig.CardUpdateAsync(card["ts"]!.GetValue<string>(),
            u => u.ToJsonString().Contains("Patching", StringComparison.Ordinal), "card shows Patching");
        Assert.Null(SlackRig.Button(patching, "approve"));
        Assert.Null(SlackRig.Button(patching, "reject"));
        Assert.Equal(1, SendCommands);
    }

    [Fact]
    public async Task RejectButtonLeavesTheGroupUnpatchedAndSaysWhoRejected()
    {
        var (groupId, card) = await PatchRequestedAsync("CVE-2099-71004");
        Assert.Equal(GroupState.PatchRequested, (await GroupAsync(groupId)).Workflow.State);

        var rejected = await _rig.PressAsync(card, "reject", SlackRig.Approver);

        var answer = await _rig.ReplyTextAsync(rejected, "answer to the rejection");
        Assert.StartsWith(":white_check_mark:", answer, StringComparison.Ordinal);
        Assert.Contains("Rejected", answer, StringComparison.Ordinal);
        var group = await GroupAsync(groupId);
        Assert.NotEqual(GroupState.Patching, group.Workflow.State);
        Assert.NotEqual(GroupState.PatchRequested, group.Workflow.State);
        Assert.False(group.Workflow.Patch!.Approved);
        Assert.Equal(SlackRig.Approver, group.Workflow.Patch.DecidedBy!.UserId);
        var updated = await _rig.CardUpdateAsync(card["ts"]!.GetValue<string>(),
            u => SlackRig.Button(u, "approve") is null && SlackRig.Button(u, "patch") is not null, "card offers a new patch request");
        Assert.DoesNotContain("Patching", updated.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(0, SendCommands);
    }

    [Fact]
    public async Task IsolateButtonRequestsAnIsolationNotAPatch()
    {
        await _rig.DisposeAsync();
        _rig = await SlackRig.StartAsync(redis, s =>
        {
            s["Remediation:Isolation:Enabled"] = "true";
            s["Remediation:Isolation:AutomationAssumeRoleName"] = "ChatOpsInspectorContainment";
        });
        var cve = "CVE-2099-71005";
        var (groupId, ts) = await _rig.PostedCardAsync(cve);
        var posted = _rig.Slack.Calls("chat.postMessage").Single(c => c["thread_ts"] is null && c.ToJsonString().Contains(cve, StringComparison.Ordinal));
        posted["ts"] = ts;

        var requested = await _rig.PressAsync(posted, "isolate", SlackRig.Developer);

        Assert.StartsWith(":white_check_mark:", await _rig.ReplyTextAsync(requested, "answer to the isolation request"), StringComparison.Ordinal);
        var group = await GroupAsync(groupId);
        Assert.Equal(GroupState.PatchRequested, group.Workflow.State);
        Assert.Equal("isolate", group.Workflow.Patch!.Kind);
        await TestApp.Eventually(() => Task.FromResult(_rig.Slack.Calls("chat.postMessage").Any(c =>
            c["thread_ts"]?.GetValue<string>() == ts && c["text"]!.GetValue<string>().Contains("asks to isolate", StringComparison.Ordinal))),
            "thread note asking approvers to isolate");
        Assert.Empty(_rig.Aws.Ssm("SendCommand"));
    }

    [Fact]
    public async Task TwoApproversClickingApproveAtTheSameMomentStartOneCommand()
    {
        var (_, card) = await PatchRequestedAsync("CVE-2099-71002");

        var clicks = await Task.WhenAll(
            _rig.PressAsync(card, "approve", SlackRig.Approver),
            _rig.PressAsync(card, "approve", SlackRig.SecondApprover));

        var answers = await Task.WhenAll(clicks.Select(c => _rig.ReplyTextAsync(c, "answer to each approval")));
        Assert.Single(answers, a => a.StartsWith(":white_check_mark:", StringComparison.Ordinal));
        Assert.Single(answers, a => a.StartsWith(":no_entry:", StringComparison.Ordinal) && a.Contains("Already approved by", StringComparison.Ordinal));
        await _rig.CardUpdateAsync(card["ts"]!.GetValue<string>(), u => u.ToJsonString().Contains("Patching", StringComparison.Ordinal), "card shows Patching");
        await TestApp.Eventually(() => Task.FromResult(SendCommands > 0), "the queued start sent the command");
        Assert.Single(_rig.Aws.Ssm("SendCommand"));
    }

    [Fact]
    public async Task AuditExportNamesWhoRequestedApprovedAndStartedThePatchAndFromWhichSlackChannel()
    {
        var (groupId, card) = await PatchRequestedAsync("CVE-2099-71003");
        await _rig.ReplyTextAsync(await _rig.PressAsync(card, "approve", SlackRig.Developer), "own approval refused");
        await _rig.ReplyTextAsync(await _rig.PressAsync(card, "approve", SlackRig.Approver), "approval answered");
        await TestApp.Eventually(() => Task.FromResult(SendCommands > 0), "the queued start sent the command");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/audit?format=json");
        request.Headers.Add("X-Api-Key", TestApp.AuditKey);
        var response = await _rig.App.Client().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var records = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray()
            .Select(e => e!["record"]!.AsObject())
            .Where(r => r["groupId"]?.GetValue<string>() == groupId)
            .ToArray();
        Assert.Equal(["detected", "alerted"], records.Take(2).Select(r => r["action"]!.GetValue<string>()));
        records = records.Skip(2).ToArray();
        // Between request and approval the bot's own SSM check is audited as the system's step.
        Assert.Single(records, r => r["action"]!.GetValue<string>() == "patch_checked" && r["actorPlatform"]!.GetValue<string>() != "slack");
        records = [.. records.Where(r => r["action"]!.GetValue<string>() != "patch_checked")];
        Assert.Equal(["patch_requested", "patch_approved", "patch_command_sent"], records.Select(r => r["action"]!.GetValue<string>()));
        var byAction = records.ToDictionary(r => r["action"]!.GetValue<string>());
        Assert.Equal(SlackRig.Developer, byAction["patch_requested"]["actorId"]!.GetValue<string>());
        Assert.Equal(SlackRig.Approver, byAction["patch_approved"]["actorId"]!.GetValue<string>());
        Assert.Equal(SlackRig.Approver, byAction["patch_command_sent"]["actorId"]!.GetValue<string>());
        Assert.Contains("cmd-1", byAction["patch_command_sent"]["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.All(records, r =>
        {
            Assert.Equal("slack", r["actorPlatform"]!.GetValue<string>());
            Assert.Equal(SlackRig.Channel, r["channel"]!.GetValue<string>());
            Assert.Equal(SlackRig.Owner, r["owner"]!.GetValue<string>());
            Assert.Equal("ok", r["outcome"]!.GetValue<string>());
        });
    }
}
