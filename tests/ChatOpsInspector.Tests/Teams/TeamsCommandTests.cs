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

    /// <summary>
    /// Sends <paramref name="command"/> as a channel @mention and returns what answered it. Only the help
    /// text and --share answers belong in the thread; every other answer goes to the asker's personal chat
    /// and the thread gets one note saying so.
    /// </summary>
    private async Task<JsonNode[]> RepliesAsync(TestApp app, string command, int expected = 1, bool inThread = false)
    {
        var before = Posts().Length;
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, _bf.ChannelMention(command))).StatusCode);
        var total = expected + (inThread ? 0 : 1);
        await TestApp.Eventually(() => Task.FromResult(Posts().Length >= before + total), $"reply to '{command}'");
        var replies = Posts().Skip(before).ToArray();
        if (inThread)
        {
            Assert.All(replies, r => Assert.Equal(ThreadPath, Uri.UnescapeDataString(r.Path)));
            return replies.Select(r => JsonNode.Parse(r.Body)!).ToArray();
        }
        var note = Assert.Single(replies, r => Uri.UnescapeDataString(r.Path) == ThreadPath);
        Assert.Equal(TeamsMessageWorker.Markdown(TeamsMessageWorker.AnsweredInPersonalChat), JsonNode.Parse(note.Body)!["text"]!.GetValue<string>());
        var created = _bf.Connector.Requests.Last(r => r.Method == "POST" && r.Path == "/v3/conversations");
        var chatId = JsonNode.Parse(created.Body)!["isGroup"]!.GetValue<bool>() ? null : PersonalChatOf(created);
        var answers = replies.Where(r => r != note).ToArray();
        Assert.All(answers, r => Assert.Equal($"/v3/conversations/{chatId}/activities", Uri.UnescapeDataString(r.Path)));
        return answers.Select(r => JsonNode.Parse(r.Body)!).ToArray();
    }

    /// <summary>The fake connector names the n-th created 1:1 conversation "a:personal-n" after its own request counter.</summary>
    private string PersonalChatOf(RecordedRequest created)
    {
        var index = _bf.Connector.Requests.ToList().IndexOf(created);
        var chat = _bf.Connector.Requests.Skip(index + 1).First(r => Uri.UnescapeDataString(r.Path).StartsWith("/v3/conversations/a:personal-", StringComparison.Ordinal));
        return Uri.UnescapeDataString(chat.Path)["/v3/conversations/".Length..].Split('/')[0];
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

        var reply = Assert.Single(await RepliesAsync(app, "help", inThread: true));

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

        Assert.Contains("Application not found or not visible to you", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("security", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Production condition: someone asks for an owner's alerts with an @mention in a Teams channel. Slack
    /// would answer ephemerally; Teams channels have no such thing, so the bot opens a 1:1 conversation
    /// with that person (Bot Framework REST API "Create Conversation": POST /v3/conversations with
    /// isGroup false, the bot, the user as the one member, and the tenant) and answers there; the thread
    /// only gets a note, carrying nothing of the alert.
    /// </summary>
    [Fact]
    public async Task ChannelQuestionIsAnsweredInThePersonalChatAndTheThreadOnlyGetsANote()
    {
        await using var app = new TestApp(_bf.Settings());
        await app.PostEventsAsync(FindingEvents.Ec2("f1").ToJsonString());
        var mention = _bf.ChannelMention("vulns security");

        var replies = await RepliesAsync(app, "vulns security", expected: 2);

        Assert.Contains("security: 1 open alert", replies[0]["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("CVE-2024-29069", replies[1].ToJsonString(), StringComparison.Ordinal);
        var create = JsonNode.Parse(_bf.Connector.Requests.Last(r => r.Method == "POST" && r.Path == "/v3/conversations").Body)!;
        Assert.False(create["isGroup"]!.GetValue<bool>());
        Assert.Equal(mention["from"]!["id"]!.GetValue<string>(), Assert.Single(create["members"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(mention["recipient"]!["id"]!.GetValue<string>(), create["bot"]!["id"]!.GetValue<string>());
        Assert.Equal(BotFramework.TenantId, create["tenantId"]!.GetValue<string>());
        Assert.Equal(BotFramework.TenantId, create["channelData"]!["tenant"]!["id"]!.GetValue<string>());
        var thread = _bf.Connector.Requests.Where(r => Uri.UnescapeDataString(r.Path) == ThreadPath).ToArray();
        Assert.DoesNotContain(thread, r => r.Body.Contains("CVE-", StringComparison.Ordinal));
    }

    /// <summary>Errors are private too: a typo's answer goes to the personal chat, not the channel.</summary>
    [Fact]
    public async Task ChannelErrorIsAnsweredInThePersonalChat()
    {
        await using var app = new TestApp(_bf.Settings());

        var reply = Assert.Single(await RepliesAsync(app, "vulns suppress"));

        Assert.Contains("Usage", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>--share in the owner's own channel is meant for everyone there: it is answered in the thread, no personal chat.</summary>
    [Fact]
    public async Task ShareInTheOwnersChannelIsAnsweredInTheThread()
    {
        await using var app = new TestApp(_bf.Settings());
        await app.PostEventsAsync(FindingEvents.Ec2("f1").ToJsonString());

        var replies = await RepliesAsync(app, "vulns security --share", expected: 2, inThread: true);

        Assert.Contains("CVE-2024-29069", replies[1].ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_bf.Connector.Requests, r => r.Method == "POST" && r.Path == "/v3/conversations" && r.Body.Contains("\"isGroup\":false", StringComparison.Ordinal));
    }

    /// <summary>
    /// Production condition: the connector refuses the 1:1 conversation (the person never installed the
    /// app). The private answer is then not given at all: the thread gets a refusal naming no alert.
    /// </summary>
    [Fact]
    public async Task WhenNoPersonalChatCanBeOpenedTheChannelGetsARefusalAndNoAlert()
    {
        await using var app = new TestApp(_bf.Settings());
        await app.PostEventsAsync(FindingEvents.Ec2("f1").ToJsonString());
        _bf.RefusePersonalChats = true;

        var reply = Assert.Single(await RepliesAsync(app, "vulns security", inThread: true));

        Assert.Equal(TeamsMessageWorker.Markdown(TeamsMessageWorker.CannotAnswerPrivately), reply["text"]!.GetValue<string>());
        Assert.DoesNotContain("CVE-", reply.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(_bf.Connector.Requests, r => r.Method == "POST" && r.Path == "/v3/conversations" && r.Body.Contains("\"isGroup\":false", StringComparison.Ordinal));
        Assert.DoesNotContain(_bf.Connector.Requests, r => Uri.UnescapeDataString(r.Path).Contains("a:personal-", StringComparison.Ordinal));
    }

    /// <summary>
    /// In a personal chat, an outsider's question about an owner they may not see, or an alert of it, is
    /// answered byte for byte as the same question about one that does not exist.
    /// </summary>
    [Fact]
    public async Task OutsidersQuestionsAboutAnInvisibleOwnerAreAnsweredExactlyAsForOneThatDoesNotExist()
    {
        const string outsider = "0u751de0-0000-4000-8000-000000000001";
        await using var app = new TestApp(_bf.Settings(new()
        {
            ["Routing:Rules:0:Tags:app"] = "shop",
            ["Routing:Rules:0:Target:Owner"] = "shop",
            ["Routing:Rules:0:Target:TeamsChannel"] = "19:shop0000000000000000000000000000@thread.tacv2",
        }));
        await app.PostEventsAsync(FindingEvents.Ec2("f1", cve: "CVE-2099-5001", tags: new() { ["app"] = "shop" }).ToJsonString());
        var hidden = ChatOpsInspector.Alerts.GroupIds.For("shop", "CVE-2099-5001");
        var missing = ChatOpsInspector.Alerts.GroupIds.For("shop", "CVE-2099-0000003");
        Assert.NotNull(await app.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(hidden, default));

        async Task<string> Answer(string command)
        {
            var before = _bf.Connector.Requests.Count;
            Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, _bf.PersonalMessage(command, outsider))).StatusCode);
            RecordedRequest? reply = null;
            await TestApp.Eventually(() =>
            {
                reply = _bf.Connector.Requests.Skip(before).FirstOrDefault(r => r.Method == "POST" && r.Path.StartsWith("/v3/conversations/a", StringComparison.Ordinal));
                return Task.FromResult(reply is not null);
            }, $"answer to '{command}'");
            return reply!.Body;
        }

        foreach (var (h, m) in new[]
        {
            ("vulns shop", "vulns nosuchapp"), ("vulns sla shop", "vulns sla nosuchapp"), ("vulns stats shop", "vulns stats nosuchapp"),
            ("vulns show CVE-2099-5001", "vulns show CVE-2099-0000003"), ($"vulns show {hidden}", $"vulns show {missing}"),
            ($"vulns ack {hidden}", $"vulns ack {missing}"), ($"vulns patch {hidden}", $"vulns patch {missing}"),
            ($"vulns suppress {hidden} 30d accepted", $"vulns suppress {missing} 30d accepted"),
        })
        {
            var toHidden = await Answer(h);
            var toMissing = await Answer(m);
            Assert.True(toHidden == toMissing, $"'{h}' answered {toHidden} but '{m}' answered {toMissing}");
            Assert.DoesNotContain("CVE-2099-5001", toHidden, StringComparison.Ordinal);
        }
        Assert.Contains("not found or not visible to you", await Answer("vulns shop"), StringComparison.Ordinal);
    }
}
