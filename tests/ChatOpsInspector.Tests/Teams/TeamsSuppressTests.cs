using System.Net;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Workflow;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Teams;

/// <summary>
/// The Suppress form of the Teams card, submitted as Teams sends it (Action.Execute invoke, signed token):
/// the suppression lasts exactly as long as the person chose, in the bot and in the Inspector filter.
/// </summary>
public sealed class TeamsSuppressTests : IAsyncLifetime
{
    private BotFramework _bf = null!;
    private FakeAws _aws = null!;
    private TestApp _app = null!;
    private string _groupId = "";

    public async Task InitializeAsync()
    {
        _bf = await BotFramework.StartAsync();
        _aws = await FakeAws.StartAsync();
        _app = new TestApp(_bf.Settings(new()
        {
            ["Aws:Region"] = "eu-west-1",
            ["Aws:Inspector2:ServiceUrl"] = _aws.Server.BaseUrl,
            ["Aws:Ssm:ServiceUrl"] = _aws.Server.BaseUrl,
        }), services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDTEAMSSUPPRESS01", "secret/for/the/fake")));
        Assert.Equal(HttpStatusCode.Accepted, (await _app.PostEventsAsync(FindingEvents.Ec2("f-suppress").ToJsonString())).StatusCode);
        _groupId = Assert.Single(await _app.Service<AlertQueries>().GroupsAsync("security", default)).Id;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
        await _bf.DisposeAsync();
    }

    [Theory]
    [InlineData("7")]
    [InlineData("30")]
    [InlineData("90")]
    public async Task SuppressForNDaysEndsNDaysFromNowInTheBotAndInTheFilter(string days)
    {
        var before = DateTimeOffset.UtcNow;
        await SuppressAsync(new JsonObject { ["reason"] = "vendor fix scheduled", ["expiry"] = days });
        var after = DateTimeOffset.UtcNow;

        var suppression = await SuppressionAsync();
        Assert.InRange(suppression.ExpiresAt, before.AddDays(int.Parse(days)), after.AddDays(int.Parse(days)));
        Assert.Equal("vendor fix scheduled", suppression.Reason);
        Assert.Equal(BotFramework.SuppressorAad, suppression.By.UserId);
        var filter = JsonNode.Parse(Assert.Single(_aws.Server.Requests, r => r.Path == "/filters/create").Body)!;
        Assert.Equal("SUPPRESS", filter["action"]!.GetValue<string>());
        Assert.Contains($"until {suppression.ExpiresAt:yyyy-MM-dd}", filter["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExpiryDateFromThePickerWinsOverTheDayChoice()
    {
        var date = DateTime.UtcNow.Date.AddDays(45);
        await SuppressAsync(new JsonObject { ["reason"] = "accepted", ["expiry"] = "30", ["expiryDate"] = date.ToString("yyyy-MM-dd") });

        var suppression = await SuppressionAsync();
        Assert.Equal(new DateTimeOffset(date, TimeSpan.Zero), suppression.ExpiresAt);
    }

    private async Task SuppressAsync(JsonObject inputs)
    {
        inputs["groupId"] = _groupId;
        var response = await _bf.SendAsync(_app, _bf.Invoke("suppress", inputs, BotFramework.SuppressorAad));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<Suppression> SuppressionAsync()
    {
        var group = Assert.Single(await _app.Service<AlertQueries>().FindAsync(_groupId, default));
        Assert.Equal(GroupState.Suppressed, group.Workflow.State);
        return group.Workflow.Suppression!;
    }
}
