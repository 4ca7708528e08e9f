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
/// Patching a real fleet: groups larger than one SendCommand can take, SSM management checked for
/// every instance, and a watchdog so no run sits "Patching" for ever. The fake SSM enforces the
/// limits of SSM's published API model and re-checks every SigV4 signature.
/// </summary>
public sealed class FleetRemediationTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
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
            ["Remediation:StallTimeoutMinutes"] = "60",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
    }

    private IAlertStore Store => _app.Service<IAlertStore>();
    private RemediationWorker Worker => _app.Service<RemediationWorker>();

    internal static string InstanceId(int n) => $"i-{n:x17}";

    /// <summary>Ingests one finding per instance (in arrays of 100, as EventBridge batches may arrive) and returns the group id.</summary>
    private async Task<string> GroupOfAsync(int instances)
    {
        foreach (var chunk in Enumerable.Range(0, instances).Chunk(100))
        {
            var batch = new JsonArray([.. chunk.Select(n => (JsonNode)FindingEvents.Ec2($"fleet-{n}", instanceId: InstanceId(n), updatedAt: _time.GetUtcNow().AddHours(-1)))]);
            Assert.Equal(HttpStatusCode.Accepted, (await _app.PostEventsAsync(batch.ToJsonString())).StatusCode);
        }
        return Assert.Single(await Store.GroupIdsAsync("security", default));
    }

    /// <summary>A card action; Approve and Reject name the pending request, as the card's buttons do.</summary>
    private async Task<TriageResult> Do(string groupId, CardAction action, Actor actor)
    {
        var pending = action is CardAction.ApprovePatch or CardAction.RejectPatch ? (await Group(groupId)).Workflow.Patch?.Id : null;
        var result = await _app.Service<TriageService>().ExecuteAsync(new TriageRequest(groupId, action, actor) { PatchRequestId = pending }, default);
        await RemediationSteps.SettleAsync(_app, groupId);
        return result.Succeeded ? result with { Group = await Group(groupId) } : result;
    }

    private async Task<AlertGroup> Group(string id) => (await Store.GetGroupAsync(id, default))!;

    private async Task<IReadOnlyList<AuditRecord>> Audit() =>
        await _app.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 1000, default);

    private static string[] InstanceIdsOf(Infrastructure.RecordedRequest send) =>
        [.. JsonDocument.Parse(send.Body).RootElement.GetProperty("InstanceIds").EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>
    /// Production condition: approving a group of more than 50 instances. SendCommand's InstanceIds is
    /// shape InstanceIdList, "max": 50, in botocore's SSM model (Fixtures/aws/botocore/ssm-2014-11-06.excerpt.json,
    /// cut from github.com/boto/botocore botocore/data/ssm/2014-11-06/service-2.json). 120 instances are
    /// three commands; every instance is in exactly one; all three ids are in the workflow and the audit;
    /// the card adds up progress across the three until every one has finished.
    /// </summary>
    [Fact]
    public async Task A120InstancePatchRunsAsThreeCommandsAndFinishesWhenAllThreeHave()
    {
        var model = JsonDocument.Parse(Fixtures.Read("aws", "botocore", "ssm-2014-11-06.excerpt.json")).RootElement.GetProperty("shapes");
        Assert.Equal("InstanceIdList", model.GetProperty("SendCommandRequest").GetProperty("members").GetProperty("InstanceIds").GetProperty("shape").GetString());
        Assert.Equal(SsmRunbooks.MaxInstancesPerCommand, model.GetProperty("InstanceIdList").GetProperty("max").GetInt32());

        for (var n = 0; n < 120; n++)
        {
            _aws.ManagedInstances[InstanceId(n)] = "Online";
        }
        var groupId = await GroupOfAsync(120);

        Assert.True((await Do(groupId, CardAction.RequestPatch, Requester)).Succeeded);
        var approval = await Do(groupId, CardAction.ApprovePatch, Approver);

        Assert.True(approval.Succeeded, approval.Message);
        var sends = _aws.Ssm("SendCommand").ToArray();
        Assert.Equal(3, sends.Length);
        Assert.All(sends, s => Assert.InRange(InstanceIdsOf(s).Length, 1, SsmRunbooks.MaxInstancesPerCommand));
        var sent = sends.SelectMany(InstanceIdsOf).ToArray();
        Assert.Equal(120, sent.Length);
        Assert.Equal(Enumerable.Range(0, 120).Select(InstanceId).Order(), sent.Order());
        Assert.Empty(_aws.Rejected);

        var patching = await Group(groupId);
        var commandIds = _aws.Commands.Keys.Order().ToArray();
        Assert.Equal(commandIds, patching.Workflow.Patch!.CommandIds.Order());
        var audited = (await Audit()).Where(a => a.Action == "patch_command_sent").ToArray();
        Assert.Equal(3, audited.Length);
        Assert.All(commandIds, id => Assert.Contains(audited, a => a.Detail!.StartsWith(id + " ", StringComparison.Ordinal)));
        Assert.StartsWith("Patching (0/120 done, 120 running; 3 commands)", AlertCardBuilder.Build(patching, _time.GetUtcNow()).StateLabel, StringComparison.Ordinal);

        // The first two commands finish, the third is still going: the card adds them up.
        foreach (var id in _aws.Commands["cmd-1"].Concat(_aws.Commands["cmd-2"]))
        {
            _aws.InvocationStatus[id] = "Success";
        }
        _aws.InvocationStatus[_aws.Commands["cmd-3"][0]] = "Failed";
        _time.Advance(PatchWorkflow.PollInterval);
        await TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return (await Group(groupId)).Workflow.Patch!.Progress!.Succeeded == 100; }, "two commands done");
        var partway = await Group(groupId);
        Assert.Equal(GroupState.Patching, partway.Workflow.State);
        Assert.Equal("100/120 done, 1 failed, 19 running", partway.Workflow.Patch!.Progress!.ToString());

        foreach (var id in _aws.Commands["cmd-3"].Skip(1))
        {
            _aws.InvocationStatus[id] = "Success";
        }
        _time.Advance(PatchWorkflow.PollInterval);
        await TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return (await Group(groupId)).Workflow.State == GroupState.Patched; }, "patch finished");
        Assert.Equal("119/120 done, 1 failed", (await Group(groupId)).Workflow.Patch!.Progress!.ToString());
        Assert.Contains(await Audit(), a => a.Action == "patch_finished" && a.Outcome == "partial");
        Assert.Equal(3, _aws.Ssm("SendCommand").Count());
    }

    /// <summary>
    /// Production condition: a storm group of 2,000 instances is approved. Every instance receives
    /// exactly one command (40 SendCommand calls of 50), nothing is refused by the fake's model limits,
    /// and each command id is in the workflow. Counts only; the timing lives in bench/.
    /// </summary>
    [Fact]
    public async Task ApprovingA2000InstanceGroupSendsEveryInstanceExactlyOneCommand()
    {
        for (var n = 0; n < 2000; n++)
        {
            _aws.ManagedInstances[InstanceId(n)] = "Online";
        }
        var groupId = await GroupOfAsync(2000);

        Assert.True((await Do(groupId, CardAction.RequestPatch, Requester)).Succeeded);
        var approval = await Do(groupId, CardAction.ApprovePatch, Approver);

        Assert.True(approval.Succeeded, approval.Message);
        Assert.Empty(_aws.Rejected);
        Assert.Equal(40, _aws.Commands.Count);
        var perInstance = _aws.Commands.Values.SelectMany(ids => ids).CountBy(id => id).ToArray();
        Assert.Equal(2000, perInstance.Length);
        Assert.All(perInstance, p => Assert.Equal(1, p.Value));
        Assert.Equal(40, (await Group(groupId)).Workflow.Patch!.CommandIds.Count);
    }

    /// <summary>
    /// Production condition: a group far larger than one DescribeInstanceInformation page. Every
    /// instance is asked about (filter values at most 100 per request and pages of at most 50, per
    /// botocore's InstanceInformationFilterValueSet and MaxResultsEC2Compatible), so "N not SSM-managed"
    /// counts them all.
    /// </summary>
    [Fact]
    public async Task EveryInstanceOfALargeGroupIsCheckedForSsmManagement()
    {
        var model = JsonDocument.Parse(Fixtures.Read("aws", "botocore", "ssm-2014-11-06.excerpt.json")).RootElement.GetProperty("shapes");
        Assert.Equal(FakeAws.DescribeMaxFilterValues, model.GetProperty("InstanceInformationFilterValueSet").GetProperty("max").GetInt32());
        Assert.Equal(FakeAws.DescribeMaxResults, model.GetProperty("MaxResultsEC2Compatible").GetProperty("max").GetInt32());
        Assert.InRange(SsmRunbooks.DescribeBatchSize, 1, FakeAws.DescribeMaxFilterValues);

        for (var n = 0; n < 330; n += 3)
        {
            _aws.ManagedInstances[InstanceId(n)] = "Online";
        }
        var groupId = await GroupOfAsync(330);

        var request = await Do(groupId, CardAction.RequestPatch, Requester);

        Assert.True(request.Succeeded, request.Message);
        var asked = _aws.Ssm("DescribeInstanceInformation")
            .SelectMany(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("Filters")[0].GetProperty("Values").EnumerateArray().Select(v => v.GetString()!))
            .ToHashSet();
        Assert.Equal(330, asked.Count);
        var patch = (await Group(groupId)).Workflow.Patch!;
        Assert.Equal(110, patch.InstanceIds.Count);
        Assert.Equal(3, patch.Batches.Count);
        Assert.Contains("110 instance(s), 220 not SSM-managed", (await Group(groupId)).Workflow.History[^1].Detail, StringComparison.Ordinal);
        Assert.Empty(_aws.Rejected);
    }

    /// <summary>
    /// Production condition: SSM accepts the commands but nothing ever reports progress (agent gone,
    /// a replica died). After Remediation:StallTimeoutMinutes the run is failed, the reason is recorded
    /// and sent to the thread, and the card offers its actions again.
    /// </summary>
    [Fact]
    public async Task APatchThatMakesNoProgressPastTheStallTimeoutFailsAndTheCardIsActionableAgain()
    {
        for (var n = 0; n < 60; n++)
        {
            _aws.ManagedInstances[InstanceId(n)] = "Online";
        }
        var groupId = await GroupOfAsync(60);
        await Do(groupId, CardAction.RequestPatch, Requester);
        Assert.True((await Do(groupId, CardAction.ApprovePatch, Approver)).Succeeded);
        Assert.Equal(2, _aws.Ssm("SendCommand").Count());

        // Polls find nothing new for 59 minutes: still patching.
        for (var minute = 0; minute < 59; minute++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
            await Worker.RunDueAsync(default);
        }
        Assert.Equal(GroupState.Patching, (await Group(groupId)).Workflow.State);

        _time.Advance(TimeSpan.FromMinutes(2));
        await TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return (await Group(groupId)).Workflow.State == GroupState.New; }, "stalled run failed");

        var failed = await Group(groupId);
        Assert.Contains("no progress for 1 h", failed.Workflow.Patch!.Failure, StringComparison.Ordinal);
        Assert.Contains(CardAction.RequestPatch, AlertCardBuilder.Build(failed, _time.GetUtcNow()).Actions);
        Assert.Contains(failed.Workflow.History, h => h.Action == "Patch stalled");
        Assert.Contains(await Audit(), a => a.Action == "patch_stalled" && a.Outcome == "failed");
        Assert.NotNull(await _app.Service<IKeyValueStore>().GetAsync($"outbox-key:stalled:{failed.Workflow.Patch.Id}", default));

        // A new request is possible at once.
        Assert.True((await Do(groupId, CardAction.RequestPatch, Requester)).Succeeded);
    }

    /// <summary>
    /// Production condition: an open-port finding on an instance. Patching cannot close a port, so the
    /// card offers no patch and a request (from an old card or a command) is refused with what to do instead.
    /// </summary>
    [Fact]
    public async Task NetworkReachabilityFindingsOfferNoPatch()
    {
        _aws.ManagedInstances[InstanceId(1)] = "Online";
        var evt = FindingEvents.Ec2("net-1", instanceId: InstanceId(1), updatedAt: _time.GetUtcNow().AddHours(-1));
        var detail = evt["detail"]!.AsObject();
        detail["type"] = "NETWORK_REACHABILITY";
        detail.Remove("packageVulnerabilityDetails");
        detail["networkReachabilityDetails"] = new JsonObject
        {
            ["openPortRange"] = new JsonObject { ["begin"] = 22, ["end"] = 22 },
            ["protocol"] = "TCP",
        };
        Assert.Equal(HttpStatusCode.Accepted, (await _app.PostEventsAsync(evt.ToJsonString())).StatusCode);
        var groupId = Assert.Single(await Store.GroupIdsAsync("security", default));
        var group = await Group(groupId);
        Assert.Equal(ChatOpsInspector.Findings.FindingType.NetworkReachability, group.Meta.Type);
        Assert.Single(group.OpenEc2Instances);

        Assert.DoesNotContain(CardAction.RequestPatch, AlertCardBuilder.Build(group, _time.GetUtcNow()).Actions);
        var request = await Do(groupId, CardAction.RequestPatch, Requester);

        Assert.False(request.Succeeded);
        Assert.Contains("cannot close an open port", request.Message, StringComparison.Ordinal);
        Assert.Empty(_aws.Server.Requests);
    }

    /// <summary>
    /// Production condition: progress keeps coming in on a long patch. The watchdog measures time since
    /// the last change, not since approval, so a slow but moving fleet is never failed.
    /// </summary>
    [Fact]
    public async Task ALongPatchThatKeepsMovingIsNotFailedByTheWatchdog()
    {
        for (var n = 0; n < 3; n++)
        {
            _aws.ManagedInstances[InstanceId(n)] = "Online";
        }
        var groupId = await GroupOfAsync(3);
        await Do(groupId, CardAction.RequestPatch, Requester);
        await Do(groupId, CardAction.ApprovePatch, Approver);
        for (var n = 0; n < 3; n++)
        {
            _time.Advance(TimeSpan.FromMinutes(50));
            _aws.InvocationStatus[InstanceId(n)] = "Success";
            var done = n + 1;
            await TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return (await Group(groupId)).Workflow.Patch!.Progress!.Succeeded == done; }, $"{done} done");
        }
        Assert.Equal(GroupState.Patched, (await Group(groupId)).Workflow.State);
        Assert.DoesNotContain(await Audit(), a => a.Action == "patch_stalled");
    }
}
