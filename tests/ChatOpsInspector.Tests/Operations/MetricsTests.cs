using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Operations;

/// <summary>/metrics has a bounded number of series whatever senders put in their events.</summary>
public sealed class MetricsTests(RedisServer redis) : IClassFixture<RedisServer>
{
    [Fact]
    public async Task UniqueDetailTypesShareOneOtherSeriesInsteadOfOneEach()
    {
        await using var app = new TestApp(TestApp.WithRedis(redis));
        var client = app.Client();
        static int ReceivedSeries(string scrape) =>
            scrape.Split('\n').Count(l => l.StartsWith("coi_events_received_total{", StringComparison.Ordinal));
        var before = await client.GetStringAsync("/metrics");

        // 500 events whose detail-type is chosen by the sender, in batches as EventBridge sends them.
        for (var batch = 0; batch < 5; batch++)
        {
            var events = new JsonArray(Enumerable.Range(0, 100).Select(i =>
            {
                var evt = FindingEvents.Ec2($"dt-{batch}-{i}");
                evt["detail-type"] = $"Made Up Type {Guid.NewGuid()}";
                return (JsonNode)evt;
            }).ToArray());
            var response = await app.PostEventsAsync(events.ToJsonString());
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        // And one real finding, so the known label still appears with its own name.
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(FindingEvents.Ec2("dt-real").ToJsonString())).StatusCode);

        var after = await client.GetStringAsync("/metrics");
        Assert.DoesNotContain("Made Up Type", after, StringComparison.Ordinal);
        Assert.Contains("coi_events_received_total{detail_type=\"other\"}", after, StringComparison.Ordinal);
        Assert.Contains("coi_events_received_total{detail_type=\"Inspector2 Finding\"}", after, StringComparison.Ordinal);
        // The closed set of known types and "other": it does not grow, however many distinct types arrived.
        Assert.True(ReceivedSeries(after) <= ReceivedSeries(before) + 2, "the scrape grew with the number of distinct detail types");
        // The unknown types were ignored, not stored as findings.
        Assert.Equal(["unrouted"], await app.Service<IAlertStore>().OwnersAsync(default));
    }
}
