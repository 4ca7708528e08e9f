using System.Net;
using System.Text.Json;
using Amazon.Runtime;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Aws;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.DependencyInjection;
using RecordedRequest = ChatOpsInspector.Tests.Aws.RecordedRequest;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// Triage in chat is written back to Security Hub. Oracle for every field: botocore's securityhub
/// service model (botocore/data/securityhub/2018-10-26/service-2.json @ 0e6e2404):
/// BatchUpdateFindings = PATCH /findings/batchupdate, {FindingIdentifiers:[{Id, ProductArn}] (≤100 by its
/// documentation), Note:{Text, UpdatedBy}, Workflow:{Status: NEW|NOTIFIED|RESOLVED|SUPPRESSED}};
/// BatchUpdateFindingsV2 = PATCH /findingsv2/batchupdatev2, {FindingIdentifiers:[{CloudAccountUid,
/// FindingInfoUid, MetadataProductUid}] (max 100), Comment, StatusId}. The fake answers as the model's
/// output shapes say and checks each request's SigV4 signature, service and region.
/// </summary>
public sealed class SecurityHubWriteBackTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly Actor Alice = new("slack", "U0ALICE", "Alice Example", Workspace: "T0SECHUB1");
    private static readonly DateTimeOffset Opened = new(2023, 3, 1, 8, 6, 17, TimeSpan.Zero);

    private static Task<FakeAwsServer> FakeSecurityHub(Func<int, int>? status = null)
    {
        var calls = 0;
        return FakeAwsServer.StartAsync((request, response) =>
        {
            var n = Interlocked.Increment(ref calls);
            var code = status?.Invoke(n) ?? 200;
            if (code != 200)
            {
                return FakeAwsServer.Reply(response, code, """{"Code":"InternalException","Message":"try again"}""", $"req-{n}");
            }
            var ids = request.Json.GetProperty("FindingIdentifiers").GetRawText();
            return FakeAwsServer.Reply(response, 200, $$"""{"ProcessedFindings":{{ids}},"UnprocessedFindings":[]}""", $"req-{n}");
        });
    }

    private TestApp App(FakeAwsServer fake, string api = "Asff") => new(
        TestApp.WithRedis(redis, new()
        {
            ["SecurityHub:WriteBack"] = "true",
            ["SecurityHub:ServiceUrl"] = fake.BaseUri.ToString(),
            ["SecurityHub:Api"] = api,
            ["Routing:Default:Members:0"] = "U0ALICE",
        }),
        services => services.AddSingleton<AWSCredentials>(new SessionAWSCredentials(AwsTestHost.AccessKey, AwsTestHost.SecretKey, AwsTestHost.SessionToken)));

    private static string Native(DateTimeOffset updatedAt, string status = "ACTIVE")
    {
        var evt = FindingEvents.Ec2("x", cve: "CVE-2022-3643", account: "111111111111", instanceId: "i-11111111111111111", updatedAt: updatedAt, status: status);
        evt["detail"]!["findingArn"] = SecurityHubSamples.InspectorArn;
        return evt.ToJsonString();
    }

    private static async Task<string> GroupOf(TestApp app, string arn)
    {
        var store = app.Service<IAlertStore>();
        string? id = null;
        await TestApp.Eventually(async () => (id = await store.GroupOfFindingAsync(arn, default)) is not null, "finding stored");
        return id!;
    }

    private static async Task<IReadOnlyList<AuditRecord>> Audit(TestApp app) =>
        (await app.Service<IAuditLog>().ReadAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), 1000, default))
            .Where(a => a.Action == "securityhub_writeback").ToArray();

    private static void AssertSigned(RecordedRequest request, string region)
    {
        var credential = SigV4Verification.AssertValidSignature(request, AwsTestHost.SecretKey);
        Assert.Equal("securityhub", credential.Service);
        Assert.Equal(region, credential.Region);
        Assert.Equal(AwsTestHost.SessionToken, request.Header("X-Amz-Security-Token"));
        Assert.Equal("PATCH", request.Method);
    }

    [Fact]
    public async Task AcknowledgeFixAndReopenAreWrittenToTheAsffFindingInItsRegion()
    {
        await using var fake = await FakeSecurityHub();
        await using var app = App(fake);
        await app.PostEventsAsync(Native(Opened));
        var groupId = await GroupOf(app, SecurityHubSamples.InspectorArn);

        var ack = await app.Service<TriageService>().ExecuteAsync(new TriageRequest(groupId, CardAction.Acknowledge, Alice), default);
        Assert.True(ack.Succeeded);

        await TestApp.Eventually(() => Task.FromResult(fake.Requests.Count >= 1), "NOTIFIED written");
        var notified = fake.Requests[0];
        Assert.Equal("/findings/batchupdate", notified.Path);
        AssertSigned(notified, "us-east-1"); // the finding's region, not Aws:Region
        var body = notified.Json;
        var id = Assert.Single(body.GetProperty("FindingIdentifiers").EnumerateArray());
        Assert.Equal(SecurityHubSamples.InspectorArn, id.GetProperty("Id").GetString());
        Assert.Equal("arn:aws:securityhub:us-east-1::product/aws/inspector", id.GetProperty("ProductArn").GetString());
        Assert.Equal("NOTIFIED", body.GetProperty("Workflow").GetProperty("Status").GetString());
        Assert.Contains("Alice Example", body.GetProperty("Note").GetProperty("Text").GetString(), StringComparison.Ordinal);
        Assert.Equal("ChatOpsInspector", body.GetProperty("Note").GetProperty("UpdatedBy").GetString());
        Assert.Equal(["FindingIdentifiers", "Note", "Workflow"], body.EnumerateObject().Select(p => p.Name).Order());
        await TestApp.Eventually(async () => (await Audit(app)).Any(a => a.Outcome == "ok" && a.AwsRequestId == "req-1"), "write-back audited");

        // Inspector closes the finding: verified fixed → RESOLVED.
        await app.PostEventsAsync(Native(Opened.AddHours(5), "CLOSED"));
        await TestApp.Eventually(() => Task.FromResult(fake.Requests.Any(r => Status(r) == "RESOLVED")), "RESOLVED written");
        // And it comes back: reopened → NEW.
        await app.PostEventsAsync(Native(Opened.AddHours(9)));
        await TestApp.Eventually(() => Task.FromResult(fake.Requests.Any(r => Status(r) == "NEW")), "NEW written");
        Assert.Equal(["NOTIFIED", "RESOLVED", "NEW"], fake.Requests.Select(Status));
    }

    private static string? Status(RecordedRequest r) => r.Json.GetProperty("Workflow").GetProperty("Status").GetString();

    [Fact]
    public async Task AFindingThatCameAsOcsfIsUpdatedWithBatchUpdateFindingsV2()
    {
        await using var fake = await FakeSecurityHub();
        await using var app = App(fake);
        await app.PostEventsAsync(SecurityHubSamples.OcsfEvent(SecurityHubSamples.OcsfInspectorFinding()).ToJsonString());
        var groupId = await GroupOf(app, SecurityHubSamples.InspectorArn);

        var assignee = new Actor("teams", "aad-bob", "Bob Example");
        Assert.True((await app.Service<TriageService>().ExecuteAsync(
            new TriageRequest(groupId, CardAction.Assign, Alice) { Assignee = assignee }, default)).Succeeded);

        await TestApp.Eventually(() => Task.FromResult(fake.Requests.Count >= 1), "V2 update written");
        var request = fake.Requests[0];
        Assert.Equal("/findingsv2/batchupdatev2", request.Path);
        AssertSigned(request, "us-east-1");
        var body = request.Json;
        var id = Assert.Single(body.GetProperty("FindingIdentifiers").EnumerateArray());
        Assert.Equal("111111111111", id.GetProperty("CloudAccountUid").GetString());
        Assert.Equal(SecurityHubSamples.InspectorArn, id.GetProperty("FindingInfoUid").GetString());
        Assert.Equal("arn:aws:securityhub:us-east-1::productv2/aws/inspector", id.GetProperty("MetadataProductUid").GetString());
        Assert.Equal(2, body.GetProperty("StatusId").GetInt32()); // OCSF status_id 2: In Progress
        var comment = body.GetProperty("Comment").GetString()!;
        Assert.Contains("Bob Example", comment, StringComparison.Ordinal);
        Assert.InRange(comment.Length, 1, 512);
    }

    [Fact]
    public async Task AGroupOfTwoHundredFiftyFindingsIsWrittenInCallsOfAtMostOneHundred()
    {
        await using var fake = await FakeSecurityHub();
        await using var app = App(fake);
        var batch = new System.Text.Json.Nodes.JsonArray(Enumerable.Range(0, 250)
            .Select(i => (System.Text.Json.Nodes.JsonNode)FindingEvents.Ec2($"{i:x32}", cve: "CVE-2026-0100", instanceId: $"i-{i:x17}")).ToArray());
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(batch.ToJsonString())).StatusCode);
        var groupId = await GroupOf(app, $"arn:aws:inspector2:eu-central-1:123456789012:finding/{0:x32}");

        Assert.True((await app.Service<TriageService>().ExecuteAsync(new TriageRequest(groupId, CardAction.Acknowledge, Alice), default)).Succeeded);

        await TestApp.Eventually(() => Task.FromResult(fake.Requests.Sum(r => r.Json.GetProperty("FindingIdentifiers").GetArrayLength()) >= 250), "all written");
        Assert.Equal([100, 100, 50], fake.Requests.Select(r => r.Json.GetProperty("FindingIdentifiers").GetArrayLength()).OrderDescending());
        Assert.All(fake.Requests, r => AssertSigned(r, "eu-central-1"));
        Assert.Equal(250, fake.Requests.SelectMany(r => r.Json.GetProperty("FindingIdentifiers").EnumerateArray())
            .Select(i => i.GetProperty("Id").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task AFailedWriteIsRetriedByTheDurableJobAndAuditedWithoutBlockingTheChatAction()
    {
        await using var fake = await FakeSecurityHub(n => n == 1 ? 500 : 200);
        await using var app = App(fake);
        await app.PostEventsAsync(Native(Opened));
        var groupId = await GroupOf(app, SecurityHubSamples.InspectorArn);

        var ack = await app.Service<TriageService>().ExecuteAsync(new TriageRequest(groupId, CardAction.Acknowledge, Alice), default);
        Assert.True(ack.Succeeded);

        await TestApp.Eventually(async () => (await Audit(app)).Any(a => a.Outcome == "ok"), "retried and written", 60_000);
        var audit = await Audit(app);
        var retry = Assert.Single(audit, a => a.Outcome == "retrying");
        Assert.Contains("InternalException", retry.Detail, StringComparison.Ordinal);
        Assert.Equal(groupId, retry.GroupId);
        Assert.Equal(2, fake.Requests.Count);
        Assert.Equal(fake.Requests[0].BodyText, fake.Requests[1].BodyText);
    }

    /// <summary>
    /// Production condition: an organisation whose bot runs in the Security Hub delegated-administrator
    /// account with <c>Aws:MemberRoleName</c> set (for SSM in member accounts). Security Hub updates
    /// member findings from the administrator account, so BatchUpdateFindings must not assume the member
    /// role: one group holding findings of two member accounts in two regions is written with one call
    /// per region, each signed with the administrator's key for that region, naming the product ARN of
    /// that region — and the STS endpoint (the same fake) sees no AssumeRole.
    /// </summary>
    [Fact]
    public async Task MemberAccountFindingsAreWrittenWithTheAdministratorKeyInEachFindingsRegion()
    {
        await using var fake = await FakeSecurityHub();
        await using var app = new TestApp(
            TestApp.WithRedis(redis, new()
            {
                ["SecurityHub:WriteBack"] = "true",
                ["SecurityHub:ServiceUrl"] = fake.BaseUri.ToString(),
                ["Aws:Region"] = "eu-west-1",
                ["Aws:MemberRoleName"] = "ChatOpsInspectorMember",
                ["Aws:Sts:ServiceUrl"] = fake.BaseUri.ToString(),
                ["Routing:Default:Members:0"] = "U0ALICE",
            }),
            services => services.AddSingleton<AWSCredentials>(new SessionAWSCredentials(AwsTestHost.AccessKey, AwsTestHost.SecretKey, AwsTestHost.SessionToken)));
        var placed = new (string Name, string Account, string Region, string Instance)[]
        {
            ("member-a", "210987654321", "us-east-1", "i-0000000000000000b"),
            ("member-b", "222233334444", "ap-southeast-2", "i-0000000000000000c"),
        };
        var batch = new System.Text.Json.Nodes.JsonArray(placed.Select(p =>
        {
            var evt = FindingEvents.Ec2(p.Name, cve: "CVE-2026-0200", account: p.Account, instanceId: p.Instance, updatedAt: Opened);
            evt["region"] = p.Region;
            evt["detail"]!["findingArn"] = FindingEvents.Arn(p.Name, p.Account, p.Region);
            evt["detail"]!["resources"]![0]!["region"] = p.Region;
            return (System.Text.Json.Nodes.JsonNode)evt;
        }).ToArray());
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(batch.ToJsonString())).StatusCode);
        var groupId = await GroupOf(app, FindingEvents.Arn("member-a", "210987654321", "us-east-1"));
        Assert.Equal(groupId, await GroupOf(app, FindingEvents.Arn("member-b", "222233334444", "ap-southeast-2")));

        Assert.True((await app.Service<TriageService>().ExecuteAsync(new TriageRequest(groupId, CardAction.Acknowledge, Alice), default)).Succeeded);

        await TestApp.Eventually(async () => (await Audit(app)).Any(a => a.Outcome == "ok"), "write-back done");
        Assert.Equal(2, fake.Requests.Count);
        Assert.All(fake.Requests, r => Assert.Equal("/findings/batchupdate", r.Path)); // no STS AssumeRole reached the fake
        foreach (var (name, account, region, _) in placed)
        {
            var request = Assert.Single(fake.Requests, r => r.BodyText.Contains(account, StringComparison.Ordinal));
            var credential = SigV4Verification.AssertValidSignature(request, AwsTestHost.SecretKey);
            Assert.Equal(AwsTestHost.AccessKey, credential.AccessKey);
            Assert.Equal(region, credential.Region);
            Assert.Equal("securityhub", credential.Service);
            Assert.Equal(AwsTestHost.SessionToken, request.Header("X-Amz-Security-Token"));
            var id = Assert.Single(request.Json.GetProperty("FindingIdentifiers").EnumerateArray());
            Assert.Equal(FindingEvents.Arn(name, account, region), id.GetProperty("Id").GetString());
            Assert.Equal($"arn:aws:securityhub:{region}::product/aws/inspector", id.GetProperty("ProductArn").GetString());
        }
    }

    [Fact]
    public async Task WriteBackIsOffUnlessConfigured()
    {
        await using var app = new TestApp();
        app.Client();
        Assert.Null(app.Services.GetService<SecurityHubWriteBack>());
        Assert.DoesNotContain(app.Services.GetServices<IAlertGroupObserver>(), o => o is SecurityHubWriteBackObserver);
    }

    [Fact]
    public void SuppressionIsWrittenAsSuppressedWithReasonAndExpiry()
    {
        var expires = new DateTimeOffset(2026, 12, 31, 12, 0, 0, TimeSpan.Zero);
        var group = SampleGroups.Critical(expires.AddDays(-30), "g1", "payments", TimeSpan.FromDays(1), TimeSpan.FromDays(1), 0.5,
            workflow: new WorkflowState
            {
                State = GroupState.Suppressed,
                Suppression = new Suppression("compensating control: not internet-facing", expires, Alice, expires.AddDays(-30), null, GroupState.New),
            });
        var status = SecurityHubStatus.For(group)!;
        Assert.Equal("SUPPRESSED", status.Workflow);
        Assert.Equal(3, status.OcsfStatusId);
        Assert.Contains("Alice Example", status.Note, StringComparison.Ordinal);
        Assert.Contains("compensating control: not internet-facing", status.Note, StringComparison.Ordinal);
        Assert.Contains("2026-12-31 12:00", status.Note, StringComparison.Ordinal);
    }
}
