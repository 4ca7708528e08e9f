using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Time.Testing;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// The delegated-administrator setup: the bot runs in the Inspector administrator account and acts on
/// instances of member accounts through <c>Aws:MemberRoleName</c>, in each finding's own region.
/// </summary>
public sealed class MemberAccountTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string MemberA = "210987654321";
    private const string MemberB = "222233334444";
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
            ["Aws:MemberRoleName"] = "ChatOpsInspectorMember",
            ["Aws:MemberRoleExternalId"] = "chatops-external-id-1",
            ["Aws:Sts:ServiceUrl"] = _aws.Server.BaseUrl,
            ["Routing:Default:Owner"] = "security",
            ["Routing:Default:Approvers:0"] = "U_APP1",
            ["Routing:Default:Members:0"] = "U_DEV",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
    }

    private static JsonObject Finding(string id, string instance, string account, string region)
    {
        var evt = FindingEvents.Ec2(id, instanceId: instance, account: account, updatedAt: new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero));
        evt["region"] = region;
        var detail = evt["detail"]!.AsObject();
        detail["findingArn"] = FindingEvents.Arn(id, account, region);
        detail["resources"]![0]!["region"] = region;
        return evt;
    }

    /// <summary>
    /// Production condition: one vulnerability on instances of the administrator account and of two
    /// member accounts in two other regions. Member calls are signed with the role session STS issued
    /// for that account (one AssumeRole per account, with the external id, reused for later calls) and
    /// with the finding's region in the SigV4 credential scope; the administrator's own instances use
    /// its own key. The fake SSM shows each account only its own instances, so a wrong account would
    /// read "not managed by SSM".
    /// </summary>
    [Fact]
    public async Task MemberInstancesAreReachedThroughTheirAccountsRoleInTheirRegion()
    {
        var placed = new (string Instance, string Account, string Region)[]
        {
            ("i-0000000000000000a", FakeAws.OwnAccount, "eu-west-1"),
            ("i-0000000000000000b", MemberA, "us-east-1"),
            ("i-0000000000000000c", MemberB, "ap-southeast-2"),
        };
        foreach (var (instance, account, region) in placed)
        {
            _aws.ManagedInstances[instance] = "Online";
            _aws.InstanceAccounts[instance] = account;
            Assert.Equal(HttpStatusCode.Accepted, (await _app.PostEventsAsync(Finding("m-" + instance, instance, account, region).ToJsonString())).StatusCode);
        }
        var groupId = Assert.Single(await _app.Service<IAlertStore>().GroupIdsAsync("security", default));
        var triage = _app.Service<TriageService>();

        var request = await triage.ExecuteAsync(new TriageRequest(groupId, CardAction.RequestPatch, Requester), default);
        Assert.True(request.Succeeded, request.Message);
        await RemediationSteps.SettleAsync(_app, groupId);
        Assert.True((await triage.ExecuteAsync(new TriageRequest(groupId, CardAction.ApprovePatch, Approver) { PatchRequestId = await PendingAsync(groupId) }, default)).Succeeded);
        await RemediationSteps.SettleAsync(_app, groupId);

        Assert.Empty(_aws.Rejected);
        var assumed = _aws.StsCalls.Where(c => c.Action == "AssumeRole").ToArray();
        Assert.Equal(2, assumed.Length);
        Assert.Equal(
            [$"arn:aws:iam::{MemberA}:role/ChatOpsInspectorMember", $"arn:aws:iam::{MemberB}:role/ChatOpsInspectorMember"],
            assumed.Select(a => a.Form["RoleArn"]).Order());
        Assert.All(assumed, a => Assert.Equal("chatops-external-id-1", a.Form["ExternalId"]));
        Assert.All(assumed, a => Assert.Equal("ChatOpsInspector", a.Form["RoleSessionName"]));

        var ssmCalls = _aws.Signed.Where(s => s.Service == "ssm").ToArray();
        Assert.Equal(6, ssmCalls.Length); // DescribeInstanceInformation and SendCommand, once per account.
        foreach (var (instance, account, region) in placed)
        {
            var calls = ssmCalls.Where(c => c.Region == region).ToArray();
            Assert.Equal(2, calls.Length);
            Assert.All(calls, c => Assert.Equal(account, _aws.KeyAccounts[c.AccessKey]));
            if (account == FakeAws.OwnAccount)
            {
                Assert.All(calls, c => Assert.Equal("AKIDTESTREMEDIATION1", c.AccessKey));
            }
            else
            {
                Assert.All(calls, c => Assert.StartsWith("ASIAFAKESESSION", c.AccessKey, StringComparison.Ordinal));
            }
            Assert.Contains(_aws.Commands.Values, ids => ids.SequenceEqual([instance]));
        }
        var patch = (await _app.Service<IAlertStore>().GetGroupAsync(groupId, default))!.Workflow.Patch!;
        Assert.Equal(3, patch.InstanceIds.Count);
        Assert.Equal(3, patch.CommandIds.Count);
    }

    /// <summary>
    /// Production condition: one member account's role does not allow SendCommand. The other accounts'
    /// instances are still patched; the refused batch counts as failed instead of blocking the rest.
    /// </summary>
    [Fact]
    public async Task AMemberAccountThatRefusesDoesNotStopTheOthers()
    {
        foreach (var (instance, account, region) in new[] { ("i-0000000000000000b", MemberA, "us-east-1"), ("i-0000000000000000c", MemberB, "ap-southeast-2") })
        {
            _aws.ManagedInstances[instance] = "Online";
            _aws.InstanceAccounts[instance] = account;
            await _app.PostEventsAsync(Finding("r-" + instance, instance, account, region).ToJsonString());
        }
        _aws.SendCommandErrorForAccount = MemberB;
        var groupId = Assert.Single(await _app.Service<IAlertStore>().GroupIdsAsync("security", default));
        var triage = _app.Service<TriageService>();
        await triage.ExecuteAsync(new TriageRequest(groupId, CardAction.RequestPatch, Requester), default);
        await RemediationSteps.SettleAsync(_app, groupId);

        var approval = await triage.ExecuteAsync(new TriageRequest(groupId, CardAction.ApprovePatch, Approver) { PatchRequestId = await PendingAsync(groupId) }, default);
        await RemediationSteps.SettleAsync(_app, groupId);

        Assert.True(approval.Succeeded, approval.Message);
        var patch = (await _app.Service<IAlertStore>().GetGroupAsync(groupId, default))!.Workflow.Patch!;
        Assert.Single(patch.CommandIds);
        Assert.Equal("0/2 done, 1 failed, 1 running", patch.Progress!.ToString());
        Assert.Contains(patch.Batches, b => b.AccountId == MemberB && b.Error!.Contains("AccessDeniedException", StringComparison.Ordinal));
        var audit = await _app.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 100, default);
        Assert.Contains(audit, a => a.Action == "patch_batch_failed" && a.Outcome == "failed");
    }

    private async Task<string?> PendingAsync(string groupId) =>
        (await _app.Service<IAlertStore>().GetGroupAsync(groupId, default))!.Workflow.Patch?.Id;
}
