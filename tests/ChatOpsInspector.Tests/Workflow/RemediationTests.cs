using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Time.Testing;

namespace ChatOpsInspector.Tests.Workflow;

public sealed class RemediationTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    // Actors as the chat adapters build them: with the workspace or tenant their request came from.
    private static readonly Actor Requester = new("slack", "U_DEV", "Dev", Workspace: "T0REMEDY1");
    private static readonly Actor Approver = new("slack", "U_APP1", "Approver One", Workspace: "T0REMEDY1");
    private static readonly Actor SecondApprover = new("teams", "aad-app2", "Approver Two", "app2@example.com", Workspace: "7e4a9c1d-0000-4000-8000-0000000000aa");
    private static readonly Actor Security = new("slack", "U_SEC", "Sec", Workspace: "T0REMEDY1");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
    private FakeAws _aws = null!;
    private TestApp _app = null!;
    private string _groupId = "";

    public async Task InitializeAsync()
    {
        _aws = await FakeAws.StartAsync();
        _aws.ManagedInstances["i-0000000000000000a"] = "Online";
        _aws.ManagedInstances["i-0000000000000000b"] = "Online";
        _app = _aws.RemediationApp(redis, _time, new()
        {
            ["Routing:Default:Owner"] = "security",
            ["Routing:Default:Suppressors:0"] = "U_SEC",
            ["Routing:Default:Approvers:0"] = "U_APP1",
            ["Routing:Default:Approvers:1"] = "app2@example.com",
            ["Routing:Default:Approvers:2"] = "U_DEV",
            ["Remediation:ApprovalTtlMinutes"] = "60",
        });
        foreach (var instance in new[] { "i-0000000000000000a", "i-0000000000000000b" })
        {
            var response = await _app.PostEventsAsync(FindingEvents.Ec2("rem-" + instance, instanceId: instance, updatedAt: _time.GetUtcNow().AddHours(-1)).ToJsonString());
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        _groupId = Assert.Single(await Store.GroupIdsAsync("security", default));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
    }

    private IAlertStore Store => _app.Service<IAlertStore>();
    private TriageService Triage => _app.Service<TriageService>();
    private RemediationWorker Worker => _app.Service<RemediationWorker>();

    /// <summary>Decisions carry the pending request's id, as the card's buttons do, unless the test names one.</summary>
    private async Task<TriageResult> Do(CardAction action, Actor actor, string? reason = null, DateTimeOffset? expires = null, string? requestId = null)
    {
        if (requestId is null && action is CardAction.ApprovePatch or CardAction.RejectPatch)
        {
            requestId = (await Group()).Workflow.Patch?.Id;
        }
        var result = await Triage.ExecuteAsync(new TriageRequest(_groupId, action, actor) { Reason = reason, ExpiresAt = expires, PatchRequestId = requestId }, default);
        await RemediationSteps.SettleAsync(_app, _groupId);
        return result.Succeeded ? result with { Group = await Group() } : result;
    }

    private async Task<AlertGroup> Group() => (await Store.GetGroupAsync(_groupId, default))!;

    /// <summary>Runs due remediation steps until <paramref name="done"/> holds; the host's own worker may take some of them.</summary>
    private Task Until(Func<AlertGroup, bool> done, string what) => TestApp.Eventually(async () =>
    {
        await Worker.RunDueAsync(default);
        return done(await Group());
    }, what);

    private async Task<IReadOnlyList<AuditRecord>> Audit() =>
        await _app.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 1000, default);

    [Fact]
    public async Task SuppressCreatesAFilterAndDeletesItWhenTheSuppressionExpires()
    {
        var result = await Do(CardAction.Suppress, Security, "compensating control: not internet-facing", _time.GetUtcNow().AddDays(7));
        Assert.True(result.Succeeded, result.Message);
        var create = Assert.Single(_aws.Server.To("/filters/create"));
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDTESTREMEDIATION1/", create.Headers["Authorization"], StringComparison.Ordinal);
        using (var body = JsonDocument.Parse(create.Body))
        {
            Assert.Equal("SUPPRESS", body.RootElement.GetProperty("action").GetString());
            Assert.Equal("CVE-2024-29069", body.RootElement.GetProperty("filterCriteria").GetProperty("vulnerabilityId")[0].GetProperty("value").GetString());
            Assert.Equal(2, body.RootElement.GetProperty("filterCriteria").GetProperty("resourceId").GetArrayLength());
        }
        var suppressed = await Group();
        Assert.Equal(GroupState.Suppressed, suppressed.Workflow.State);
        var filterArn = suppressed.Workflow.Suppression!.FilterArn;
        Assert.NotNull(filterArn);

        Assert.Equal(0, await Worker.RunDueAsync(default));
        _time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1));
        // Expiry lifts the suppression, then the filter deletion runs.
        await Until(g => g.Workflow.State == GroupState.New, "suppression lifted at expiry");
        await TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return _aws.Server.To("/filters/delete").Any(); }, "filter deleted");
        var delete = Assert.Single(_aws.Server.To("/filters/delete"));
        Assert.Contains(filterArn, delete.Body, StringComparison.Ordinal);

        await TestApp.Eventually(async () => (await Audit()).Any(a => a.Action == "suppression_filter_deleted"), "deletion audited");
        var actions = (await Audit()).Select(a => a.Action).ToList();
        Assert.Contains("suppressed", actions);
        Assert.Contains("suppression_filter_created", actions);
        Assert.Contains("suppression_expired", actions);
        Assert.Contains("suppression_filter_deleted", actions);
        Assert.Contains(await Audit(), a => a.Action == "suppression_filter_created" && a.AwsRequestId == "req-create-1");
    }

    [Fact]
    public async Task SuppressIsRefusedWithoutRightsReasonOrFutureExpiry()
    {
        Assert.Contains("Only the suppressors", (await Do(CardAction.Suppress, Requester, "why", _time.GetUtcNow().AddDays(7))).Message, StringComparison.Ordinal);
        Assert.Contains("needs a reason", (await Do(CardAction.Suppress, Security, " ", _time.GetUtcNow().AddDays(7))).Message, StringComparison.Ordinal);
        Assert.Contains("in the future", (await Do(CardAction.Suppress, Security, "why", _time.GetUtcNow().AddDays(-1))).Message, StringComparison.Ordinal);
        Assert.Contains("needs an expiry", (await Do(CardAction.Suppress, Security, "why")).Message, StringComparison.Ordinal);
        Assert.Empty(_aws.Server.To("/filters/create"));
        Assert.Equal(GroupState.New, (await Group()).Workflow.State);
    }

    [Fact]
    public async Task InspectorRefusingTheFilterLeavesTheAlertAsItWasAndAuditsTheFailure()
    {
        _aws.CreateFilterError = "AccessDeniedException";
        var result = await Do(CardAction.Suppress, Security, "accepted risk", _time.GetUtcNow().AddDays(30));
        Assert.False(result.Succeeded);
        Assert.Contains("AccessDeniedException", result.Message, StringComparison.Ordinal);
        Assert.Equal(GroupState.New, (await Group()).Workflow.State);
        Assert.Contains(await Audit(), a => a.Action == "suppress_failed" && a.Outcome == "failed");
    }

    [Fact]
    public async Task UnsuppressByASuppressorReopensAndRemovesTheFilter()
    {
        await Do(CardAction.Suppress, Security, "temporary", _time.GetUtcNow().AddDays(30));
        Assert.False((await Do(CardAction.Unsuppress, Requester)).Succeeded);
        Assert.True((await Do(CardAction.Unsuppress, Security)).Succeeded);
        await TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return _aws.Server.To("/filters/delete").Any(); }, "filter deleted");
        Assert.Single(_aws.Server.To("/filters/delete"));
        Assert.Equal(GroupState.New, (await Group()).Workflow.State);
    }

    /// <summary>
    /// Production condition: the filter was deleted by hand, or an earlier delete succeeded but its answer
    /// was lost. Inspector answers 404; the goal is reached, so the step is done and not retried for ever.
    /// </summary>
    [Fact]
    public async Task DeletingAFilterThatIsAlreadyGoneCountsAsDone()
    {
        await Do(CardAction.Suppress, Security, "temporary", _time.GetUtcNow().AddDays(30));
        _aws.DeleteFilterMissing = true;
        Assert.True((await Do(CardAction.Unsuppress, Security)).Succeeded);

        await TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return (await Audit()).Any(a => a.Action == "suppression_filter_already_deleted"); }, "404 accepted");
        _time.Advance(TimeSpan.FromHours(2));
        await Worker.RunDueAsync(default);

        Assert.Single(_aws.Server.To("/filters/delete"));
        Assert.DoesNotContain(await Audit(), a => a.Action == "suppression_filter_deleted");
    }

    [Fact]
    public async Task PatchNeedsAnApproverOtherThanTheRequesterAndSendsOneCommandEvenWithConcurrentApprovals()
    {
        var request = await Do(CardAction.RequestPatch, Requester);
        Assert.True(request.Succeeded, request.Message);
        Assert.Single(_aws.Ssm("DescribeInstanceInformation"));
        var pending = await Group();
        Assert.Equal(GroupState.PatchRequested, pending.Workflow.State);
        Assert.Equal(2, pending.Workflow.Patch!.InstanceIds.Count);
        Assert.Contains(CardAction.ApprovePatch, AlertCardBuilder.Build(pending, _time.GetUtcNow()).Actions);

        var self = await Do(CardAction.ApprovePatch, Requester);
        Assert.False(self.Succeeded);
        Assert.Contains("another approver", self.Message, StringComparison.Ordinal);
        var outsider = await Do(CardAction.ApprovePatch, Security);
        Assert.Contains("Only the approvers", outsider.Message, StringComparison.Ordinal);
        Assert.Empty(_aws.Ssm("SendCommand"));

        var approvals = await Task.WhenAll(
            Do(CardAction.ApprovePatch, Approver, requestId: pending.Workflow.Patch.Id),
            Do(CardAction.ApprovePatch, SecondApprover, requestId: pending.Workflow.Patch.Id),
            Do(CardAction.ApprovePatch, Approver, requestId: pending.Workflow.Patch.Id));
        Assert.Equal(1, approvals.Count(a => a.Succeeded));
        var send = Assert.Single(_aws.Ssm("SendCommand"));
        using var body = JsonDocument.Parse(send.Body);
        Assert.Equal("AWS-RunPatchBaseline", body.RootElement.GetProperty("DocumentName").GetString());
        Assert.Equal("Install", body.RootElement.GetProperty("Parameters").GetProperty("Operation")[0].GetString());
        Assert.Equal(2, body.RootElement.GetProperty("InstanceIds").GetArrayLength());
        Assert.Contains("CVE-2024-29069", body.RootElement.GetProperty("Comment").GetString(), StringComparison.Ordinal);
        var patching = await Group();
        Assert.Equal(GroupState.Patching, patching.Workflow.State);
        Assert.Equal(["cmd-1"], patching.Workflow.Patch!.CommandIds);
    }

    [Fact]
    public async Task ApprovalExpiresAfterItsTimeToLive()
    {
        await Do(CardAction.RequestPatch, Requester);
        var requestId = (await Group()).Workflow.Patch!.Id;
        _time.Advance(TimeSpan.FromMinutes(61));
        Assert.Contains("expired", (await Do(CardAction.ApprovePatch, Approver, requestId: requestId)).Message, StringComparison.Ordinal);
        await Until(g => g.Workflow.State == GroupState.New, "approval expired");
        Assert.Contains(await Audit(), a => a.Action == "approval_expired");
        Assert.Empty(_aws.Ssm("SendCommand"));
    }

    [Fact]
    public async Task RejectReturnsTheAlertToWhereItWas()
    {
        await Do(CardAction.Acknowledge, Requester);
        await Do(CardAction.RequestPatch, Requester);
        Assert.True((await Do(CardAction.RejectPatch, Approver, reason: "change freeze")).Succeeded);
        Assert.Equal(GroupState.Acknowledged, (await Group()).Workflow.State);
    }

    [Fact]
    public async Task UnmanagedInstancesCannotBePatched()
    {
        _aws.ManagedInstances.Clear();
        // The request answers at once; the SSM check that follows from the queue turns it down.
        var result = await Do(CardAction.RequestPatch, Requester);
        Assert.True(result.Succeeded, result.Message);
        var group = await Group();
        Assert.Equal(GroupState.New, group.Workflow.State);
        Assert.Contains("managed by SSM", group.Workflow.Patch!.Failure, StringComparison.Ordinal);
        Assert.Contains(await Audit(), a => a.Action == "patch_check_failed" && a.Outcome == "failed");
        Assert.NotEmpty(_aws.Ssm("DescribeInstanceInformation"));
    }

    [Fact]
    public async Task ProgressIsTrackedUntilDoneAndClosedFindingsThenVerifyTheFix()
    {
        await Do(CardAction.RequestPatch, Requester);
        await Do(CardAction.ApprovePatch, Approver);
        _aws.InvocationStatus["i-0000000000000000a"] = "Success";
        _aws.InvocationStatus["i-0000000000000000b"] = "InProgress";
        _time.Advance(PatchWorkflow.PollInterval);
        await Until(g => g.Workflow.Patch?.Progress?.Succeeded == 1, "progress polled");
        var running = await Group();
        Assert.Equal("1/2 done, 1 running", running.Workflow.Patch!.Progress!.ToString());
        Assert.Contains("1/2 done", AlertCardBuilder.Build(running, _time.GetUtcNow()).StateLabel, StringComparison.Ordinal);

        _aws.InvocationStatus["i-0000000000000000b"] = "Failed";
        _time.Advance(PatchWorkflow.PollInterval);
        await Until(g => g.Workflow.State == GroupState.Patched, "patch finished");
        var done = await Group();
        Assert.Equal(GroupState.Patched, done.Workflow.State);
        Assert.Equal("1/2 done, 1 failed", done.Workflow.Patch!.Progress!.ToString());
        Assert.Contains(await Audit(), a => a.Action == "patch_finished" && a.Outcome == "partial");

        foreach (var instance in new[] { "i-0000000000000000a", "i-0000000000000000b" })
        {
            await _app.PostEventsAsync(FindingEvents.Ec2("rem-" + instance, instanceId: instance, status: "CLOSED", updatedAt: _time.GetUtcNow()).ToJsonString());
        }
        await TestApp.Eventually(async () =>
        {
            await _app.Service<AlertDispatcher>().DrainGroupsAsync(default);
            return (await Group()).Workflow.State == GroupState.Resolved;
        }, "verified fixed");
        var fixedGroup = await Group();
        Assert.Equal(GroupState.Resolved, fixedGroup.Workflow.State);
        Assert.Contains(fixedGroup.Workflow.History, h => h.Action == "Verified fixed");

        var export = await _app.Client().GetAsync($"/api/audit?owner=security&format=json");
        Assert.Equal(HttpStatusCode.Unauthorized, export.StatusCode);
    }

    [Fact]
    public async Task PatchedInstanceStillOpenAfterTheRescanWindowIsFlagged()
    {
        await Do(CardAction.RequestPatch, Requester);
        await Do(CardAction.ApprovePatch, Approver);
        _aws.InvocationStatus["i-0000000000000000a"] = "Success";
        _aws.InvocationStatus["i-0000000000000000b"] = "Success";
        _time.Advance(PatchWorkflow.PollInterval);
        await Until(g => g.Workflow.State == GroupState.Patched, "patch finished");
        _time.Advance(PatchWorkflow.RescanWindow);
        await Until(g => g.Workflow.History.Any(h => h.Action == "Still vulnerable after patch"), "rescan check flags the open instances");
        Assert.Contains(await Audit(), a => a.Action == "patch_not_effective");
    }

    [Fact]
    public async Task SsmRefusingTheCommandRevertsAndSaysWhy()
    {
        _aws.SendCommandError = "InvalidInstanceId";
        await Do(CardAction.RequestPatch, Requester);
        var approval = await Do(CardAction.ApprovePatch, Approver);
        // The approval is taken at once; SSM's refusal comes back from the queued start.
        Assert.True(approval.Succeeded, approval.Message);
        Assert.Equal(GroupState.New, (await Group()).Workflow.State);
        Assert.Contains("InvalidInstanceId", (await Group()).Workflow.Patch!.Failure, StringComparison.Ordinal);
        Assert.Contains(await Audit(), a => a.Action == "patch_failed_to_start" && a.Outcome == "failed");
    }

    [Fact]
    public async Task AuditExportListsEveryStepWithItsControlsAsJsonAndCsv()
    {
        await Do(CardAction.Acknowledge, Requester);
        await Do(CardAction.RequestPatch, Requester);
        await Do(CardAction.ApprovePatch, Approver);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/audit?owner=security&format=json");
        request.Headers.Add("X-Api-Key", TestApp.AuditKey);
        var json = JsonNode.Parse(await (await _app.Client().SendAsync(request)).Content.ReadAsStringAsync())!.AsArray();
        var actions = json.Select(r => r!["record"]!["action"]!.GetValue<string>()).ToList();
        Assert.Equal(["acknowledged", "patch_requested", "patch_checked", "patch_approved", "patch_command_sent"], actions);
        Assert.All(json, r => Assert.Contains("NIST SP 800-53 Rev. 5 SI-2", r!["controls"]!.AsArray().Select(c => c!.GetValue<string>())));
        Assert.Equal("U_APP1", json[3]!["record"]!["actorId"]!.GetValue<string>());

        // Acknowledging evidences 6.3.1 (managed), not 6.3.3 (patched): only the three patch steps are 6.3.3 evidence.
        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, "/api/audit?format=csv&control=6.3.3");
        csvRequest.Headers.Add("X-Api-Key", TestApp.AuditKey);
        var csv = await (await _app.Client().SendAsync(csvRequest)).Content.ReadAsStringAsync();
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("at,kind,action,outcome,actor_platform,actor_workspace,actor_id", lines[0], StringComparison.Ordinal);
        Assert.Equal(5, lines.Length);

        using var bad = new HttpRequestMessage(HttpMethod.Get, "/api/audit?from=yesterday");
        bad.Headers.Add("X-Api-Key", TestApp.AuditKey);
        Assert.Equal(HttpStatusCode.BadRequest, (await _app.Client().SendAsync(bad)).StatusCode);
    }
}
