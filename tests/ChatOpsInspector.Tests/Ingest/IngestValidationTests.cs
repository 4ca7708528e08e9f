using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Ingest;

/// <summary>
/// Ingest checks every finding of a request before anything is written, so a forged or broken value
/// is refused with the path of the problem and never reaches the store, the SLA arithmetic or a runbook.
/// The shapes come from Inspector2's API model (boto/botocore, botocore/data/inspector2/2020-06-08/service-2.json):
/// FindingArn <c>arn:(aws[a-zA-Z-]*)?:inspector2:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:finding/[a-f0-9]{32}</c>
/// (max 100), AccountId <c>\d{12}</c>, EpssScoreValue 0.0–1.0; CVSS scores are 0–10 by the CVSS specification
/// and inspectorScore is on the same scale. EC2 instance ids are "i-" and 8 or 17 hex digits (EC2 API reference,
/// "Resource IDs").
/// </summary>
public sealed class IngestValidationTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private TestApp App() => new(TestApp.WithRedis(redis));

    private static JsonObject Good(string id) => FindingEvents.Ec2(id, eventId: "evt-" + id);

    private static string With(string id, Action<JsonObject> change)
    {
        var evt = Good(id);
        change(evt["detail"]!.AsObject());
        return evt.ToJsonString();
    }

    public static TheoryData<string, string, string> Forged() => new()
    {
        { "year-9999 updatedAt (was a 500 from the SLA arithmetic)", With("v-9999", d => d["updatedAt"] = "9999-12-31T23:59:59Z"), "$.detail.updatedAt" },
        { "year-9999 firstObservedAt", With("v-first", d => d["firstObservedAt"] = "9999-12-31T23:59:59Z"), "$.detail.firstObservedAt" },
        { "year-1 updatedAt", With("v-year1", d => d["updatedAt"] = "0001-01-01T00:00:00Z"), "$.detail.updatedAt" },
        { "updatedAt two days ahead would freeze the finding", With("v-future", d => d["updatedAt"] = DateTimeOffset.UtcNow.AddDays(2).ToString("O")), "$.detail.updatedAt" },
        { "formula as account id", With("v-acct", d => d["awsAccountId"] = "=1+1"), "$.detail.awsAccountId" },
        { "11-digit account id", With("v-acct11", d => d["awsAccountId"] = "12345678901"), "$.detail.awsAccountId" },
        { "bare arn: as finding ARN", With("v-arn", d => d["findingArn"] = "arn:"), "$.detail.findingArn" },
        { "finding ARN of another service", With("v-arn2", d => d["findingArn"] = "arn:aws:s3:::bucket/finding/0123456789abcdef0123456789abcdef"), "$.detail.findingArn" },
        { "inspectorScore 1e308", With("v-big", d => d["inspectorScore"] = 1e308), "$.detail.inspectorScore" },
        { "inspectorScore -1e308", With("v-neg", d => d["inspectorScore"] = -1e308), "$.detail.inspectorScore" },
        { "EPSS above 1", With("v-epss", d => d["epss"] = new JsonObject { ["score"] = 1.5 }), "$.detail.epss.score" },
        { "CVSS base score 11", With("v-cvss", d => d["packageVulnerabilityDetails"]!["cvss"]![1]!["baseScore"] = 11), "$.detail.packageVulnerabilityDetails.cvss[1].baseScore" },
        { "adjusted CVSS -1", With("v-adj", d => d["inspectorScoreDetails"]!["adjustedCvss"]!["score"] = -1), "$.detail.inspectorScoreDetails.adjustedCvss.score" },
        { "truncated instance id (made every patch fail)", With("v-inst", d => d["resources"]![0]!["id"] = "i-0abc"), "$.detail.resources[0].id" },
        { "instance id with upper-case hex", With("v-inst2", d => d["resources"]![0]!["id"] = "i-0123456789ABCDEF0"), "$.detail.resources[0].id" },
        { "duplicate severity key", Good("v-dup").ToJsonString().Replace("\"severity\":\"CRITICAL\"", "\"severity\":\"CRITICAL\",\"severity\":\"LOW\"", StringComparison.Ordinal), "$.detail.severity" },
    };

    [Theory]
    [MemberData(nameof(Forged))]
    public async Task ForgedValueIsRefusedWithItsPathAndNothingIsStored(string name, string body, string path)
    {
        await using var app = App();

        var response = await app.PostEventsAsync(body);

        Assert.True(HttpStatusCode.BadRequest == response.StatusCode, $"{name}: {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(path, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await app.Service<IAlertStore>().OwnersAsync(default));
        // The refusal is for that value: the same event unchanged is taken.
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(Good("after-" + name.Length).ToJsonString())).StatusCode);
    }

    [Fact]
    public async Task ABatchWithOneFarFutureFindingStoresNothingAndEveryRetryIsA400()
    {
        await using var app = App();
        var good = Good("batch-good");
        var bad = With("batch-bad", d => d["updatedAt"] = "9999-12-31T23:59:59Z");
        var batch = $"[{good.ToJsonString()},{bad}]";
        var store = app.Service<IAlertStore>();

        for (var attempt = 0; attempt < 3; attempt++)
        {
            var response = await app.PostEventsAsync(batch);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("$[1].detail.updatedAt", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Null(await store.GroupOfFindingAsync(FindingEvents.Arn("batch-good"), default));
        Assert.Empty(await store.OwnersAsync(default));
        // The good event alone is stored once sent without its bad neighbour, and not as a duplicate.
        var alone = JsonDocument.Parse(await (await app.PostEventsAsync(good.ToJsonString())).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, alone.GetProperty("accepted").GetInt32());
        Assert.NotNull(await store.GroupOfFindingAsync(FindingEvents.Arn("batch-good"), default));
    }

    [Fact]
    public async Task DuplicateKeysAreNamedWhereverTheyAre()
    {
        await using var app = App();
        var good = Good("dupe-good").ToJsonString();
        var twice = Good("dupe-bad").ToJsonString().Replace("\"region\":\"eu-central-1\"", "\"region\":\"eu-central-1\",\"region\":\"us-east-1\"", StringComparison.Ordinal);

        var response = await app.PostEventsAsync($"[{good},{twice}]");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.StartsWith("$[1].", problem.GetProperty("detail").GetString());
        Assert.Contains("duplicate JSON keys", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await app.Service<IAlertStore>().OwnersAsync(default));
    }

    [Fact]
    public async Task FindingsWithinTheClockAllowanceAndEightDigitInstanceIdsAreTaken()
    {
        await using var app = App();
        var skewed = FindingEvents.Ec2("skew", instanceId: "i-0abc1234", updatedAt: DateTimeOffset.UtcNow.AddHours(12));
        skewed["detail"]!["firstObservedAt"] = new DateTimeOffset(2015, 1, 1, 0, 0, 0, TimeSpan.Zero).ToString("O");

        var response = await app.PostEventsAsync(skewed.ToJsonString());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.NotNull(await app.Service<IAlertStore>().GroupOfFindingAsync(FindingEvents.Arn("skew"), default));
    }

    [Fact]
    public async Task AStoreFailureMidBatchIsA503AndTheRetryStoresEachFindingOnce()
    {
        // A real mid-write failure: the second finding's key holds a value of the wrong type, so Redis
        // refuses its ingest script (WRONGTYPE) after the first finding was written.
        var prefix = RedisServer.UniquePrefix();
        await using var app = new TestApp(TestApp.WithRedis(redis, new() { ["State:KeyPrefix"] = prefix }));
        var first = Good("mid-1");
        var second = FindingEvents.Ec2("mid-2", instanceId: "i-0000000000000000b", eventId: "evt-mid-2");
        var batch = $"[{first.ToJsonString()},{second.ToJsonString()}]";
        using var direct = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var keys = new ChatOpsInspector.State.RedisKeys(new ChatOpsInspector.State.StateOptions { KeyPrefix = prefix });
        var blocker = keys.Finding(keys.PartitionOf(ChatOpsInspector.Alerts.GroupIds.For("unrouted", "CVE-2024-29069")), FindingEvents.Arn("mid-2"));
        await direct.GetDatabase().StringSetAsync(blocker, "not a hash");

        var failed = await app.PostEventsAsync(batch);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.NotNull(failed.Headers.RetryAfter);

        // Each finding's write is idempotent, so the sender's retry of the whole batch converges:
        // the one already written counts as a duplicate, the other is stored, neither twice.
        await direct.GetDatabase().KeyDeleteAsync(blocker);
        var retried = JsonDocument.Parse(await (await app.PostEventsAsync(batch)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, retried.GetProperty("accepted").GetInt32());
        Assert.Equal(1, retried.GetProperty("duplicates").GetInt32());
        var store = app.Service<IAlertStore>();
        var groupId = Assert.Single(await store.GroupIdsAsync("unrouted", default));
        Assert.Equal(2, (await store.GetGroupAsync(groupId, default))!.Members.Count);
    }
}
