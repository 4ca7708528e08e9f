using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.EndToEnd;

/// <summary>
/// What an auditor gets for one vulnerability, driven only through the bot's real HTTP APIs: ingest,
/// the Slack card, acknowledge, a patch requested and approved by two people and run by SSM, and
/// Inspector's rescan closing the finding; a second group suppressed and then expired. Every record
/// names its findings and resources, the acting person's platform identity, and the controls it
/// evidences; the chain verifies.
/// </summary>
public sealed class AuditLifecycleTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private SlackRig _rig = null!;

    public async Task InitializeAsync() => _rig = await SlackRig.StartAsync(redis);

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    private async Task<(string GroupId, JsonObject Card)> IngestAsync(string findingId, string cve, DateTimeOffset updatedAt, string status = "ACTIVE")
    {
        var evt = FindingEvents.Ec2(findingId: findingId, cve: cve, instanceId: SlackRig.Instance, updatedAt: updatedAt, status: status,
            tags: new Dictionary<string, string> { ["app"] = SlackRig.Owner });
        Assert.Equal(HttpStatusCode.Accepted, (await _rig.App.PostEventsAsync(evt.ToJsonString())).StatusCode);
        var groupId = GroupIds.For(SlackRig.Owner, cve);
        if (status != "ACTIVE")
        {
            return (groupId, null!);
        }
        string? ts = null;
        await TestApp.Eventually(async () =>
        {
            var group = await _rig.App.Service<IAlertStore>().GetGroupAsync(groupId, default);
            ts = group?.Cards.TryGetValue("slack", out var card) == true ? card.MessageId : null;
            return ts is not null;
        }, $"card of {cve} posted");
        var posted = _rig.Slack.Calls("chat.postMessage").Single(c => c["thread_ts"] is null && c.ToJsonString().Contains(cve, StringComparison.Ordinal));
        posted["ts"] = ts;
        return (groupId, posted);
    }

    private async Task<JsonObject[]> ExportAsync(string groupId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/audit?format=json");
        request.Headers.Add("X-Api-Key", TestApp.AuditKey);
        var response = await _rig.App.Client().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(e => e!.AsObject())
            .Where(e => e["record"]!["groupId"]?.GetValue<string>() == groupId)];
    }

    private async Task<JsonObject[]> EventuallyExportAsync(string groupId, string action)
    {
        JsonObject[] records = [];
        await TestApp.Eventually(async () => (records = await ExportAsync(groupId)).Any(r => Action(r) == action), $"audit record {action}");
        return records;
    }

    private static string Action(JsonObject e) => e["record"]!["action"]!.GetValue<string>();

    private static string[] Strings(JsonNode? node) => node is JsonArray a ? [.. a.Select(v => v!.GetValue<string>())] : [];

    private static void AssertControls(JsonObject e)
    {
        var type = AuditControls.TypeOf(Action(e));
        Assert.NotNull(type);
        Assert.Equal(type.Kind, e["kind"]!.GetValue<string>());
        Assert.Equal(type.Controls.Select(c => c.Label), Strings(e["controls"]));
    }

    [Fact]
    public async Task AGroupFromDetectionToVerifiedFixAndASuppressionThatExpiresLeaveEveryRecordAnAuditorNeeds()
    {
        var cve = "CVE-2099-73001";
        var findingId = Guid.NewGuid().ToString("n");
        var arn = FindingEvents.Arn(findingId);
        var (groupId, card) = await IngestAsync(findingId, cve, DateTimeOffset.UtcNow.AddMinutes(-10));
        var ts = card["ts"]!.GetValue<string>();

        await _rig.ReplyTextAsync(await _rig.PressAsync(card, "ack", SlackRig.Developer), "acknowledged");
        await _rig.ReplyTextAsync(await _rig.PressAsync(card, "patch", SlackRig.Developer), "patch requested");
        var approvable = await _rig.CardUpdateAsync(ts, u => SlackRig.Button(u, "approve") is not null, "card asks for approval");
        _rig.Aws.InvocationStatus[SlackRig.Instance] = "Success";
        await _rig.ReplyTextAsync(await _rig.PressAsync(approvable, "approve", SlackRig.Approver), "approved");
        // The approval queues the start; the remediation worker sends the command soon after.
        await TestApp.Eventually(() => Task.FromResult(_rig.Aws.Ssm("SendCommand").Any()), "the queued start sent the command");
        Assert.Single(_rig.Aws.Ssm("SendCommand"));
        await EventuallyExportAsync(groupId, "patch_finished");

        // Inspector's rescan: the same finding, CLOSED.
        var closedAt = DateTimeOffset.UtcNow.AddSeconds(-1);
        await IngestAsync(findingId, cve, closedAt, status: "CLOSED");
        var records = await EventuallyExportAsync(groupId, "verified_fixed");

        Assert.Equal(["detected", "alerted", "acknowledged", "patch_requested", "patch_checked", "patch_approved", "patch_command_sent", "patch_finished", "received", "verified_fixed"],
            records.Select(Action));
        Assert.All(records, AssertControls);
        Assert.All(records, e =>
        {
            var r = e["record"]!;
            Assert.Equal(SlackRig.Owner, r["owner"]!.GetValue<string>());
            Assert.Equal(cve, r["vulnerabilityId"]!.GetValue<string>());
            Assert.Equal("CRITICAL", r["severity"]!.GetValue<string>());
            Assert.Equal([arn], Strings(r["findingArns"]));
            Assert.Equal([SlackRig.Instance], Strings(r["resourceIds"]));
            Assert.Equal(["123456789012"], Strings(r["accountIds"]));
            Assert.Equal(["eu-central-1"], Strings(r["regions"]));
            Assert.NotNull(r["slaDueAt"]);
            Assert.Matches("^[0-9a-f]{64}$", e["hash"]!.GetValue<string>());
        });
        var by = records.ToDictionary(Action, e => e["record"]!);
        Assert.NotNull(by["detected"]["detectedAt"]);
        Assert.Equal("slack", by["alerted"]["actorPlatform"]!.GetValue<string>());
        Assert.Equal(SlackRig.Channel, by["alerted"]["channel"]!.GetValue<string>());
        Assert.Equal(ts, by["alerted"]["messageId"]!.GetValue<string>());
        foreach (var (action, who) in new[] { ("acknowledged", SlackRig.Developer), ("patch_requested", SlackRig.Developer), ("patch_approved", SlackRig.Approver) })
        {
            Assert.Equal("slack", by[action]["actorPlatform"]!.GetValue<string>());
            Assert.Equal("T9TK3CUKW", by[action]["actorWorkspace"]!.GetValue<string>());
            Assert.Equal(who, by[action]["actorId"]!.GetValue<string>());
        }
        Assert.Equal(SlackRig.Developer, by["patch_approved"]["requestedBy"]!["id"]!.GetValue<string>());
        Assert.Equal("T9TK3CUKW", by["patch_approved"]["requestedBy"]!["workspace"]!.GetValue<string>());
        Assert.Equal(SlackRig.Approver, by["patch_approved"]["approvedBy"]!["id"]!.GetValue<string>());
        Assert.Equal(["AWS-RunPatchBaseline"], Strings(by["patch_approved"]["documents"]));
        Assert.Equal(["cmd-1"], Strings(by["patch_command_sent"]["commandIds"]));
        Assert.Equal([$"{SlackRig.Instance}: Success"], Strings(by["patch_finished"]["instanceResults"]));
        // The sample finding was first observed long ago, so its SLA was due before Inspector closed it: met = fixed by the due date.
        Assert.Equal(by["verified_fixed"]["fixedAt"]!.GetValue<DateTimeOffset>() <= by["verified_fixed"]["slaDueAt"]!.GetValue<DateTimeOffset>(),
            by["verified_fixed"]["slaMet"]!.GetValue<bool>());
        Assert.Equal(closedAt.ToUnixTimeMilliseconds(), by["verified_fixed"]["fixedAt"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());

        // The second group: suppressed by a suppressor with a reason, then the suppression expires.
        var second = "CVE-2099-73002";
        var (suppressedGroup, secondCard) = await IngestAsync(Guid.NewGuid().ToString("n"), second, DateTimeOffset.UtcNow.AddMinutes(-5));
        var clicked = await _rig.PressAsync(secondCard, "suppress", SlackRig.Suppressor);
        JsonObject? view = null;
        await TestApp.Eventually(() => Task.FromResult((view = _rig.Slack.Calls("views.open").Select(v => v["view"]!.AsObject())
            .LastOrDefault(v => v["private_metadata"]!.GetValue<string>().Contains(suppressedGroup, StringComparison.Ordinal))) is not null), "suppress dialog");
        await _rig.SubmitAsync(view!, new JsonObject
        {
            ["reason"] = new JsonObject { ["reason"] = new JsonObject { ["type"] = "plain_text_input", ["value"] = "WAF rule 42 blocks the vector" } },
            ["expiry"] = new JsonObject { ["expiry"] = new JsonObject { ["type"] = "static_select", ["selected_option"] = new JsonObject { ["value"] = "30" } } },
            ["until"] = new JsonObject { ["until"] = new JsonObject { ["type"] = "datepicker", ["selected_date"] = null } },
        }, SlackRig.Suppressor);
        await _rig.ReplyTextAsync(clicked, "suppressed");
        var group = (await _rig.App.Service<IAlertStore>().GetGroupAsync(suppressedGroup, default))!;
        var filterArn = group.Workflow.Suppression!.FilterArn!;
        // The expiry job the suppression queued, brought forward to now: the worker lifts it as it would in 30 days.
        var expiry = new RemediationJob(RemediationJob.SuppressionExpiry, suppressedGroup) { FilterArn = filterArn };
        await _rig.App.Service<IWorkQueue>().EnqueueAsync(Queues.Remediation, expiry.QueueId, expiry.ToJson(), DateTimeOffset.UtcNow, default);
        var suppression = await EventuallyExportAsync(suppressedGroup, "suppression_expired");

        Assert.Equal(["detected", "alerted", "suppressed", "suppression_filter_created", "suppression_expired"], suppression.Select(Action).Take(5));
        Assert.All(suppression, AssertControls);
        var s = suppression.ToDictionary(Action, e => e["record"]!);
        Assert.Equal("WAF rule 42 blocks the vector", s["suppressed"]["reason"]!.GetValue<string>());
        Assert.Equal(SlackRig.Suppressor, s["suppressed"]["actorId"]!.GetValue<string>());
        // The dialog submission comes from the team of Slack's view_submission sample (fixtures/slack/view-submission.json).
        Assert.Equal("T1234567", s["suppressed"]["actorWorkspace"]!.GetValue<string>());
        Assert.InRange(s["suppressed"]["until"]!.GetValue<DateTimeOffset>(), DateTimeOffset.UtcNow.AddDays(29), DateTimeOffset.UtcNow.AddDays(31));
        Assert.Equal([filterArn], Strings(s["suppression_filter_created"]["filterArns"]));
        Assert.Equal([filterArn], Strings(s["suppression_expired"]["filterArns"]));
        Assert.Equal("system", s["suppression_expired"]["actorPlatform"]!.GetValue<string>());

        // control= picks exactly the records of that control; the chain verifies.
        using var control = new HttpRequestMessage(HttpMethod.Get, "/api/audit?format=json&control=6.3.3");
        control.Headers.Add("X-Api-Key", TestApp.AuditKey);
        var labelled = JsonNode.Parse(await (await _rig.App.Client().SendAsync(control)).Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal(["patch_requested", "patch_checked", "patch_approved", "patch_command_sent", "patch_finished", "verified_fixed"],
            labelled.Select(e => Action(e!.AsObject())).Where(a => a is not "sla_breached"));
        using var verify = new HttpRequestMessage(HttpMethod.Get, "/api/audit/verify");
        verify.Headers.Add("X-Api-Key", TestApp.AuditKey);
        var verified = await _rig.App.Client().SendAsync(verify);
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        Assert.True(JsonNode.Parse(await verified.Content.ReadAsStringAsync())!["intact"]!.GetValue<bool>());
    }
}
