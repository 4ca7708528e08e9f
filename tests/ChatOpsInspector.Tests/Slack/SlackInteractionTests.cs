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
    public async Task ValidSuppressDialogCreatesTheInspectorFilterAndSuppressesTheGroup()
    {
        var cve = SlackApp.NewCve();
        var (groupId, _) = await slack.PostedCardAsync(cve);
        var responseUrl = slack.Slack.NewResponseUrl();
        var before = DateTimeOffset.UtcNow;

        var response = await slack.SubmitAsync("coi_suppress", Metadata(groupId, responseUrl), SuppressValues(days: "7"), SlackApp.SuppressorId);

        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.StartsWith(":white_check_mark:", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var filter = JsonNode.Parse(FilterCreatedFor(cve).Body)!;
        Assert.Equal("SUPPRESS", filter["action"]!.GetValue<string>());
        var group = await GroupAsync(groupId);
        Assert.Equal(GroupState.Suppressed, group.Workflow.State);
        Assert.Equal("compensating control: WAF rule 42", group.Workflow.Suppression!.Reason);
        Assert.InRange(group.Workflow.Suppression.ExpiresAt, before.AddDays(7), DateTimeOffset.UtcNow.AddDays(7));
        Assert.StartsWith("arn:aws:inspector2:", group.Workflow.Suppression.FilterArn, StringComparison.Ordinal);
        var audit = await AuditAsync(groupId);
        Assert.Contains(audit, a => a.Action == "suppression_filter_created" && a.ActorId == SlackApp.SuppressorId);
        await slack.UpdateContainingAsync(groupId, "Suppressed");
    }

    [Fact]
    public async Task ApproveFromSomeoneWhoIsNotAnApproverIsRefusedWhileARequestIsPending()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());
        var (_, patchUrl, _) = await slack.ClickAsync($"patch:{groupId}", groupId, Alice);
        Assert.StartsWith(":white_check_mark:", (await slack.Slack.ResponseAsync(patchUrl))["text"]!.GetValue<string>(), StringComparison.Ordinal);
        await TestApp.Eventually(async () => (await GroupAsync(groupId)).Workflow.Patch is { Checking: false }, "SSM checked from the queue");
        var pending = (await GroupAsync(groupId)).Workflow;
        Assert.Equal(GroupState.PatchRequested, pending.State);

        var (_, responseUrl, _) = await slack.ClickAsync($"approve:{groupId}", $"{groupId}:{pending.Patch!.Id}", Alice);

        var reply = (await slack.Slack.ResponseAsync(responseUrl))["text"]!.GetValue<string>();
        Assert.StartsWith(":no_entry:", reply, StringComparison.Ordinal);
        Assert.Contains("approver", reply, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(GroupState.PatchRequested, (await GroupAsync(groupId)).Workflow.State);
        Assert.DoesNotContain(slack.Aws.Ssm("SendCommand"), r => r.Body.Contains(pending.Patch.InstanceIds[0], StringComparison.Ordinal));

        // The same click from an approver goes through: the request was pending, only the person was wrong.
        var (_, approvedUrl, _) = await slack.ClickAsync($"approve:{groupId}", $"{groupId}:{pending.Patch.Id}", SlackApp.ApproverId);
        Assert.StartsWith(":white_check_mark:", (await slack.Slack.ResponseAsync(approvedUrl))["text"]!.GetValue<string>(), StringComparison.Ordinal);
        await TestApp.Eventually(() => Task.FromResult(slack.Aws.Ssm("SendCommand").Any(r => r.Body.Contains(pending.Patch.InstanceIds[0], StringComparison.Ordinal))), "queued start sent the command");
        Assert.Single(slack.Aws.Ssm("SendCommand"), r => r.Body.Contains(pending.Patch.InstanceIds[0], StringComparison.Ordinal));
    }

    [Fact]
    public async Task PatchButtonChecksSsmAndAsksForApproval()
    {
        var instance = "i-" + Guid.NewGuid().ToString("n")[..17];
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve(), instance: instance);

        var (response, responseUrl, _) = await slack.ClickAsync($"patch:{groupId}", groupId, Alice);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(":white_check_mark:", (await slack.Slack.ResponseAsync(responseUrl))["text"]!.GetValue<string>(), StringComparison.Ordinal);
        // SSM is asked from the remediation queue, not inside the interaction.
        await TestApp.Eventually(async () => (await GroupAsync(groupId)).Workflow.Patch is { Checking: false }, "SSM checked from the queue");
        Assert.Contains(slack.Aws.Ssm("DescribeInstanceInformation"), r => r.Body.Contains(instance, StringComparison.Ordinal));
        var wf = (await GroupAsync(groupId)).Workflow;
        Assert.Equal(GroupState.PatchRequested, wf.State);
        Assert.Equal([instance], wf.Patch!.InstanceIds);
        Assert.Equal(Alice, wf.Patch.RequestedBy.UserId);
        Assert.Contains(await AuditAsync(groupId), a => a.Action == "patch_requested" && a.ActorId == Alice);
        Assert.DoesNotContain(slack.Aws.Ssm("SendCommand"), r => r.Body.Contains(instance, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RejectButtonReturnsTheGroupToWhereItWasWithoutPatching()
    {
        var instance = "i-" + Guid.NewGuid().ToString("n")[..17];
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve(), instance: instance);
        var (_, patchUrl, _) = await slack.ClickAsync($"patch:{groupId}", groupId, Alice);
        await slack.Slack.ResponseAsync(patchUrl);
        var requestId = (await GroupAsync(groupId)).Workflow.Patch!.Id;

        var (_, responseUrl, _) = await slack.ClickAsync($"reject:{groupId}", $"{groupId}:{requestId}", SlackApp.ApproverId);

        Assert.StartsWith(":white_check_mark:", (await slack.Slack.ResponseAsync(responseUrl))["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var wf = (await GroupAsync(groupId)).Workflow;
        Assert.Equal(GroupState.New, wf.State);
        Assert.False(wf.Patch!.Approved);
        Assert.Contains(await AuditAsync(groupId), a => a.Action == "patch_rejected" && a.ActorId == SlackApp.ApproverId);
        Assert.DoesNotContain(slack.Aws.Ssm("SendCommand"), r => r.Body.Contains(instance, StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnsuppressButtonDeletesTheInspectorFilterAndReopensTheGroup()
    {
        var cve = SlackApp.NewCve();
        var (groupId, _) = await slack.PostedCardAsync(cve);
        var suppressUrl = slack.Slack.NewResponseUrl();
        await slack.SubmitAsync("coi_suppress", Metadata(groupId, suppressUrl), SuppressValues(days: "30"), SlackApp.SuppressorId);
        await slack.Slack.ResponseAsync(suppressUrl);
        var filterArn = (await GroupAsync(groupId)).Workflow.Suppression!.FilterArn!;

        var (_, responseUrl, _) = await slack.ClickAsync($"unsuppress:{groupId}", groupId, SlackApp.SuppressorId);

        Assert.StartsWith(":white_check_mark:", (await slack.Slack.ResponseAsync(responseUrl))["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(GroupState.New, (await GroupAsync(groupId)).Workflow.State);
        await TestApp.Eventually(() => Task.FromResult(slack.Aws.Server.Requests.Any(r => r.Path == "/filters/delete" && r.Body.Contains(filterArn, StringComparison.Ordinal))),
            $"DeleteFilter of {filterArn}");
        var audit = await AuditAsync(groupId);
        Assert.Contains(audit, a => a.Action == "unsuppressed" && a.ActorId == SlackApp.SuppressorId);
        await TestApp.Eventually(async () => (await AuditAsync(groupId)).Any(a => a.Action == "suppression_filter_deleted"), "filter deletion audited");
    }

    [Fact]
    public async Task IsolateButtonIsRefusedBecauseNoIsolationRunbookIsConfigured()
    {
        // Everything else that isolation needs holds: a critical finding scored 9.8 on an online, SSM-managed instance.
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var (_, responseUrl, _) = await slack.ClickAsync($"isolate:{groupId}", groupId, SlackApp.ApproverId);

        var reply = (await slack.Slack.ResponseAsync(responseUrl))["text"]!.GetValue<string>();
        Assert.StartsWith(":no_entry:", reply, StringComparison.Ordinal);
        Assert.Contains("Remediation:IsolationDocument", reply, StringComparison.Ordinal);
        Assert.Equal(GroupState.New, (await GroupAsync(groupId)).Workflow.State);
    }

    private RecordedRequest FilterCreatedFor(string cve) =>
        Assert.Single(slack.Aws.Server.Requests, r => r.Path == "/filters/create" && r.Body.Contains(cve, StringComparison.Ordinal));

    private async Task<ChatOpsInspector.Alerts.AlertGroup> GroupAsync(string groupId) =>
        await slack.App.Service<IAlertStore>().GetGroupAsync(groupId, default) ?? throw new InvalidOperationException($"no group {groupId}");

    private async Task<AuditRecord[]> AuditAsync(string groupId) =>
        (await slack.App.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 10_000, default))
            .Where(a => a.GroupId == groupId).ToArray();

    [Fact]
    public async Task ButtonForAnUnknownAlertIsExplained()
    {
        var (_, responseUrl, _) = await slack.ClickAsync("ack:ffffffffff", "ffffffffff", Alice);
        var reply = await slack.Slack.ResponseAsync(responseUrl);
        Assert.Contains("Alert not found or not visible to you", reply["text"]!.GetValue<string>(), StringComparison.Ordinal);
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
