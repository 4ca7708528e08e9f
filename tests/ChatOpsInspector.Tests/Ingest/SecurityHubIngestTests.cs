using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Findings;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Ingest;

/// <summary>
/// An Inspector finding reaches the bot up to three times — Inspector's own event, Security Hub CSPM's
/// ASFF copy, Security Hub's OCSF copy — and must be one finding, in one group, on one card, with
/// Inspector's own detail kept whichever arrives first.
/// </summary>
public sealed class SecurityHubIngestTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private const string NativeTitle = "CVE-2022-3643 - kernel (from Inspector's own event)";
    private const double NativeScore = 9.4;
    private static readonly DateTimeOffset SameTime = new(2023, 3, 1, 8, 6, 17, TimeSpan.Zero);

    private TestApp App(Dictionary<string, string?>? more = null) => new(TestApp.WithRedis(redis, more));

    /// <summary>Inspector's own event for the finding the Security Hub samples describe, at the same updatedAt.</summary>
    private static JsonObject Native(DateTimeOffset? updatedAt = null, string status = "ACTIVE")
    {
        var evt = FindingEvents.Ec2("unused", cve: "CVE-2022-3643", account: "111111111111", instanceId: "i-11111111111111111",
            updatedAt: updatedAt ?? SameTime, score: NativeScore, status: status);
        evt["region"] = "us-east-1";
        var detail = evt["detail"]!.AsObject();
        detail["findingArn"] = SecurityHubSamples.InspectorArn;
        detail["title"] = NativeTitle;
        detail["resources"]![0]!["region"] = "us-east-1";
        return evt;
    }

    private static JsonObject Asff() => SecurityHubSamples.AsffEvent(SecurityHubSamples.AsffInspectorFinding());

    private static JsonObject Ocsf() => SecurityHubSamples.OcsfEvent(SecurityHubSamples.OcsfInspectorFinding());

    public static TheoryData<string> Orders() => new() { "NAO", "NOA", "ANO", "AON", "ONA", "OAN" };

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task NativeAsffAndOcsfCopiesInAnyOrderAreOneFindingWithInspectorsDetail(string order)
    {
        await using var app = App();
        foreach (var c in order)
        {
            var evt = c switch { 'N' => Native(), 'A' => Asff(), _ => Ocsf() };
            Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(evt.ToJsonString())).StatusCode);
        }

        var store = app.Service<IAlertStore>();
        var owner = Assert.Single(await store.OwnersAsync(default));
        var groupId = Assert.Single(await store.GroupIdsAsync(owner, default));
        Assert.Equal(groupId, await store.GroupOfFindingAsync(SecurityHubSamples.InspectorArn, default));
        var group = (await store.GetGroupAsync(groupId, default))!;
        var member = Assert.Single(group.Members);
        Assert.Equal("CVE-2022-3643", group.VulnerabilityId);
        Assert.Equal(NativeTitle, group.Meta.Title);
        Assert.Equal(NativeScore, group.Meta.InspectorScore);
        Assert.Equal(NativeScore, member.InspectorScore);
        Assert.Null(member.Origin);
        Assert.Equal("i-11111111111111111", member.ResourceId);
    }

    [Fact]
    public async Task ACopyAloneMakesTheFindingAndInspectorsLaterEventReplacesItsDetail()
    {
        await using var app = App();
        await app.PostEventsAsync(Asff().ToJsonString());
        var store = app.Service<IAlertStore>();
        var groupId = (await store.GroupOfFindingAsync(SecurityHubSamples.InspectorArn, default))!;
        var copy = Assert.Single((await store.GetGroupAsync(groupId, default))!.Members);
        Assert.Equal(FindingOrigin.SecurityHubAsff, copy.Origin);
        Assert.Equal(10.0, copy.InspectorScore);

        var body = JsonDocument.Parse(await (await app.PostEventsAsync(Native().ToJsonString())).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, body.GetProperty("accepted").GetInt32());
        var group = (await store.GetGroupAsync(groupId, default))!;
        Assert.Null(Assert.Single(group.Members).Origin);
        Assert.Equal(NativeTitle, group.Meta.Title);
    }

    [Fact]
    public async Task ANewerCopyBringsItsStatusButNotItsDetailOverInspectorsEvent()
    {
        await using var app = App();
        await app.PostEventsAsync(Native().ToJsonString());
        var archived = SecurityHubSamples.AsffInspectorFinding();
        archived["RecordState"] = "ARCHIVED";
        archived["UpdatedAt"] = "2023-03-02T10:00:00Z";
        archived["Title"] = "title from the copy";

        var body = JsonDocument.Parse(await (await app.PostEventsAsync(SecurityHubSamples.AsffEvent(archived).ToJsonString())).Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(1, body.GetProperty("accepted").GetInt32());
        var store = app.Service<IAlertStore>();
        var group = (await store.GetGroupAsync((await store.GroupOfFindingAsync(SecurityHubSamples.InspectorArn, default))!, default))!;
        var member = Assert.Single(group.Members);
        Assert.Equal(FindingStatus.Closed, member.Status);
        Assert.Equal(NativeScore, member.InspectorScore);
        Assert.Null(member.Origin);
        Assert.Equal(NativeTitle, group.Meta.Title);
    }

    [Fact]
    public async Task AnOlderOrEqualCopyAfterInspectorsEventIsADuplicate()
    {
        await using var app = App();
        await app.PostEventsAsync(Native().ToJsonString());
        var body = JsonDocument.Parse(await (await app.PostEventsAsync(Ocsf().ToJsonString())).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(0, body.GetProperty("accepted").GetInt32());
        Assert.Equal(1, body.GetProperty("duplicates").GetInt32());
    }

    [Fact]
    public async Task AnotherProductsVulnerabilityIsRoutedByTagsLikeAnInspectorFinding()
    {
        await using var app = App(new()
        {
            ["Routing:Rules:0:Tags:team"] = "payments",
            ["Routing:Rules:0:Target:Owner"] = "payments",
            ["Routing:Rules:0:Target:SlackChannel"] = "C0PAYMENTS",
        });
        var finding = SecurityHubSamples.AsffFinding("defectdojo-guardduty.json", 0);
        finding["ProductArn"] = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default";
        finding["Id"] = "us-east-1/123456789012/98aebb2207407c87f51e89943f12b1ef";
        finding["Vulnerabilities"] = SecurityHubSamples.UserGuideVulnerabilities();
        finding["Resources"]![0]!["Tags"] = new JsonObject { ["team"] = "payments" };

        var response = await app.PostEventsAsync(SecurityHubSamples.AsffEvent(finding).ToJsonString());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var store = app.Service<IAlertStore>();
        var groupId = Assert.Single(await store.GroupIdsAsync("payments", default));
        var group = (await store.GetGroupAsync(groupId, default))!;
        Assert.Equal("CVE-2020-12345", group.VulnerabilityId);
        Assert.Equal("C0PAYMENTS", group.Meta.SlackChannel);
        var member = Assert.Single(group.Members);
        Assert.Equal("arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default", member.ProductArn);
        Assert.Equal("us-east-1/123456789012/98aebb2207407c87f51e89943f12b1ef", member.ProductFindingId);
    }
}
