using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Time.Testing;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// Isolation as its own flow against a fake SSM that re-checks every SigV4 signature: requested,
/// checked, approved by a second person, one containment automation per instance, progress polled
/// from DescribeAutomationExecutions until each instance has a result, then released.
/// </summary>
public sealed class IsolationTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string RoleName = "ChatOpsInspectorContainment";
    private const string Bucket = "ir-containment-backups";
    private static readonly Actor Requester = new("slack", "U_DEV", "Dev", Workspace: "T0REMEDY1");
    private static readonly Actor Approver = new("slack", "U_APP1", "Approver One", Workspace: "T0REMEDY1");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
    private FakeAws _aws = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _aws = await FakeAws.StartAsync();
        _app = _aws.RemediationApp(redis, _time, new()
        {
            ["Routing:Default:Owner"] = "security",
            ["Routing:Default:Approvers:0"] = "U_APP1",
            ["Routing:Default:Members:0"] = "U_DEV",
            ["Remediation:Isolation:Enabled"] = "true",
            ["Remediation:Isolation:AutomationAssumeRoleName"] = RoleName,
            ["Remediation:Isolation:Parameters:BackupS3BucketName"] = Bucket,
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
    }

    private IAlertStore Store => _app.Service<IAlertStore>();
    private RemediationWorker Worker => _app.Service<RemediationWorker>();
    private TriageService Triage => _app.Service<TriageService>();

    private static string InstanceId(int n) => $"i-{n + 0xabc:x17}";

    private async Task<string> GroupOfAsync(int instances)
    {
        var batch = new JsonArray([.. Enumerable.Range(0, instances).Select(n => (JsonNode)FindingEvents.Ec2($"iso-{n}", instanceId: InstanceId(n),
            updatedAt: _time.GetUtcNow().AddHours(-1), tags: new() { ["Name"] = $"web-{n}" }))]);
        Assert.Equal(HttpStatusCode.Accepted, (await _app.PostEventsAsync(batch.ToJsonString())).StatusCode);
        return Assert.Single(await Store.GroupIdsAsync("security", default));
    }

    private async Task<TriageResult> Do(string groupId, CardAction action, Actor actor)
    {
        var pending = action is CardAction.ApprovePatch or CardAction.RejectPatch ? (await Group(groupId)).Workflow.Patch?.Id : null;
        return await Triage.ExecuteAsync(new TriageRequest(groupId, action, actor) { PatchRequestId = pending }, default);
    }

    private async Task<AlertGroup> Group(string id) => (await Store.GetGroupAsync(id, default))!;

    private Task Until(string groupId, Func<AlertGroup, bool> condition, string what) =>
        TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return condition(await Group(groupId)); }, what);

    /// <summary>The card's state line without the SLA note (these findings are long overdue on the test clock).</summary>
    private string Label(AlertGroup group) => Triage.Card(group, _time.GetUtcNow()).StateLabel.Replace(" · SLA breached", "", StringComparison.Ordinal);

    private async Task<IReadOnlyList<AuditRecord>> Audit() =>
        await _app.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 1000, default);

    private static Dictionary<string, string[]> ParametersOf(Infrastructure.RecordedRequest start) =>
        JsonDocument.Parse(start.Body).RootElement.GetProperty("Parameters").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetString()!).ToArray());

    /// <summary>
    /// Production condition: a critical finding on three instances is isolated and later released. The
    /// request is not a patch anywhere (its own words on the card, in the audit); the approver sees the
    /// runbook and the instances' Name tags before approving; each instance gets one
    /// StartAutomationExecution of AWSSupport-ContainEC2Instance with Action=Contain, the configured
    /// parameters and the AutomationAssumeRole of its account; DescribeAutomationExecutions (filter
    /// ExecutionId, at most 10 values — botocore ssm/2014-11-06 AutomationExecutionFilterValueList, in
    /// Fixtures/aws/botocore/ssm-2014-11-06.excerpt.json) reports Success for two and Failed for one, and
    /// the card says "Isolated" with that result; Release runs Action=Release for the two contained ones only.
    /// </summary>
    [Fact]
    public async Task IsolationRunsOneContainmentPerInstanceIsPolledToAResultAndIsReleased()
    {
        var model = JsonDocument.Parse(Fixtures.Read("aws", "botocore", "ssm-2014-11-06.excerpt.json")).RootElement.GetProperty("shapes");
        Assert.Equal(SsmRunbooks.MaxAutomationFilterValues, model.GetProperty("AutomationExecutionFilterValueList").GetProperty("max").GetInt32());
        Assert.Contains("ExecutionId", model.GetProperty("AutomationExecutionFilterKey").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("AutomationExecutionMetadataList", model.GetProperty("DescribeAutomationExecutionsResult").GetProperty("members").EnumerateObject().Select(p => p.Name));

        for (var n = 0; n < 3; n++)
        {
            _aws.ManagedInstances[InstanceId(n)] = "Online";
        }
        var groupId = await GroupOfAsync(3);
        Assert.Contains(CardAction.RequestIsolation, Triage.Card(await Group(groupId), _time.GetUtcNow()).Actions);

        var requested = await Do(groupId, CardAction.RequestIsolation, Requester);
        Assert.True(requested.Succeeded, requested.Message);
        Assert.Equal("Isolation requested by Dev, checking SSM…", Label(requested.Group!));
        Assert.DoesNotContain(CardAction.ApprovePatch, Triage.Card(requested.Group!, _time.GetUtcNow()).Actions);

        await Until(groupId, g => g.Workflow.Patch is { Checking: false }, "SSM checked");
        var pending = Triage.Card(await Group(groupId), _time.GetUtcNow());
        Assert.StartsWith("Isolation requested by Dev, awaiting approval", pending.StateLabel, StringComparison.Ordinal);
        Assert.Equal([CardAction.ApprovePatch, CardAction.RejectPatch], pending.Actions);
        Assert.Contains("AWSSupport-ContainEC2Instance", pending.ApprovalSummary, StringComparison.Ordinal);
        Assert.Contains("3 instance(s): web-0 (" + InstanceId(0) + ")", pending.ApprovalSummary, StringComparison.Ordinal);
        Assert.Equal("Approve isolation", global::ChatOpsInspector.Slack.SlackCards.Label(CardAction.ApprovePatch, pending));

        Assert.False((await Do(groupId, CardAction.ApprovePatch, Requester)).Succeeded, "four eyes");
        var approved = await Do(groupId, CardAction.ApprovePatch, Approver);
        Assert.True(approved.Succeeded, approved.Message);
        await Until(groupId, g => g.Workflow.Patch!.CommandIds.Count == 3, "three automations started");

        var starts = _aws.Ssm("StartAutomationExecution").ToArray();
        Assert.Equal(3, starts.Length);
        Assert.All(starts, s => Assert.Equal("AWSSupport-ContainEC2Instance", JsonDocument.Parse(s.Body).RootElement.GetProperty("DocumentName").GetString()));
        var parameters = starts.Select(ParametersOf).ToArray();
        Assert.Equal(Enumerable.Range(0, 3).Select(InstanceId).Order(), parameters.Select(p => Assert.Single(p["InstanceId"])).Order());
        Assert.All(parameters, p =>
        {
            Assert.Equal(["Contain"], p["Action"]);
            Assert.Equal([Bucket], p["BackupS3BucketName"]);
            Assert.Equal([$"arn:aws:iam::123456789012:role/{RoleName}"], p["AutomationAssumeRole"]);
        });
        var isolating = await Group(groupId);
        Assert.Equal("Isolating (0/3 done, 3 running)", Label(isolating));

        var byInstance = _aws.Automations.Values.ToDictionary(a => a.Parameters["InstanceId"][0], a => a.ExecutionId);
        _aws.AutomationStatus[byInstance[InstanceId(0)]] = "Success";
        _time.Advance(PatchWorkflow.PollInterval);
        await Until(groupId, g => g.Workflow.Patch!.Progress!.Succeeded == 1, "one isolated");
        Assert.Equal("Isolating (1/3 done, 2 running)", Label(await Group(groupId)));

        _aws.AutomationStatus[byInstance[InstanceId(1)]] = "Success";
        _aws.AutomationStatus[byInstance[InstanceId(2)]] = "Failed";
        _time.Advance(PatchWorkflow.PollInterval);
        await Until(groupId, g => g.Workflow.State == GroupState.Isolated, "isolation finished");
        var isolated = await Group(groupId);
        var card = Triage.Card(isolated, _time.GetUtcNow());
        Assert.StartsWith("Isolated (2 instance(s) contained, 1 failed)", card.StateLabel, StringComparison.Ordinal);
        Assert.Contains(CardAction.Release, card.Actions);
        Assert.DoesNotContain(CardAction.RequestPatch, card.Actions);
        Assert.Equal([InstanceId(0), InstanceId(1)], isolated.Workflow.Patch!.ContainedInstances.Order());
        var failedBatch = Assert.Single(isolated.Workflow.Patch.EffectiveBatches, b => isolated.Workflow.Patch.InstanceIds[b.Start] == InstanceId(2));
        Assert.StartsWith("Failed: ", failedBatch.Detail, StringComparison.Ordinal);
        var audit = await Audit();
        Assert.Contains(audit, a => a.Action == "isolation_requested");
        Assert.Contains(audit, a => a.Action == "isolation_approved");
        Assert.Equal(3, audit.Count(a => a.Action == "isolation_started"));
        Assert.Contains(audit, a => a.Action == "isolation_finished" && a.Outcome == "partial");
        Assert.DoesNotContain(audit, a => a.Action.StartsWith("patch_", StringComparison.Ordinal));

        var release = await Do(groupId, CardAction.Release, Approver);
        Assert.True(release.Succeeded, release.Message);
        await Until(groupId, g => g.Workflow.Patch is { Kind: PatchRequest.ReleaseKind } p && p.CommandIds.Count == 2, "two releases started");
        var releases = _aws.Automations.Values.Where(a => a.Parameters["Action"][0] == "Release").ToArray();
        Assert.Equal([InstanceId(0), InstanceId(1)], releases.Select(r => r.Parameters["InstanceId"][0]).Order());
        Assert.Equal("Releasing (0/2 done, 2 running)", Label(await Group(groupId)));
        foreach (var r in releases)
        {
            _aws.AutomationStatus[r.ExecutionId] = "Success";
        }
        _time.Advance(PatchWorkflow.PollInterval);
        await Until(groupId, g => g.Workflow.State == GroupState.New, "released");
        var released = await Group(groupId);
        Assert.Contains(released.Workflow.History, h => h.Action == "Released");
        Assert.Contains(CardAction.RequestIsolation, Triage.Card(released, _time.GetUtcNow()).Actions);
        Assert.Contains(await Audit(), a => a.Action == "release_finished" && a.Outcome == "ok");

        Assert.Empty(_aws.Rejected);
        Assert.Contains(_aws.Signed, s => s.Operation == "AmazonSSM.DescribeAutomationExecutions" && s.Region == "eu-central-1" && s.Service == "ssm");
    }

    /// <summary>
    /// Production condition: more executions than one DescribeAutomationExecutions filter may name (10)
    /// are read in several calls, each within the limit the fake enforces as SSM would.
    /// </summary>
    [Fact]
    public async Task FifteenInstancesArePolledTenExecutionIdsAtATime()
    {
        for (var n = 0; n < 15; n++)
        {
            _aws.ManagedInstances[InstanceId(n)] = "Online";
        }
        var groupId = await GroupOfAsync(15);
        Assert.True((await Do(groupId, CardAction.RequestIsolation, Requester)).Succeeded);
        await Until(groupId, g => g.Workflow.Patch is { Checking: false }, "SSM checked");
        Assert.True((await Do(groupId, CardAction.ApprovePatch, Approver)).Succeeded);
        await Until(groupId, g => g.Workflow.Patch!.CommandIds.Count == 15, "fifteen automations started");
        foreach (var id in _aws.Automations.Keys.Take(3))
        {
            _aws.AutomationStatus[id] = "Success";
        }
        _time.Advance(PatchWorkflow.PollInterval);
        await Until(groupId, g => g.Workflow.Patch!.Progress!.Succeeded == 3, "three isolated");

        Assert.Equal("Isolating (3/15 done, 12 running)", Label(await Group(groupId)));
        var describes = _aws.Ssm("DescribeAutomationExecutions").ToArray();
        Assert.True(describes.Length >= 2);
        Assert.All(describes, d => Assert.InRange(
            JsonDocument.Parse(d.Body).RootElement.GetProperty("Filters")[0].GetProperty("Values").GetArrayLength(), 1, FakeAws.AutomationFilterMaxValues));
        Assert.Empty(_aws.Rejected);
    }

    /// <summary>Production condition: with no isolation configured, no card offers it and the action refuses naming the setting.</summary>
    [Fact]
    public async Task IsolationIsNotOfferedUnlessConfigured()
    {
        var group = await Group(await GroupOfAsync(1));
        Assert.DoesNotContain(CardAction.RequestIsolation, AlertCardBuilder.Build(group, _time.GetUtcNow(), CardFeatures.None).Actions);
        Assert.Contains(CardAction.RequestIsolation, AlertCardBuilder.Build(group, _time.GetUtcNow(), new CardFeatures(true, true)).Actions);
        // Everything else isolation needs holds: score 9.8, one open EC2 instance.
        Assert.True(group.InspectorScore >= PatchWorkflow.IsolationMinScore);
        Assert.Single(group.OpenEc2Instances);
    }
}
