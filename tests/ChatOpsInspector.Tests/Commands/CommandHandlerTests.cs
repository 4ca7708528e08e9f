using System.Net;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Commands;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.Commands;

/// <summary>A bot without Slack (in-memory store) holding one critical alert for the security team.</summary>
public sealed class CommandHandlerApp : IAsyncLifetime
{
    public TestApp App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = new TestApp(new()
        {
            ["Routing:Default:Owner"] = "security",
            ["Routing:Default:Suppressors:0"] = "ana@example.com",
            ["Routing:Default:TeamsChannel"] = "19:channel@thread.tacv2",
        });
        App.Client();
        var response = await App.PostEventsAsync(FindingEvents.Ec2("f-1", cve: "CVE-2099-0001").ToJsonString());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>The platform-neutral handler as Teams will call it.</summary>
public sealed class CommandHandlerTests(CommandHandlerApp fixture) : IClassFixture<CommandHandlerApp>
{
    /// <summary>A security-team suppressor listed by e-mail, which her tenant vouches for.</summary>
    private static readonly Actor Ana = new("teams", "aad-ana", "Ana", "ana@example.com", "19:channel@thread.tacv2", "50612dbb-0237-4969-b378-8d42590f9c00");
    private readonly TestApp _app = fixture.App;

    private Task<CommandReply> RunAsync(string text, Actor? actor = null) =>
        _app.Service<CommandHandler>().HandleAsync(CommandParser.Parse(text), actor ?? Ana, default);

    [Fact]
    public async Task RepliesArePlainTextWithCardViews()
    {
        var reply = await RunAsync("security");
        Assert.False(reply.IsError);
        Assert.Equal("security: 1 open alert, worst first.", reply.Text);
        var card = Assert.Single(reply.Cards);
        Assert.Equal("CVE-2099-0001", card.VulnerabilityId);
    }

    [Fact]
    public async Task SuppressionEndingInThePastIsRefusedBeforeTheWorkflow()
    {
        var id = GroupIds.For("security", "CVE-2099-0001");
        var reply = await RunAsync($"suppress {id} 2020-01-01 accepted risk");
        Assert.True(reply.IsError);
        Assert.Contains("is in the past", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AssigningByEmailWorksForPlatformsWithoutMentions()
    {
        var id = GroupIds.For("security", "CVE-2099-0001");
        var reply = await RunAsync($"assign {id} bob@example.com");
        Assert.False(reply.IsError, reply.Text);
        var mine = await RunAsync("mine", new Actor("teams", "aad-bob", "Bob", "bob@example.com"));
        Assert.Single(mine.Cards);
    }

    [Fact]
    public async Task AssigningABareNameAsksForAMention()
    {
        var id = GroupIds.For("security", "CVE-2099-0001");
        var reply = await RunAsync($"assign {id} @bob");
        Assert.True(reply.IsError);
        Assert.Contains("Mention the person", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ErrorsAreNeverShared()
    {
        var reply = await RunAsync("show CVE-1999-0001 --share");
        Assert.True(reply.IsError);
        Assert.False(reply.Share);
        Assert.True((await RunAsync("stats --share")).Share);
    }

    [Fact]
    public async Task CoverageSaysItIsNotConfigured() =>
        Assert.StartsWith("Coverage is not configured", (await RunAsync("coverage")).Text, StringComparison.Ordinal);
}
