using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Slack;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Tests.Sla;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>
/// <c>/vulns report</c>: a private answer with the month's figures, and its chart uploaded through Slack's
/// external upload API. The three calls follow Slack's reference:
/// https://docs.slack.dev/reference/methods/files.getUploadURLExternal (filename and length, form-encoded;
/// answers upload_url and file_id; the bytes are then POSTed to upload_url, raw or multipart) and
/// https://docs.slack.dev/reference/methods/files.completeUploadExternal (files: [{id, title}], channel_id,
/// thread_ts; without channel_id the file stays private to the uploader). A file cannot be shared
/// ephemerally (slackapi/node-slack-sdk#1790), so a private answer's chart goes to the asker's direct
/// messages with the bot (conversations.open, https://docs.slack.dev/reference/methods/conversations.open).
/// </summary>
[Collection(SlackCollection.Name)]
public class SlackReportTests(SlackApp slack)
{
    private static int _owner;

    private static string NewOwner() => "ledger" + Interlocked.Increment(ref _owner);

    private static string Text(JsonObject reply) => reply["text"]!.GetValue<string>();

    [Fact]
    public async Task ReportIsAnsweredPrivatelyAndItsChartGoesToTheAskersDirectMessages()
    {
        var owner = NewOwner();
        await ComplianceSeed.NovemberAsync(slack.App, owner, NewOwner());

        var (response, immediate, responseUrl) = await slack.CommandAsync($"report {owner} 2026-11", userId: "UALICE0001");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ephemeral", immediate!["response_type"]!.GetValue<string>());
        var reply = await slack.Slack.ResponseAsync(responseUrl, "the report");
        Assert.Equal("ephemeral", reply["response_type"]!.GetValue<string>());
        var text = Text(reply);
        // ComplianceSeed.NovemberAsync: a met, b fixed late, c open past due (CRITICAL); d met (HIGH, two findings).
        Assert.Contains($"SLA compliance, {owner}, 2026-11 (UTC): 4 alerts (5 findings), SLA met 50 % (2 of 4), 1 open past due, 0 not yet due, 0 suppressed; "
            + "TTA mean 2 h 0 min, p90 3 h 0 min; TTF mean 28 h 0 min, p90 2 d.", text, StringComparison.Ordinal);
        Assert.Contains($"• {owner} CRITICAL: 3 alerts (3 findings), SLA met 33.3 % (1 of 3), 1 open past due", text, StringComparison.Ordinal);
        Assert.Contains($"• {owner} HIGH: 1 alert (2 findings), SLA met 100 % (1 of 1)", text, StringComparison.Ordinal);
        Assert.Contains("direct messages", text, StringComparison.Ordinal);
        BlockKitLimits.AssertValid(reply["blocks"]!.AsArray());

        var complete = await CompletedUploadAsync(f => f["channel_id"]?.GetValue<string>() == "DUALICE0001");
        Assert.Null(complete["thread_ts"]);
        var fileId = complete["files"]![0]!["id"]!.GetValue<string>();
        Assert.Contains(owner, complete["files"]![0]!["title"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(slack.Slack.Calls("conversations.open"), c => c["users"]?.GetValue<string>() == "UALICE0001");

        // Step 1 named the file and its exact length; step 2 carried exactly those bytes, a PNG of the chart's size.
        var ticket = slack.Slack.Raw("files.getUploadURLExternal").Select(r => Form(r.Body)).Single(f => f["length"] == slack.Slack.Uploads[fileId].Length.ToString(System.Globalization.CultureInfo.InvariantCulture) && f["filename"] == "sla-2026-11.png" && f["alt_txt"].Contains(owner, StringComparison.Ordinal));
        Assert.Contains("CRITICAL 33.3 % (1 of 3)", ticket["alt_txt"], StringComparison.Ordinal);
        Assert.Equal((800, 400), PngImage.Size(slack.Slack.Uploads[fileId]));
        // The upload_url is pre-signed: the bot token does not travel with the bytes.
        var upload = slack.Slack.Server.To("/upload/" + fileId).Single();
        Assert.False(upload.Headers.ContainsKey("Authorization"));
        Assert.Equal("Bearer xoxb-test-token", slack.Slack.Raw("files.getUploadURLExternal")[0].Headers["Authorization"]);
        // In order: ticket, bytes, completion.
        var order = slack.Slack.Server.Requests.Select(r => r.Path).ToList();
        Assert.True(order.FindLastIndex(p => p == "/files.getUploadURLExternal") < order.IndexOf("/upload/" + fileId));
        Assert.True(order.IndexOf("/upload/" + fileId) < order.FindLastIndex(p => p == "/files.completeUploadExternal"));
    }

    [Fact]
    public async Task SharedInTheOwnersChannelTheChartIsUploadedThere()
    {
        await ComplianceSeed.GroupAsync(slack.App, "payments", SlackApp.NewCve(), Severity.Critical, "2026-10-05T00:00:00Z", "2026-10-06T00:00:00Z",
            closed: "2026-10-05T06:00:00Z");

        var (_, _, responseUrl) = await slack.CommandAsync("report payments 2026-10 --share", channel: SlackApp.PaymentsChannel);

        var reply = await slack.Slack.ResponseAsync(responseUrl, "the shared report");
        Assert.Equal("in_channel", reply["response_type"]!.GetValue<string>());
        var complete = await CompletedUploadAsync(f => f["channel_id"]?.GetValue<string>() == SlackApp.PaymentsChannel);
        var fileId = complete["files"]![0]!["id"]!.GetValue<string>();
        Assert.Equal((800, 400), PngImage.Size(slack.Slack.Uploads[fileId]));
    }

    // Someone who is none of the owner's people, asking outside its channels, learns nothing: the answer is the
    // one for an owner that does not exist, and no chart is made or sent.
    [Fact]
    public async Task ReportOfAnOwnerThePersonMayNotSeeIsRefusedLikeAnUnknownOne()
    {
        var owner = NewOwner();
        await ComplianceSeed.NovemberAsync(slack.App, owner, NewOwner());
        const string stranger = "UMALLORY01";

        var (_, _, hidden) = await slack.CommandAsync($"report {owner} 2026-11", userId: stranger, userName: "mallory", channel: "C0ELSEWHERE");
        var (_, _, unknown) = await slack.CommandAsync("report nosuchapp 2026-11", userId: stranger, userName: "mallory", channel: "C0ELSEWHERE");

        var refusal = Text(await slack.Slack.ResponseAsync(hidden, "the refusal"));
        // Byte for byte the answer for an owner that does not exist: it echoes nothing the person typed.
        Assert.Equal(Text(await slack.Slack.ResponseAsync(unknown, "the unknown-owner answer")), refusal);
        Assert.Contains("Application not found or not visible to you", refusal, StringComparison.Ordinal);
        Assert.DoesNotContain(owner, refusal, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SLA met", refusal, StringComparison.Ordinal);
        Assert.DoesNotContain(slack.Slack.Calls("conversations.open"), c => c["users"]?.GetValue<string>() == stranger);
        // The same person may still ask about what they may see: there, nothing of that owner's.
        var (_, _, all) = await slack.CommandAsync("report 2026-11", userId: stranger, userName: "mallory", channel: "C0ELSEWHERE");
        Assert.DoesNotContain(owner, Text(await slack.Slack.ResponseAsync(all, "the report of what mallory may see")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("report 2026-13", "`2026-13` is not a month")]
    [InlineData("report payments 2026-11 extra", "Unexpected `extra`")]
    public async Task BadReportArgumentsGetAPrivateUsage(string command, string error)
    {
        var (_, reply, _) = await slack.CommandAsync(command);

        Assert.Equal("ephemeral", reply!["response_type"]!.GetValue<string>());
        Assert.Contains(error, Text(reply), StringComparison.Ordinal);
        Assert.Contains("report [NAME] [YYYY-MM]", Text(reply), StringComparison.Ordinal);
    }

    // Time to acknowledge runs from the card: the dispatcher keeps when it posted it.
    [Fact]
    public async Task APostedCardRemembersWhenItWasPosted()
    {
        var before = DateTimeOffset.UtcNow;
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var card = (await slack.App.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(groupId, default))!.Cards["slack"];

        Assert.NotNull(card.PostedAt);
        Assert.InRange(card.PostedAt!.Value, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    // An upload_url is followed only to Slack's file host or the configured API host, https unless loopback.
    [Theory]
    [InlineData("https://files.slack.com/upload/v1/CwABAAAAXgoAAZ", true)]
    [InlineData("http://files.slack.com/upload/v1/CwABAAAAXgoAAZ", false)]
    [InlineData("https://files.slack.com.evil.example/upload/v1/x", false)]
    [InlineData("https://user:pw@files.slack.com/upload/v1/x", false)]
    [InlineData("https://evil.example/upload/v1/x", false)]
    public void UploadUrlsOutsideSlacksHostsAreRefused(string url, bool allowed)
    {
        Assert.Equal(allowed, slack.App.Service<SlackApiClient>().IsAllowedUploadUrl(url, out _));
        Assert.True(slack.App.Service<SlackApiClient>().IsAllowedUploadUrl(slack.Slack.BaseUrl + "upload/F1", out _), "the fake (Slack:ApiBaseUrl)");
    }

    private async Task<JsonObject> CompletedUploadAsync(Func<JsonObject, bool> match)
    {
        JsonObject? found = null;
        await TestApp.Eventually(() =>
        {
            found = slack.Slack.Calls("files.completeUploadExternal").FirstOrDefault(match);
            return Task.FromResult(found is not null);
        }, "files.completeUploadExternal");
        return found!;
    }

    private static Dictionary<string, string> Form(string body) => body.Split('&', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => p.Split('=', 2))
        .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')));
}
