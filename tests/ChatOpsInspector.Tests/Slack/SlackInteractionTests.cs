using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Slack;

[Collection(SlackCollection.Name)]
public class SlackInteractionTests(SlackApp slack)
{
    private const string Alice = "UALICE0001";

    private static string Metadata(string groupId, string responseUrl) =>
        new JsonObject { ["g"] = groupId, ["c"] = SlackApp.PaymentsChannel, ["r"] = responseUrl }.ToJsonString();

    private static JsonObject SuppressValues(string? reason = "compensating control: WAF rule 42", string days = "30", string? date = null) => new()
    {
        ["reason"] = new JsonObject { ["reason"] = new JsonObject { ["type"] = "plain_text_input", ["value"] = reason } },
        ["expiry"] = new JsonObject { ["expiry"] = new JsonObject { ["type"] = "static_select", ["selected_option"] = new JsonObject { ["value"] = days } } },
        ["until"] = new JsonObject { ["until"] = new JsonObject { ["type"] = "datepicker", ["selected_date"] = date } },
    };

    private JsonObject? ViewOpenedWith(string triggerId) =>
        slack.Slack.Calls("views.open").FirstOrDefault(v => v["trigger_id"]!.GetValue<string>() == triggerId);

    [Fact]
    public async Task AcknowledgeUpdatesTheCardInPlaceAndAnswersTheClickerPrivately()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var (response, responseUrl, _) = await slack.ClickAsync($"ack:{groupId}", groupId, Alice);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.Equal("ephemeral", reply["response_type"]!.GetValue<string>());
        Assert.False(reply["replace_original"]!.GetValue<bool>());
        Assert.Contains("You acknowledged", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var update = await slack.UpdateContainingAsync(groupId, "Acknowledged by Name " + Alice);
        var card = (await slack.App.Service<IAlertStore>().GetGroupAsync(groupId, default))!.Cards["slack"];
        Assert.Equal(card.MessageId, update["ts"]!.GetValue<string>());
        Assert.Equal(SlackApp.PaymentsChannel, update["channel"]!.GetValue<string>());
    }

    [Fact]
    public async Task SecondAcknowledgeIsToldWhoGotThereFirst()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());
        var (_, first, _) = await slack.ClickAsync($"ack:{groupId}", groupId, Alice);
        await slack.Slack.ResponseAsync(first);

        var (_, second, _) = await slack.ClickAsync($"ack:{groupId}", groupId, "UBOB000001");

        var reply = await slack.Slack.ResponseAsync(second);
        Assert.Contains("Already acknowledged by Name " + Alice, reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetriedClickIsAcknowledgedWithoutRunningItTwice()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());
        var (_, responseUrl, triggerId) = await slack.ClickAsync($"ack:{groupId}", groupId, Alice);
        await slack.Slack.ResponseAsync(responseUrl);

        var (retry, _, _) = await slack.ClickAsync($"ack:{groupId}", groupId, Alice, triggerId: triggerId, responseUrl: responseUrl,
            tweak: r => r.Headers.Add("X-Slack-Retry-Num", "1"));
        var (_, barrier, _) = await slack.ClickAsync($"ack:{groupId}", groupId, "UBOB000001");
        await slack.Slack.ResponseAsync(barrier);

        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Single(slack.Slack.Responses(responseUrl));
        var audit = await slack.App.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 100_000, default);
        Assert.Single(audit, a => a.GroupId == groupId && a.Action == "acknowledged");
    }

    [Fact]
    public async Task AssignOpensADialogWithAPersonPicker()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var (response, _, triggerId) = await slack.ClickAsync($"assign:{groupId}", groupId, Alice);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var view = ViewOpenedWith(triggerId)?["view"];
        Assert.NotNull(view);
        Assert.Equal("coi_assign", view!["callback_id"]!.GetValue<string>());
        Assert.Contains("users_select", view.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(groupId, view["private_metadata"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DialogThatSlackIsTooSlowToOpenIsExplainedInsteadOfHanging()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());
        slack.Slack.Delays["views.open"] = TimeSpan.FromSeconds(5);
        try
        {
            var (response, responseUrl, _) = await slack.ClickAsync($"assign:{groupId}", groupId, Alice);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var reply = await slack.Slack.ResponseAsync(responseUrl);
            Assert.Contains("too slow to open the dialog", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        finally
        {
            slack.Slack.Delays.TryRemove("views.open", out _);
        }
    }

    [Fact]
    public async Task AssignDialogAssignsThePickedPersonAndUpdatesTheCard()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());
        var responseUrl = slack.Slack.NewResponseUrl();
        var values = new JsonObject { ["assignee"] = new JsonObject { ["assignee"] = new JsonObject { ["type"] = "users_select", ["selected_user"] = "UBOB000001" } } };

        var response = await slack.SubmitAsync("coi_assign", Metadata(groupId, responseUrl), values, Alice);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.Contains("Assigned", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
        await slack.UpdateContainingAsync(groupId, "Assigned to Name UBOB000001");
    }

    [Fact]
    public async Task AssignDialogWithoutAPersonIsAFieldError()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());
        var values = new JsonObject { ["assignee"] = new JsonObject { ["assignee"] = new JsonObject { ["type"] = "users_select" } } };

        var response = await slack.SubmitAsync("coi_assign", Metadata(groupId, slack.Slack.NewResponseUrl()), values, Alice);

        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("errors", json["response_action"]!.GetValue<string>());
        Assert.NotNull(json["errors"]!["assignee"]);
    }

    [Fact]
    public async Task SuppressFromSomeoneWhoMayNotSuppressIsExplainedInsteadOfADialog()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var (_, responseUrl, triggerId) = await slack.ClickAsync($"suppress:{groupId}", groupId, Alice);

        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.Contains("Only the suppressors of payments", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(ViewOpenedWith(triggerId));
    }

    [Fact]
    public async Task SuppressFromASuppressorNamedByEmailOpensTheDialog()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var (_, _, triggerId) = await slack.ClickAsync($"suppress:{groupId}", groupId, SlackApp.SuppressorId);

        var view = ViewOpenedWith(triggerId)?["view"];
        Assert.NotNull(view);
        Assert.Equal("coi_suppress", view!["callback_id"]!.GetValue<string>());
        var json = view.ToJsonString();
        Assert.Contains("plain_text_input", json, StringComparison.Ordinal);
        Assert.Contains("static_select", json, StringComparison.Ordinal);
        Assert.Contains("datepicker", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SuppressDialogWithAPastDateIsAnsweredWithFieldErrors()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var response = await slack.SubmitAsync("coi_suppress", Metadata(groupId, slack.Slack.NewResponseUrl()), SuppressValues(date: "2020-01-01"), SlackApp.SuppressorId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("application/json", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("errors", json["response_action"]!.GetValue<string>());
        Assert.Equal("Pick a date after today.", json["errors"]!["until"]!.GetValue<string>());
    }

    [Fact]
    public async Task SuppressDialogWithoutAReasonIsAnsweredWithFieldErrors()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var response = await slack.SubmitAsync("coi_suppress", Metadata(groupId, slack.Slack.NewResponseUrl()), SuppressValues(reason: "  "), SlackApp.SuppressorId);

        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.NotNull(json["errors"]!["reason"]);
    }

    [Fact]
    public async Task ValidSuppressDialogIsHandedToTheWorkflowAndAnswered()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());
        var responseUrl = slack.Slack.NewResponseUrl();

        var response = await slack.SubmitAsync("coi_suppress", Metadata(groupId, responseUrl), SuppressValues(days: "7"), SlackApp.SuppressorId);

        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.False(string.IsNullOrWhiteSpace(reply["text"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ApproveFromSomeoneWhoIsNotAnApproverIsRefused()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());
        var (_, patchUrl, _) = await slack.ClickAsync($"patch:{groupId}", groupId, Alice);
        await slack.Slack.ResponseAsync(patchUrl);

        var (_, responseUrl, _) = await slack.ClickAsync($"approve:{groupId}", $"{groupId}:pr-1", Alice);

        // Refused whether or not a request is pending: Alice is not an approver of payments.
        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.StartsWith(":no_entry:", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var triage = slack.App.Service<TriageService>();
        var route = slack.App.Service<FindingRouter>().FindOwner("payments")!;
        Assert.False(triage.IsAllowed(CardAction.ApprovePatch, new Actor("slack", Alice, "alice"), route));
        Assert.True(triage.IsAllowed(CardAction.ApprovePatch, new Actor("slack", SlackApp.ApproverId, "approver"), route));
    }

    [Theory]
    [InlineData("patch")]
    [InlineData("reject")]
    [InlineData("unsuppress")]
    [InlineData("isolate")]
    public async Task EveryOtherButtonReachesTheWorkflowAndIsAnswered(string action)
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var (response, responseUrl, _) = await slack.ClickAsync($"{action}:{groupId}", groupId, SlackApp.ApproverId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.False(string.IsNullOrWhiteSpace(reply["text"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ButtonForAnUnknownAlertIsExplained()
    {
        var (_, responseUrl, _) = await slack.ClickAsync("ack:ffffffffff", "ffffffffff", Alice);
        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.Contains("No alert group", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForeignButtonFromSlacksSampleIsAcknowledgedAndIgnored()
    {
        var body = SlackSigner.Form(("payload", Fixtures.Read("slack", "block-actions-message.json")));
        var before = slack.Slack.Server.Requests.Count;

        var response = await slack.SendAsync("/api/slack/interactions", body, "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(before, slack.Slack.Server.Requests.Count);
    }

    [Fact]
    public async Task MalformedPayloadIsABadRequest()
    {
        var response = await slack.SendAsync("/api/slack/interactions", SlackSigner.Form(("payload", "[1,2")), "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
