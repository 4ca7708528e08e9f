using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Ingest;

/// <summary>
/// What an EventBridge API destination sends besides Inspector findings: any 4xx sends a well-formed
/// AWS event to the rule's dead-letter queue, so every such event is answered 202 and counted.
/// </summary>
public sealed class EventSourcesTests
{
    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    // The event types Inspector publishes to EventBridge (EventBridge events reference, "Amazon Inspector
    // events"), each in the user guide's base schema around a published detail.
    [Theory]
    [InlineData("Inspector2 Scan")]
    [InlineData("Inspector2 Coverage")]
    [InlineData("Inspector2 AutoEnable")]
    [InlineData("Inspector Finding")]
    [InlineData("Inspector Scan")]
    [InlineData("AWS API Call via CloudTrail")]
    public async Task EveryInspectorEventTypeIsAcceptedAndCountedAsIgnored(string detailType)
    {
        await using var app = new TestApp();
        var evt = JsonNode.Parse(Fixtures.Read("inspector", "coverage-ec2-instance.json"))!.AsObject();
        evt["detail-type"] = detailType;
        evt["id"] = Guid.NewGuid().ToString();
        var before = await Counter(app, "coi_events_received_total", "detail_type", detailType);

        var response = await app.PostEventsAsync(evt.ToJsonString());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await Json(response);
        Assert.Equal(0, body.GetProperty("accepted").GetInt32());
        Assert.Equal(1, body.GetProperty("ignored").GetInt32());
        Assert.True(await Counter(app, "coi_events_received_total", "detail_type", detailType) >= before + 1);
    }

    [Fact]
    public async Task AnInspectorEventTypeNotYetKnownIsAcceptedUnderTheOtherLabel()
    {
        await using var app = new TestApp();
        var evt = JsonNode.Parse(Fixtures.Read("inspector", "coverage-ec2-instance.json"))!.AsObject();
        evt["detail-type"] = "Inspector2 Brand New Event " + Guid.NewGuid();
        var before = await Counter(app, "coi_events_received_total", "detail_type", "other");

        var response = await app.PostEventsAsync(evt.ToJsonString());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True(await Counter(app, "coi_events_received_total", "detail_type", "other") >= before + 1);
        // The sender's text never becomes a label value: the label set stays closed.
        Assert.DoesNotContain("Brand New Event", await app.Client().GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWellFormedEventOfAnotherSourceIsAcceptedAndIgnoredNot4xx()
    {
        await using var app = new TestApp();
        // The EC2 state-change example of the EventBridge user guide ("Amazon EventBridge events").
        var ec2 = """
            {"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification",
             "source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1",
             "resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
             "detail":{"instance-id":"i-abcd1111","state":"pending"}}
            """;
        var before = await Counter(app, "coi_events_ignored_total", "reason", "other_source");

        var response = await app.PostEventsAsync(ec2);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, (await Json(response)).GetProperty("ignored").GetInt32());
        Assert.True(await Counter(app, "coi_events_ignored_total", "reason", "other_source") >= before + 1);
    }

    [Theory]
    [InlineData("""{"hello":"world"}""", "$.id is required")]
    // A source and a detail, but no account or region: not an AWS event, so still a 400.
    [InlineData("""{"id":"x","source":"my.app","detail-type":"Thing","detail":{}}""", "account and region are required")]
    [InlineData("""{"id":"x","source":"my.app","detail-type":"Thing","account":"1","region":"r"}""", "$.detail is required")]
    public async Task WhatIsNotAnAwsEventIsStillRefused(string body, string expected)
    {
        await using var app = new TestApp();
        var response = await app.PostEventsAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecurityHubNonVulnerabilityFindingIsAcceptedAndCounted()
    {
        await using var app = new TestApp();
        var before = await Counter(app, "coi_events_ignored_total", "reason", "not_a_vulnerability");
        var response = await app.PostEventsAsync(
            SecurityHubSamples.AsffEvent(SecurityHubSamples.AsffFinding("defectdojo-guardduty.json", 0)).ToJsonString());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, (await Json(response)).GetProperty("ignored").GetInt32());
        Assert.True(await Counter(app, "coi_events_ignored_total", "reason", "not_a_vulnerability") >= before + 1);
    }

    /// <summary>A counter's value in the Prometheus exposition (other tests run in parallel: compare with at least).</summary>
    internal static async Task<double> Counter(TestApp app, string name, string label, string value)
    {
        var text = await app.Client().GetStringAsync("/metrics");
        var match = Regex.Match(text, $"^{Regex.Escape(name)}\\{{{Regex.Escape(label)}=\"{Regex.Escape(value)}\"\\}} (\\S+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }
}
