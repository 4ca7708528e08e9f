using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Slack;

[Collection(SlackCollection.Name)]
public class SlackCommandTests(SlackApp slack)
{
    private static string Text(JsonObject? reply) => reply!["text"]!.GetValue<string>();

    private static bool IsEphemeral(JsonObject? reply) => reply!["response_type"]!.GetValue<string>() == "ephemeral";

    private static string[] ActionIds(JsonObject reply) => reply["blocks"]!.AsArray()
        .Where(b => b!["type"]!.GetValue<string>() == "actions")
        .SelectMany(b => b!["elements"]!.AsArray().Select(e => e!["action_id"]!.GetValue<string>())).ToArray();

    [Fact]
    public async Task HelpListsEverySubcommandPrivately()
    {
        var (response, reply, _) = await slack.CommandAsync("help");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(IsEphemeral(reply));
        foreach (var word in new[] { "NAME", "mine", "show", "sla", "stats", "coverage", "ack", "assign", "suppress", "patch", "--share" })
        {
            Assert.Contains(word, Text(reply), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("frobnicate everything")]
    [InlineData("show")]
    [InlineData("assign 3f9a1c2b7d bob")]
    [InlineData("suppress 3f9a1c2b7d forever because")]
    [InlineData("ack")]
    public async Task BadCommandsGetAPrivateUsageMessage(string text)
    {
        var (_, reply, _) = await slack.CommandAsync(text + " --share");

        Assert.True(IsEphemeral(reply));
        Assert.StartsWith(":warning:", Text(reply), StringComparison.Ordinal);
        Assert.Contains("Usage: /vulns", Text(reply), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlacksSampleSlashCommandBodyIsUnderstood()
    {
        var response = await slack.SendAsync("/api/slack/commands", Fixtures.Read("slack", "slash-command-weather.form.txt"), "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Contains("Application not found or not visible to you", Text(reply), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OwnerNameListsOpenAlertsWorstFirstWithButtons()
    {
        var high = SlackApp.NewCve();
        var critical = SlackApp.NewCve();
        await slack.IngestAsync(high, app: "shop", severity: "HIGH", score: 7.5);
        await slack.IngestAsync(critical, app: "shop");

        var (_, reply, _) = await slack.CommandAsync("shop");

        var json = reply!.ToJsonString();
        Assert.True(IsEphemeral(reply));
        Assert.True(json.IndexOf(critical, StringComparison.Ordinal) < json.IndexOf(high, StringComparison.Ordinal), "critical first");
        Assert.Contains($"ack:{GroupIds.For("shop", critical)}", ActionIds(reply));
        BlockKitLimits.AssertValid(reply["blocks"]!.AsArray());
    }

    [Fact]
    public async Task LongListsAreCappedAndSayHowManyMore()
    {
        var events = new JsonArray(Enumerable.Range(0, 12)
            .Select(_ => (JsonNode)FindingEvents.Ec2(Guid.NewGuid().ToString("n"), cve: SlackApp.NewCve(), tags: new() { ["app"] = "bulk" })).ToArray());
        Assert.Equal(HttpStatusCode.Accepted, (await slack.App.PostEventsAsync(events.ToJsonString())).StatusCode);

        var (_, reply, _) = await slack.CommandAsync("bulk");

        Assert.Contains("Showing the first 10", Text(reply), StringComparison.Ordinal);
        Assert.Matches(@"; \d+ more", Text(reply));
        Assert.Equal(10, reply!["blocks"]!.AsArray().Count(b => b!["type"]!.GetValue<string>() == "actions"));
        BlockKitLimits.AssertValid(reply["blocks"]!.AsArray());
    }

    [Fact]
    public async Task UnknownOwnerIsAnErrorThatNamesNoOtherOwner()
    {
        var (_, reply, _) = await slack.CommandAsync("no-such-app");
        Assert.Contains("Application not found or not visible to you", Text(reply), StringComparison.Ordinal);
        foreach (var owner in new[] { "payments", "bulk", "shop", "security" })
        {
            Assert.DoesNotContain(owner, Text(reply), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ShowFindsAnAlertByCveAndById()
    {
        var cve = SlackApp.NewCve();
        await slack.IngestAsync(cve, app: "shop");
        var id = GroupIds.For("shop", cve);

        var (_, byCve, _) = await slack.CommandAsync($"show {cve}");
        var (_, byId, _) = await slack.CommandAsync($"show {id}");

        Assert.Contains($"ack:{id}", ActionIds(byCve!));
        Assert.Contains($"ack:{id}", ActionIds(byId!));
    }

    [Fact]
    public async Task ShowOfAnUnknownAlertIsAPrivateError()
    {
        var (_, reply, _) = await slack.CommandAsync("show CVE-1999-0001 --share");
        Assert.True(IsEphemeral(reply));
        Assert.Contains("Alert not found or not visible to you", Text(reply), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AckCommandAcknowledgesAnswersViaResponseUrlAndUpdatesTheCard()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var (_, immediate, responseUrl) = await slack.CommandAsync($"ack {groupId}", "UCAROL0001");

        Assert.Contains("On it", Text(immediate), StringComparison.Ordinal);
        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.Contains("You acknowledged", Text(reply), StringComparison.Ordinal);
        await slack.UpdateContainingAsync(groupId, "Acknowledged by Name UCAROL0001");
    }

    [Fact]
    public async Task AssignedAlertsShowUpUnderMine()
    {
        var cve = SlackApp.NewCve();
        var (groupId, _) = await slack.PostedCardAsync(cve);

        var (_, _, assignUrl) = await slack.CommandAsync($"assign {groupId} <@UDAVE00001|dave>");
        Assert.Contains("Assigned", Text(await slack.Slack.ResponseAsync(assignUrl)), StringComparison.Ordinal);
        var (_, mine, _) = await slack.CommandAsync("mine", "UDAVE00001", "dave");
        var (_, notMine, _) = await slack.CommandAsync("mine", "UERIN00001", "erin");

        Assert.Contains(cve, mine!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("Nothing is assigned to you.", Text(notMine));
    }

    [Fact]
    public async Task SuppressCommandFromSomeoneWhoMayNotSuppressIsRefused()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var (_, _, responseUrl) = await slack.CommandAsync($"suppress {groupId} 30d accepted risk");

        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.True(IsEphemeral(reply));
        Assert.Contains("Only the suppressors of payments", Text(reply), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SuppressCommandFromASuppressorCreatesTheFilterAndSuppressesTheGroup()
    {
        var cve = SlackApp.NewCve();
        var (groupId, _) = await slack.PostedCardAsync(cve);

        var (_, _, responseUrl) = await slack.CommandAsync($"suppress {groupId} 30d accepted risk", SlackApp.SuppressorId, "suppressor");

        Assert.StartsWith($"Suppressed {cve} until", Text(await slack.Slack.ResponseAsync(responseUrl)), StringComparison.Ordinal);
        Assert.Single(slack.Aws.Server.Requests, r => r.Path == "/filters/create" && r.Body.Contains(cve, StringComparison.Ordinal));
        var group = await slack.App.Service<IAlertStore>().GetGroupAsync(groupId, default);
        Assert.Equal(GroupState.Suppressed, group!.Workflow.State);
        Assert.Equal("accepted risk", group.Workflow.Suppression!.Reason);
        Assert.Equal(SlackApp.SuppressorId, group.Workflow.Suppression.By.UserId);
    }

    [Fact]
    public async Task PatchCommandAsksForApprovalOfTheGroupsInstances()
    {
        var instance = "i-" + Guid.NewGuid().ToString("n")[..17];
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve(), instance: instance);

        var (_, _, responseUrl) = await slack.CommandAsync($"patch {groupId}");

        Assert.StartsWith("Patch requested for 1 instance(s)", Text(await slack.Slack.ResponseAsync(responseUrl)), StringComparison.Ordinal);
        var group = await slack.App.Service<IAlertStore>().GetGroupAsync(groupId, default);
        Assert.Equal(GroupState.PatchRequested, group!.Workflow.State);
        Assert.Equal([instance], group.Workflow.Patch!.InstanceIds);
        Assert.DoesNotContain(slack.Aws.Ssm("SendCommand"), r => r.Body.Contains(instance, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SlaListsAlertsPastTheirSla()
    {
        var cve = SlackApp.NewCve();
        await slack.IngestAsync(cve, app: "shop");

        var (_, reply, _) = await slack.CommandAsync("sla shop");

        Assert.Matches(@"shop: \d+ past SLA, \d+ due within 24 h", Text(reply));
        Assert.Contains(GroupIds.For("shop", cve), reply!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatsCountOpenAlertsBySeverityAndMeanTimes()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve(), app: "shop");
        var (_, _, ackUrl) = await slack.CommandAsync($"ack {groupId}");
        await slack.Slack.ResponseAsync(ackUrl);

        var (_, reply, _) = await slack.CommandAsync("stats shop");

        Assert.Matches(@"shop: \d+ open alerts? \(\d+ critical", Text(reply));
        Assert.Matches(@"Mean time to acknowledge: .+ \([1-9]\d* acknowledged\)", Text(reply));
        Assert.Contains("Mean time to fix:", Text(reply), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CoverageListsTheResourcesInspectorCannotScanForTheOwnerOnly()
    {
        var payments = "i-" + Guid.NewGuid().ToString("n")[..17];
        var shop = "i-" + Guid.NewGuid().ToString("n")[..17];
        slack.Aws.CoveredResources.Enqueue(Uncovered(payments, "payments"));
        slack.Aws.CoveredResources.Enqueue(Uncovered(shop, "shop"));

        var (_, immediate, responseUrl) = await slack.CommandAsync("coverage payments");

        Assert.Contains("On it", Text(immediate), StringComparison.Ordinal);
        var reply = Text(await slack.Slack.ResponseAsync(responseUrl));
        Assert.Contains(payments, reply, StringComparison.Ordinal);
        Assert.Contains("Not managed by SSM", reply, StringComparison.Ordinal);
        Assert.DoesNotContain("UNMANAGED_EC2_INSTANCE", reply, StringComparison.Ordinal);
        Assert.DoesNotContain(shop, reply, StringComparison.Ordinal);
        var request = JsonNode.Parse(slack.Aws.Server.Requests.Last(r => r.Path == "/coverage/list").Body)!;
        Assert.Equal("INACTIVE", request["filterCriteria"]!["scanStatusCode"]![0]!["value"]!.GetValue<string>());
    }

    private static object Uncovered(string instanceId, string app) => new Dictionary<string, object>
    {
        ["accountId"] = "123456789012",
        ["resourceId"] = instanceId,
        ["resourceType"] = "AWS_EC2_INSTANCE",
        ["scanType"] = "PACKAGE",
        ["scanStatus"] = new Dictionary<string, string> { ["statusCode"] = "INACTIVE", ["reason"] = "UNMANAGED_EC2_INSTANCE" },
        ["resourceMetadata"] = new Dictionary<string, object> { ["ec2"] = new Dictionary<string, object> { ["tags"] = new Dictionary<string, string> { ["app"] = app } } },
    };

    [Fact]
    public async Task ShareAnswersInTheOwnersChannel()
    {
        var (_, reply, _) = await slack.CommandAsync("stats payments --share");
        Assert.Equal("in_channel", reply!["response_type"]!.GetValue<string>());
    }

    /// <summary>--share in the payments channel cannot post the shop owner's alerts there, even for the security team.</summary>
    [Fact]
    public async Task ShareOfAnotherOwnersAlertsIsAnsweredPrivately()
    {
        var cve = SlackApp.NewCve();
        await slack.IngestAsync(cve, app: "shop");

        var (_, reply, _) = await slack.CommandAsync("shop --share");

        Assert.True(IsEphemeral(reply));
        Assert.Contains(cve, reply!.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("shared only in their owner's channels", Text(reply), StringComparison.Ordinal);
    }

    /// <summary>Someone neither in shop's channel nor among its people, nor on the security team, learns nothing of shop.</summary>
    [Fact]
    public async Task OwnersAlertsAreRefusedToOutsidersWithoutRevealingThem()
    {
        var cve = SlackApp.NewCve();
        await slack.IngestAsync(cve, app: "shop");

        var (_, byName, _) = await slack.CommandAsync("shop", userId: "UOUTSIDER1");
        var (_, byCve, _) = await slack.CommandAsync($"show {cve}", userId: "UOUTSIDER1");
        var (_, unknown, _) = await slack.CommandAsync("no-such-app", userId: "UOUTSIDER1");
        var (_, stats, _) = await slack.CommandAsync("stats", userId: "UOUTSIDER1");
        // The same question in shop's own channel is answered: only where it was asked differed.
        var (_, inChannel, _) = await slack.CommandAsync("shop", userId: "UOUTSIDER1", channel: "C0SHOP00001");

        Assert.Equal(Text(unknown), Text(byName));
        Assert.DoesNotContain(GroupIds.For("shop", cve), byCve!.ToJsonString(), StringComparison.Ordinal);
        Assert.StartsWith(":warning: Alert not found or not visible to you", Text(byCve), StringComparison.Ordinal);
        Assert.DoesNotContain("shop", Text(stats), StringComparison.Ordinal);
        Assert.Contains(cve, inChannel!.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>Ack from an unrelated channel by an outsider changes nothing; the group is checked against its owner.</summary>
    [Fact]
    public async Task OutsiderCannotAcknowledgeAnotherOwnersAlert()
    {
        var cve = SlackApp.NewCve();
        await slack.IngestAsync(cve, app: "shop");
        var groupId = GroupIds.For("shop", cve);

        var (_, _, url) = await slack.CommandAsync($"ack {groupId}", userId: "UOUTSIDER1");

        var reply = await slack.Slack.ResponseAsync(url, "answer to the ack");
        Assert.DoesNotContain("acknowledged", reply["text"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        var group = await slack.App.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(groupId, default);
        Assert.Null(group!.Workflow.AcknowledgedBy);
    }
}
