using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Teams;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Ingest;

/// <summary>POST /dev/samples: the "Try it" path of the README, in the Development environment with local Teams mode.</summary>
public sealed class SampleFindingsTests : IAsyncLifetime
{
    private BotFramework _bf = null!;

    public async Task InitializeAsync() => _bf = await BotFramework.StartAsync();

    public async Task DisposeAsync() => await _bf.DisposeAsync();

    private Dictionary<string, string?> LocalSettings()
    {
        var settings = _bf.Settings(new() { ["Teams:LocalDevelopment"] = "true", ["Alerting:MinSeverity"] = "Medium" });
        foreach (var key in new[] { "Teams:AppId", "Teams:AppPassword", "Teams:OpenIdMetadataUrl", "Teams:TokenEndpoint", "Teams:AllowedServiceUrls:0" })
        {
            settings.Remove(key);
        }
        return settings;
    }

    private IEnumerable<RecordedRequest> ConversationsCreated => _bf.Connector.Requests.Where(r => r.Method == "POST" && r.Path == "/v3/conversations");

    [Fact]
    public async Task InDevelopmentTheBundledSamplesBecomeThreeCardsInTheChannelAndAgainAsNewFindingsOnEachCall()
    {
        await using var app = new TestApp(LocalSettings(), environment: "Development");
        Assert.Equal(HttpStatusCode.OK, (await BotFramework.SendAsync(app, _bf.BotAddedToTeam(), token: null)).StatusCode);

        var first = await app.Client().PostAsync("/dev/samples", null);
        var second = await app.Client().PostAsync("/dev/samples", null);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(3, JsonNode.Parse(await first.Content.ReadAsStringAsync())!["accepted"]!.GetValue<int>());
        Assert.Equal(3, JsonNode.Parse(await second.Content.ReadAsStringAsync())!["accepted"]!.GetValue<int>());  // fresh ids: not duplicates
        await TestApp.Eventually(() => Task.FromResult(ConversationsCreated.Count() == 3), "three cards posted");
        var cards = ConversationsCreated.Select(r => r.Body).ToList();
        Assert.Contains(cards, c => c.Contains("CVE-2024-29069", StringComparison.Ordinal));  // EC2 sample, published CLOSED, made ACTIVE
        Assert.Contains(cards, c => c.Contains("CVE-2024-6119", StringComparison.Ordinal));
        Assert.Contains(cards, c => c.Contains("CVE-2023-30861", StringComparison.Ordinal));
        var groups = await app.Service<AlertQueries>().GroupsAsync("security", default);
        Assert.Equal(3, groups.Count);
        Assert.All(groups.SelectMany(g => g.Members), m => Assert.DoesNotContain("{{FINDING_ID}}", m.FindingArn, StringComparison.Ordinal));
        await TestApp.Eventually(async () => (await app.Service<AlertQueries>().GroupsAsync("security", default)).Sum(g => g.Members.Count) == 6,
            "the second call's findings stored beside the first");
    }

    [Fact]
    public async Task OutsideDevelopmentThereIsNoSampleEndpoint()
    {
        await using var app = new TestApp(new() { ["Alerting:MinSeverity"] = "Medium" });

        var response = await app.Client().PostAsync("/dev/samples", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task InDevelopmentARemoteCallerCannotLoadSamples()
    {
        await using var app = new TestApp(LocalSettings(), services: s => s.AddSingleton<IStartupFilter>(new RemoteAddressFilter(IPAddress.Parse("203.0.113.7"))), environment: "Development");

        var response = await app.Client().PostAsync("/dev/samples", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(await app.Service<AlertQueries>().GroupsAsync("security", default));
    }
}
