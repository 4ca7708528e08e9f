using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Ingest;

public sealed class IngestApiTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private TestApp App(Dictionary<string, string?>? more = null) => new(TestApp.WithRedis(redis, more));

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Theory]
    [InlineData("finding-ec2-package-vulnerability.json", 1, 0)]
    [InlineData("finding-ecr-package-vulnerability.json", 1, 0)]
    [InlineData("finding-lambda-package-vulnerability.json", 1, 0)]
    [InlineData("scan-ec2-initial-scan-complete.json", 0, 1)]
    [InlineData("scan-ecr-initial-scan-complete.json", 0, 1)]
    [InlineData("coverage-ec2-instance.json", 0, 1)]
    public async Task EveryOfficialSampleIsAccepted(string file, int accepted, int ignored)
    {
        await using var app = App();
        var response = await app.PostEventsAsync(FindingEvents.Sample(file));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Json(response);
        Assert.Equal(accepted, body.GetProperty("accepted").GetInt32());
        Assert.Equal(0, body.GetProperty("duplicates").GetInt32());
        Assert.Equal(ignored, body.GetProperty("ignored").GetInt32());
    }

    /// <summary>
    /// EventBridge redelivers an event with its id: the id alone makes it a duplicate, even when the body
    /// would otherwise count as news (a later updatedAt), so the check cannot be the updatedAt one.
    /// </summary>
    [Fact]
    public async Task RedeliveredEventIdIsADuplicateWhateverItsBodySays()
    {
        await using var app = App();
        var first = FindingEvents.Ec2("dup-1", eventId: "evt-1", updatedAt: new DateTimeOffset(2024, 9, 4, 17, 0, 0, TimeSpan.Zero));
        Assert.Equal(1, (await Json(await app.PostEventsAsync(first.ToJsonString()))).GetProperty("accepted").GetInt32());

        var redelivered = FindingEvents.Ec2("dup-1", eventId: "evt-1", updatedAt: new DateTimeOffset(2024, 9, 5, 17, 0, 0, TimeSpan.Zero));
        var again = await Json(await app.PostEventsAsync(redelivered.ToJsonString()));

        Assert.Equal(0, again.GetProperty("accepted").GetInt32());
        Assert.Equal(1, again.GetProperty("duplicates").GetInt32());
        var group = await GroupOfAsync(app, "dup-1");
        Assert.Equal(new DateTimeOffset(2024, 9, 4, 17, 0, 0, TimeSpan.Zero), Assert.Single(group.Members).UpdatedAt);
    }

    /// <summary>A new event about a finding whose updatedAt has not moved carries no news; once it moves, it does.</summary>
    [Fact]
    public async Task NewEventForAnUnchangedFindingIsADuplicateAndAChangedOneIsNot()
    {
        await using var app = App();
        var at = new DateTimeOffset(2024, 9, 4, 17, 0, 0, TimeSpan.Zero);
        Assert.Equal(1, (await Json(await app.PostEventsAsync(FindingEvents.Ec2("dup-2", eventId: "evt-a", updatedAt: at).ToJsonString()))).GetProperty("accepted").GetInt32());

        var unchanged = await Json(await app.PostEventsAsync(FindingEvents.Ec2("dup-2", eventId: "evt-b", updatedAt: at).ToJsonString()));
        var changed = await Json(await app.PostEventsAsync(FindingEvents.Ec2("dup-2", eventId: "evt-c", updatedAt: at.AddHours(1)).ToJsonString()));

        Assert.Equal(1, unchanged.GetProperty("duplicates").GetInt32());
        Assert.Equal(0, unchanged.GetProperty("accepted").GetInt32());
        Assert.Equal(1, changed.GetProperty("accepted").GetInt32());
        Assert.Equal(at.AddHours(1), Assert.Single((await GroupOfAsync(app, "dup-2")).Members).UpdatedAt);
    }

    private static async Task<ChatOpsInspector.Alerts.AlertGroup> GroupOfAsync(TestApp app, string findingId)
    {
        var store = app.Service<IAlertStore>();
        var arn = FindingEvents.Arn(findingId);
        var groupId = await store.GroupOfFindingAsync(arn, default) ?? throw new InvalidOperationException($"no group for {arn}");
        return (await store.GetGroupAsync(groupId, default))!;
    }

    [Fact]
    public async Task AnArrayOfFindingsForOneCveAndOwnerMakesOneGroup()
    {
        await using var app = App();
        var batch = new JsonArray(Enumerable.Range(0, 200)
            .Select(i => (JsonNode)FindingEvents.Ec2($"storm-{i}", cve: "CVE-2026-0001", instanceId: $"i-{i:x17}")).ToArray());
        var body = await Json(await app.PostEventsAsync(batch.ToJsonString()));
        Assert.Equal(200, body.GetProperty("accepted").GetInt32());
        var store = app.Service<IAlertStore>();
        var owner = Assert.Single(await store.OwnersAsync(default));
        var groupId = Assert.Single(await store.GroupIdsAsync(owner, default));
        var group = await store.GetGroupAsync(groupId, default);
        Assert.Equal(200, group!.Members.Count);
        Assert.Equal(200, group.OpenEc2Instances.Count);
    }

    [Fact]
    public async Task ClosedFindingsResolveTheGroupWithTimeToFix()
    {
        await using var app = App();
        var opened = new DateTimeOffset(2024, 9, 4, 17, 0, 36, TimeSpan.Zero);
        await app.PostEventsAsync(FindingEvents.Ec2("fix-1", instanceId: "i-00000001", updatedAt: opened).ToJsonString());
        await app.PostEventsAsync(FindingEvents.Ec2("fix-2", instanceId: "i-00000002", updatedAt: opened).ToJsonString());
        var store = app.Service<IAlertStore>();
        var groupId = Assert.Single(await store.GroupIdsAsync("unrouted", default));

        await app.PostEventsAsync(FindingEvents.Ec2("fix-1", instanceId: "i-00000001", status: "CLOSED", updatedAt: opened.AddHours(5)).ToJsonString());
        await TestApp.Eventually(async () => (await store.GetGroupAsync(groupId, default))!.FixedCount == 1, "first fix stored");
        Assert.NotEqual(GroupState.Resolved, (await store.GetGroupAsync(groupId, default))!.Workflow.State);

        await app.PostEventsAsync(FindingEvents.Ec2("fix-2", instanceId: "i-00000002", status: "CLOSED", updatedAt: opened.AddHours(7)).ToJsonString());
        await TestApp.Eventually(async () => (await store.GetGroupAsync(groupId, default))!.Workflow.State == GroupState.Resolved, "group resolved");
        var resolved = (await store.GetGroupAsync(groupId, default))!;
        // First observed 16:59:44 in the sample; last fix at 00:00:36 next day.
        Assert.Equal(opened.AddHours(7), resolved.Workflow.ResolvedAt);
        Assert.Equal(opened.AddHours(7) - resolved.FirstSeenAt, resolved.Workflow.TimeToFix);
        var audit = await app.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 100, default);
        Assert.Contains(audit, a => a.Action == "verified_fixed" && a.GroupId == groupId);
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1,2]", "must be an EventBridge event object")]
    [InlineData("""{"id":"x","source":"aws.inspector2","detail-type":"Inspector2 Finding","detail":{"findingArn":5}}""", "findingArn must be a string")]
    [InlineData("\"just a string\"", "must be an EventBridge event object or an array")]
    public async Task BadBodiesGetProblemDetailsAndStoreNothing(string body, string expected)
    {
        await using var app = App();
        var response = await app.PostEventsAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await app.Service<IAlertStore>().OwnersAsync(default));
    }

    [Fact]
    public async Task OversizedBodyIs413AndStoresNothing()
    {
        await using var app = App(new() { ["Ingest:MaxBodyBytes"] = "65536" });
        var huge = "[" + string.Join(",", Enumerable.Range(0, 40).Select(i => FindingEvents.Ec2($"big-{i}").ToJsonString())) + "]";
        Assert.True(Encoding.UTF8.GetByteCount(huge) > 65536);
        var response = await app.PostEventsAsync(huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(await app.Service<IAlertStore>().OwnersAsync(default));
    }

    [Fact]
    public async Task ChunkedOversizedBodyWithoutContentLengthIs413()
    {
        await using var app = App(new() { ["Ingest:MaxBodyBytes"] = "1024" });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/inspector/events")
        {
            Content = new StreamContent(new MemoryStream(new byte[100_000])),
        };
        request.Headers.Add("X-Api-Key", TestApp.ApiKey);
        request.Headers.TransferEncodingChunked = true;
        var response = await app.Client().SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData("test-ingest-key-012345678")]
    public async Task WrongOrMissingKeyIs401WithoutDetail(string? key)
    {
        await using var app = App();
        var response = await app.PostEventsAsync(FindingEvents.Ec2("auth-1").ToJsonString(), key);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await app.Service<IAlertStore>().OwnersAsync(default));
    }

    [Fact]
    public async Task BearerTokenWithTheKeyIsAccepted()
    {
        await using var app = App();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/inspector/events")
        {
            Content = new StringContent(FindingEvents.Ec2("bearer-1").ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", TestApp.ApiKey);
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client().SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task RoutingRulesSendFindingsToTheirOwner()
    {
        await using var app = App(new()
        {
            ["Routing:Rules:0:Tags:app"] = "payments",
            ["Routing:Rules:0:Target:Owner"] = "payments",
            ["Routing:Rules:1:AccountIds:0"] = "210987654321",
            ["Routing:Rules:1:Target:Owner"] = "platform",
            ["Routing:Default:Owner"] = "security",
        });
        await app.PostEventsAsync(FindingEvents.Ec2("r1", tags: new() { ["app"] = "payments" }).ToJsonString());
        await app.PostEventsAsync(FindingEvents.Ec2("r2", account: "210987654321").ToJsonString());
        await app.PostEventsAsync(FindingEvents.Ec2("r3").ToJsonString());
        var owners = await app.Service<IAlertStore>().OwnersAsync(default);
        Assert.Equal(["payments", "platform", "security"], owners.Order().ToArray());
    }
}
