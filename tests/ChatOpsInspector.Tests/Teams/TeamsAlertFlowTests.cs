using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Teams;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Teams;

public sealed class TeamsAlertFlowTests(RedisServer redis) : IAsyncLifetime, IClassFixture<RedisServer>
{
    private BotFramework _bf = null!;

    public async Task InitializeAsync() => _bf = await BotFramework.StartAsync();

    public async Task DisposeAsync() => await _bf.DisposeAsync();

    private IEnumerable<RecordedRequest> ConversationsCreated => _bf.Connector.Requests.Where(r => r.Method == "POST" && r.Path == "/v3/conversations");

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task FindingInAChannelWhereTheBotIsInstalledCreatesAThreadWithASchemaValidCardAndUpdatesIt(string store)
    {
        await using var app = new TestApp(store == "redis" ? TestApp.WithRedis(redis, _bf.Settings()) : _bf.Settings());
        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, _bf.BotAddedToTeam())).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(FindingEvents.Ec2("f1").ToJsonString())).StatusCode);
        await TestApp.Eventually(() => Task.FromResult(ConversationsCreated.Any()), "card posted to the channel");

        var post = ConversationsCreated.Single();
        Assert.Equal("Bearer " + BotFramework.BotAccessToken, post.Headers["Authorization"]);
        var body = JsonNode.Parse(post.Body)!;
        Assert.True(body["isGroup"]!.GetValue<bool>());
        Assert.Equal(BotFramework.ChannelId, body["channelData"]!["channel"]!["id"]!.GetValue<string>());
        Assert.Equal(BotFramework.TenantId, body["tenantId"]!.GetValue<string>());
        Assert.Equal(BotFramework.BotId, body["bot"]!["id"]!.GetValue<string>());
        var attachment = body["activity"]!["attachments"]![0]!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", attachment["contentType"]!.GetValue<string>());
        Schemas.AssertValidCard(attachment["content"]);
        Assert.Contains("8:orgid:" + BotFramework.SuppressorAad, attachment["content"]!["refresh"]!["userIds"]!.AsArray().Select(u => u!.GetValue<string>()));

        Assert.Single(await app.Service<AlertQueries>().GroupsAsync("security", default));
        await TestApp.Eventually(async () => (await app.Service<AlertQueries>().GroupsAsync("security", default))[0].Cards.ContainsKey("teams"), "card ref stored");
        var card = (await app.Service<AlertQueries>().GroupsAsync("security", default))[0].Cards["teams"];
        Assert.Equal(BotFramework.ChannelId, card.Channel);
        Assert.StartsWith(BotFramework.ChannelId + ";messageid=", card.ThreadId);

        await app.PostEventsAsync(FindingEvents.Ec2("f2", instanceId: "i-0fedcba9876543210").ToJsonString());
        await TestApp.Eventually(() => Task.FromResult(_bf.Connector.Requests.Any(r => r.Method == "PUT")), "card updated");

        var put = _bf.Connector.Requests.Single(r => r.Method == "PUT");
        Assert.Equal($"/v3/conversations/{card.ThreadId}/activities/{card.MessageId}", Uri.UnescapeDataString(put.Path));
        var updated = JsonNode.Parse(put.Body)!["attachments"]![0]!["content"];
        Schemas.AssertValidCard(updated);
        Assert.Contains("Where (2)", updated!.ToJsonString(), StringComparison.Ordinal);
        Assert.Single(ConversationsCreated);
        Assert.Single(_bf.Login.To("/oauth2/token"));  // the bot token is cached between calls
    }

    [Fact]
    public async Task AcknowledgingFromTheCardUpdatesTheChannelCardForEveryone()
    {
        await using var app = new TestApp(_bf.Settings());
        await _bf.SendAsync(app, _bf.BotAddedToTeam());
        await app.PostEventsAsync(FindingEvents.Ec2("f1").ToJsonString());
        await TestApp.Eventually(async () => (await app.Service<AlertQueries>().GroupsAsync("security", default)).Any(g => g.Cards.ContainsKey("teams")), "card posted");
        var groupId = (await app.Service<AlertQueries>().GroupsAsync("security", default))[0].Id;

        var response = await _bf.SendAsync(app, _bf.Invoke("ack", new JsonObject { ["groupId"] = groupId }, BotFramework.MemberAad, "Ana"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await TestApp.Eventually(() => Task.FromResult(_bf.Connector.Requests.Any(r => r.Method == "PUT" && r.Body.Contains("Acknowledged by Ana", StringComparison.Ordinal))),
            "channel card updated with the new state");
    }

    [Fact]
    public async Task OneToOneChatIsCreatedWithTheUserAsOnlyMember()
    {
        await using var app = new TestApp(_bf.Settings());

        var result = await app.Service<ConnectorClient>().CreatePersonalChatAsync(_bf.ServiceUrl, BotFramework.TenantId, BotFramework.BotId, "29:someone", default);

        Assert.True(result.Ok);
        Assert.StartsWith("a:", result.Id);
        var body = JsonNode.Parse(Assert.Single(_bf.Connector.Requests).Body)!;
        Assert.False(body["isGroup"]!.GetValue<bool>());
        Assert.Equal("29:someone", Assert.Single(body["members"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(BotFramework.TenantId, body["tenantId"]!.GetValue<string>());
    }

    [Fact]
    public async Task ChannelWithoutTheBotInstalledIsKeptForLaterWithAnInstallHint()
    {
        await using var app = new TestApp(_bf.Settings());
        var adapter = app.Service<TeamsChatAdapter>();

        var result = await adapter.PostCardAsync(BotFramework.ChannelId,
            global::ChatOpsInspector.Cards.AlertCardBuilder.Build(AlertCardRendererTests.Group(), DateTimeOffset.UtcNow), default);

        // Kept and tried again, not dropped: it goes out once the bot learns the channel.
        Assert.Equal(ChatOutcome.RetryLater, result.Outcome);
        Assert.Equal(TeamsChatAdapter.NoReferenceRetry, result.RetryAfter);
        Assert.Equal(TeamsChatAdapter.NoReference, result.Error);
        Assert.Empty(_bf.Connector.Requests);
    }

    [Fact]
    public async Task RemovingTheBotFromTheTeamForgetsItsChannels()
    {
        await using var app = new TestApp(_bf.Settings());
        var references = app.Service<ConversationReferences>();
        await _bf.SendAsync(app, _bf.BotAddedToTeam());
        var created = _bf.BotAddedToTeam();
        created.Remove("membersAdded");
        created["channelData"]!["eventType"] = "channelCreated";
        created["channelData"]!["channel"] = new JsonObject { ["id"] = "19:second@thread.tacv2", ["name"] = "alerts" };
        await _bf.SendAsync(app, created);
        Assert.NotNull(await references.ChannelAsync(BotFramework.ChannelId, default));
        Assert.Equal(BotFramework.TeamId, (await references.ChannelAsync("19:second@thread.tacv2", default))!.TeamId);

        Assert.Equal(HttpStatusCode.OK, (await _bf.SendAsync(app, _bf.BotRemovedFromTeam())).StatusCode);

        Assert.Null(await references.ChannelAsync(BotFramework.ChannelId, default));
        Assert.Null(await references.ChannelAsync("19:second@thread.tacv2", default));
    }

    [Fact]
    public async Task InstallationUpdateInAChannelRemembersItAndRemoveForgetsIt()
    {
        await using var app = new TestApp(_bf.Settings());
        var references = app.Service<ConversationReferences>();
        var install = _bf.BotAddedToTeam(channel: "19:installed@thread.tacv2");
        install["type"] = "installationUpdate";
        install["action"] = "add";
        install.Remove("membersAdded");
        install["channelData"]!.AsObject().Remove("eventType");

        await _bf.SendAsync(app, install);
        var stored = await references.ChannelAsync("19:installed@thread.tacv2", default);
        Assert.NotNull(stored);
        Assert.Equal(BotFramework.TenantId, stored.TenantId);
        Assert.Equal(BotFramework.BotId, stored.BotId);
        Assert.Equal(_bf.ServiceUrl, stored.ServiceUrl);

        install["action"] = "remove";
        await _bf.SendAsync(app, install);
        Assert.Null(await references.ChannelAsync("19:installed@thread.tacv2", default));
    }

    [Fact]
    public async Task ChannelSelectedInTheInstallDialogIsLearnedAtInstall()
    {
        // installationUpdate action "add" in a team carries channelData.settings.selectedChannel.id: the channel
        // picked in the install dialog (Teams docs, "Conversation events": installationUpdate / Bot Builder
        // TeamsChannelData.Settings.SelectedChannel). The activity's own conversation is the General channel.
        await using var app = new TestApp(_bf.Settings());
        var references = app.Service<ConversationReferences>();
        var install = _bf.BotAddedToTeam(channel: BotFramework.TeamId);
        install["type"] = "installationUpdate";
        install["action"] = "add";
        install.Remove("membersAdded");
        install["channelData"]!.AsObject().Remove("eventType");
        install["channelData"]!["settings"] = new JsonObject { ["selectedChannel"] = new JsonObject { ["id"] = "19:selected@thread.tacv2" } };

        await _bf.SendAsync(app, install);

        var selected = await references.ChannelAsync("19:selected@thread.tacv2", default);
        Assert.NotNull(selected);
        Assert.Equal(BotFramework.TeamId, selected.TeamId);
        Assert.Equal(_bf.ServiceUrl, selected.ServiceUrl);
        var result = await app.Service<TeamsChatAdapter>().PostNoteAsync("19:selected@thread.tacv2", null, new ChatNote("hello"), default);
        Assert.Equal(ChatOutcome.Ok, result.Outcome);
    }

    [Fact]
    public async Task ChannelsOfAnArchivedTeamComeBackWhenItIsUnarchived()
    {
        await using var app = new TestApp(_bf.Settings());
        var references = app.Service<ConversationReferences>();
        await _bf.SendAsync(app, _bf.BotAddedToTeam());
        var archived = _bf.BotAddedToTeam();
        archived.Remove("membersAdded");
        archived["channelData"]!["eventType"] = "teamArchived";
        await _bf.SendAsync(app, archived);
        Assert.Null(await references.ChannelAsync(BotFramework.ChannelId, default));

        var unarchived = _bf.BotAddedToTeam();
        unarchived.Remove("membersAdded");
        unarchived["channelData"]!["eventType"] = "teamUnarchived";
        await _bf.SendAsync(app, unarchived);

        Assert.NotNull(await references.ChannelAsync(BotFramework.ChannelId, default));
        Assert.NotNull(await references.ChannelAsync(BotFramework.TeamId, default));
    }

    [Fact]
    public async Task ThreadNoteIsAReplyToTheCardWithRealMentions()
    {
        await using var app = new TestApp(_bf.Settings());
        await _bf.SendAsync(app, _bf.BotAddedToTeam());
        var card = new ChatMessageRef("teams", BotFramework.ChannelId, "1001", BotFramework.ChannelId + ";messageid=1001");

        _bf.AddMember("29:1approver", BotFramework.ApproverAad, "Ana Alvarez", "ana@contoso.example");

        var result = await app.Service<TeamsChatAdapter>().PostNoteAsync(BotFramework.ChannelId, card,
            new ChatNote("Patch *approved* by [x](http://evil)", [BotFramework.ApproverAad]), default);

        Assert.Equal(ChatOutcome.Ok, result.Outcome);
        var post = Assert.Single(_bf.Connector.Requests, r => r.Method == "POST");
        Assert.Equal($"/v3/conversations/{BotFramework.ChannelId};messageid=1001/activities/1001", Uri.UnescapeDataString(post.Path));
        var body = JsonNode.Parse(post.Body)!;
        var text = body["text"]!.GetValue<string>();
        Assert.StartsWith(@"Patch \*approved\* by \[x\]\(http:\/\/evil\)", text, StringComparison.Ordinal);
        // The tag shows the name from the team roster, never the raw Entra id; the entity's text is the same
        // tag and `mentioned` names the person (learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/
        // channel-and-group-conversations, "Add mentions to your messages": mentioned.id takes the Entra object id or UPN).
        Assert.EndsWith("<at>Ana Alvarez</at>", text, StringComparison.Ordinal);
        Assert.DoesNotContain(BotFramework.ApproverAad, text, StringComparison.Ordinal);
        var mention = body["entities"]![0]!;
        Assert.Equal("mention", mention["type"]!.GetValue<string>());
        Assert.Equal("<at>Ana Alvarez</at>", mention["text"]!.GetValue<string>());
        Assert.Equal(BotFramework.ApproverAad, mention["mentioned"]!["id"]!.GetValue<string>());
        Assert.Equal("Ana Alvarez", mention["mentioned"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task PersonalChatIsRememberedAndUsedForDirectMessages()
    {
        await using var app = new TestApp(_bf.Settings());
        var adapter = app.Service<TeamsChatAdapter>();
        Assert.Equal(TeamsChatAdapter.NoPersonalChat, (await adapter.DirectMessageAsync(BotFramework.MemberAad, null, new ChatNote("hi"), default)).Error);
        var hello = _bf.Captured("invoke-adaptiveCard-action.teams-net-test.json");
        hello["type"] = "message";
        hello.Remove("name");
        hello.Remove("value");
        hello["text"] = "help";
        hello["serviceUrl"] = _bf.ServiceUrl;
        hello["from"]!["aadObjectId"] = BotFramework.MemberAad;
        await _bf.SendAsync(app, hello);

        var result = await adapter.DirectMessageAsync(BotFramework.MemberAad, null, new ChatNote("Approve the patch for CVE-2024-29069?"), default);

        Assert.Equal(ChatOutcome.Ok, result.Outcome);
        var personal = hello["conversation"]!["id"]!.GetValue<string>();
        Assert.Contains(_bf.Connector.Requests, r => r.Method == "POST" && Uri.UnescapeDataString(r.Path) == $"/v3/conversations/{personal}/activities"
            && r.Body.Contains("Approve the patch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DirectMessageToAPersonByEmailCreatesTheirPersonalChatThroughTheConnector()
    {
        await using var app = new TestApp(_bf.Settings());
        await _bf.SendAsync(app, _bf.BotAddedToTeam());
        _bf.AddMember("29:1ana", BotFramework.ApproverAad, "Ana Alvarez", "ana@contoso.example");
        var adapter = app.Service<TeamsChatAdapter>();

        var result = await adapter.DirectMessageAsync("ana@contoso.example", BotFramework.ChannelId, new ChatNote("You were assigned CVE-2099-1"), default);
        var again = await adapter.DirectMessageAsync("ana@contoso.example", BotFramework.ChannelId, new ChatNote("Reminder"), default);

        Assert.Equal(ChatOutcome.Ok, result.Outcome);
        Assert.Equal(ChatOutcome.Ok, again.Outcome);
        // TeamsInfo.getMember's call: GET /v3/conversations/{teamId}/members/{userId or UPN}.
        var lookup = Assert.Single(_bf.Connector.Requests, r => r.Method == "GET");
        Assert.Equal($"/v3/conversations/{BotFramework.TeamId}/members/ana@contoso.example", Uri.UnescapeDataString(lookup.Path));
        // Bot Framework REST "Create conversation": isGroup false, the person in members, the tenant in channelData.
        var create = Assert.Single(_bf.Connector.Requests, r => r.Method == "POST" && r.Path == "/v3/conversations");
        var body = JsonNode.Parse(create.Body)!;
        Assert.False(body["isGroup"]!.GetValue<bool>());
        Assert.Equal(BotFramework.ApproverAad, body["members"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(BotFramework.TenantId, body["channelData"]!["tenant"]!["id"]!.GetValue<string>());
        var sends = _bf.Connector.Requests.Where(r => r.Method == "POST" && r.Path.StartsWith("/v3/conversations/a%3Apersonal-", StringComparison.OrdinalIgnoreCase)
            || r.Path.StartsWith("/v3/conversations/a:personal-", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, sends.Length);
        Assert.Contains("You were assigned CVE-2099-1", sends[0].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThrottledConnectorPostIsReportedAsRetryLaterWithTheConnectorsRetryAfter()
    {
        await using var throttling = await FakeServer.StartAsync((web, server) => Microsoft.AspNetCore.Builder.RunExtensions.Run(web, async context =>
        {
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = "7";
            await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, "{}");
        }));
        await using var app = new TestApp(_bf.Settings(new() { ["Teams:AllowedServiceUrls:1"] = throttling.BaseUrl.TrimEnd('/') }));
        await _bf.SendAsync(app, _bf.BotAddedToTeam(serviceUrl: throttling.BaseUrl));

        var result = await app.Service<TeamsChatAdapter>().PostCardAsync(BotFramework.ChannelId,
            global::ChatOpsInspector.Cards.AlertCardBuilder.Build(AlertCardRendererTests.Group(), DateTimeOffset.UtcNow), default);

        Assert.Equal(ChatOutcome.RetryLater, result.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
    }
}
