using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Teams;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Teams;

public sealed class TeamsCommandTests : IAsyncLifetime
{
    private BotFramework _bf = null!;

    public async Task InitializeAsync() => _bf = await BotFramework.StartAsync();

    public async Task DisposeAsync() => await _bf.DisposeAsync();

    private const string ThreadPath = "/v3/conversations/19:6848757105754c8981c67612732d9aa7@thread.tacv2;messageid=1759881511856/activities/1759944781430";

    private async Task<JsonNode[]> RepliesAsync(TestApp app, string command, int expected = 1)
    {
        var before = Posts().Length;
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, _bf.ChannelMention(command))).StatusCode);
        await TestApp.Eventually(() => Task.FromResult(Posts().Length >= before + expected), $"reply to '{command}'");
        var replies = Posts().Skip(before).ToArray();
        Assert.All(replies, r => Assert.Equal(ThreadPath, Uri.UnescapeDataString(r.Path)));
        return replies.Select(r => JsonNode.Parse(r.Body)!).ToArray();
    }

    /// <summary>Posts into existing conversations: replies. (Alert cards for the ingested findings start new threads.)</summary>
    private RecordedRequest[] Posts() => _bf.Connector.Requests.Where(r => r.Method == "POST" && r.Path.StartsWith("/v3/conversations/", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void MentionOfTheBotIsStrippedFromTheCapturedChannelMessage()
    {
        var activity = System.Text.Json.JsonSerializer.Deserialize(
            Fixtures.Read("teams", "channel-message-mention.teams-net-test.json"), TeamsJson.Default.Activity)!;

        Assert.Equal("reply to thread", TeamsCommands.CommandText(activity));
        Assert.Equal("19:6848757105754c8981c67612732d9aa7@thread.tacv2", activity.TeamsChannelId);
    }

    [Fact]
    public async Task AssignWithARealTeamsMentionAssignsThePersonMentioned()
    {
        // Teams sends "<at>Ana Alvarez</at>" in the text plus a mention entity whose `mentioned` is the person's
        // Teams user id (29:…) and name; the roster (GET /v3/conversations/{team}/members/{id}) gives the Entra id.
        await using var app = new TestApp(_bf.Settings());
        await app.PostEventsAsync(FindingEvents.Ec2("f1").ToJsonString());
        _bf.AddMember("29:1ana", BotFramework.ApproverAad, "Ana Alvarez", "ana@contoso.example");
        var activity = _bf.ChannelMention("vulns assign CVE-2024-29069 <at>Ana Alvarez</at>");
        activity["entities"]!.AsArray().Add(new JsonObject
        {
            ["type"] = "mention",
            ["text"] = "<at>Ana Alvarez</at>",
            ["mentioned"] = new JsonObject { ["id"] = "29:1ana", ["name"] = "Ana Alvarez" },
        });
        var before = Posts().Length;

        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, activity)).StatusCode);

        await TestApp.Eventually(() => Task.FromResult(Posts().Skip(before).Any(p => p.Body.Contains("Assigned CVE-2024-29069 to Ana Alvarez", StringComparison.Ordinal))),
            "assignment confirmed");
        var group = await app.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(ChatOpsInspector.Alerts.GroupIds.For("security", "CVE-2024-29069"), default);
        Assert.Equal(BotFramework.ApproverAad, group!.Workflow.AssignedTo!.UserId);
        Assert.Equal("Ana Alvarez", group.Workflow.AssignedTo.DisplayName);
        Assert.Equal("ana@contoso.example", group.Workflow.AssignedTo.Email);
    }

    [Fact]
    public async Task HelpIsAnsweredInTheThread()
    {
        await using var app = new TestApp(_bf.Settings());

        var reply = Assert.Single(await RepliesAsync(app, "help"));

        var text = reply["text"]!.GetValue<string>();
        Assert.Contains("vulns mine", text, StringComparison.Ordinal);
        // Teams words: no slash command, no --share, nothing claimed to be private in a channel.
        Assert.DoesNotContain("/vulns", text, StringComparison.Ordinal);
        Assert.DoesNotContain("--share", text, StringComparison.Ordinal);
        Assert.DoesNotContain("only to you", text, StringComparison.Ordinal);
        Assert.Contains("@mention me in a channel", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VulnsOwnerListsOpenAlertsWorstFirst()
    {
        await using var app = new TestApp(_bf.Settings());
        await app.PostEventsAsync(FindingEvents.Ec2("f1").ToJsonString());
        await app.PostEventsAsync(FindingEvents.Ec2("f2", cve: "CVE-2024-6119", severity: "HIGH", score: 7.5).ToJsonString());

        var replies = await RepliesAsync(app, "vulns security", expected: 3);

        Assert.Contains("security: 2 open alerts, worst first.", replies[0]["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var cards = replies.Skip(1).Select(r => r["attachments"]![0]!["content"]!).ToArray();
        Assert.All(cards, Schemas.AssertValidCard);
        Assert.Contains("CVE-2024-29069", cards[0].ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("CVE-2024-6119", cards[1].ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShowAnswersWithTheAlertCard()
    {
        await using var app = new TestApp(_bf.Settings());
        await app.PostEventsAsync(FindingEvents.Ec2("f1").ToJsonString());

        var replies = await RepliesAsync(app, "vulns show CVE-2024-29069", expected: 2);

        Schemas.AssertValidCard(replies[^1]["attachments"]![0]!["content"]);
    }

    [Fact]
    public async Task MineWithNothingAssignedSaysSo()
    {
        await using var app = new TestApp(_bf.Settings());

        var reply = Assert.Single(await RepliesAsync(app, "vulns mine"));

        Assert.Contains("Nothing is assigned to you", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownOwnerNamesNoOwner()
    {
        await using var app = new TestApp(_bf.Settings());

        var reply = Assert.Single(await RepliesAsync(app, "vulns nosuchapp"));

        Assert.Contains("know an application called nosuchapp", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("security", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
