using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Aws;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.EndToEnd;

/// <summary>
/// An Inspector finding that reaches the bot only through Security Hub CSPM (ASFF), suppressed from its
/// Slack card: Inspector gets its suppression filter and Security Hub shows the finding SUPPRESSED with
/// the reason and expiry. Oracle for the Security Hub request: botocore
/// botocore/data/securityhub/2018-10-26/service-2.json @ 0e6e2404b85dc336dd2889814e089bde7d1a4c55 —
/// operation BatchUpdateFindings {http: PATCH /findings/batchupdate}; BatchUpdateFindingsRequest with
/// FindingIdentifiers (AwsSecurityFindingIdentifier: required Id, ProductArn), Note (NoteUpdate: required
/// Text, UpdatedBy, both NonEmptyString ".*\S.*") and Workflow (WorkflowUpdate: Status, enum NEW |
/// NOTIFIED | RESOLVED | SUPPRESSED); the other members (Severity, VerificationState, Confidence,
/// Criticality, Types, UserDefinedFields, RelatedFindings) are not ours to send.
/// </summary>
public sealed class SecurityHubSuppressionTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private const string Cve = "CVE-2022-3643";

    [Fact]
    public async Task SuppressingAnAsffInspectorFindingFromSlackCreatesTheInspectorFilterAndMarksItSuppressedInSecurityHub()
    {
        await using var securityHub = await FakeAwsServer.StartAsync((request, response) =>
            FakeAwsServer.Reply(response, 200,
                $$"""{"ProcessedFindings":{{request.Json.GetProperty("FindingIdentifiers").GetRawText()}},"UnprocessedFindings":[]}""",
                "shub-req-1"));
        await using var rig = await SlackRig.StartAsync(redis, settings =>
        {
            settings["SecurityHub:WriteBack"] = "true";
            settings["SecurityHub:ServiceUrl"] = securityHub.BaseUri.ToString();
        });

        // Security Hub CSPM's copy of an Inspector finding (public sample), on a payments instance.
        var finding = SecurityHubSamples.AsffInspectorFinding();
        finding["Resources"]![0]!["Tags"] = new JsonObject { ["app"] = SlackRig.Owner };
        Assert.Equal(HttpStatusCode.Accepted, (await rig.App.PostEventsAsync(SecurityHubSamples.AsffEvent(finding).ToJsonString())).StatusCode);

        JsonObject? card = null;
        await TestApp.Eventually(() =>
        {
            card = rig.Slack.Calls("chat.postMessage").FirstOrDefault(c => c["thread_ts"] is null && c.ToJsonString().Contains(Cve, StringComparison.Ordinal));
            return Task.FromResult(card is not null);
        }, "card of the ASFF finding posted");
        Assert.Equal(SlackRig.Channel, card!["channel"]!.GetValue<string>());
        var groupId = GroupIds.For(SlackRig.Owner, Cve);
        var store = rig.App.Service<IAlertStore>();
        await TestApp.Eventually(async () =>
        {
            var group = await store.GetGroupAsync(groupId, default);
            if (group?.Cards.TryGetValue("slack", out var posted) == true)
            {
                card["ts"] = posted.MessageId;
                return true;
            }
            return false;
        }, "card reference stored");

        await rig.PressAsync(card, "suppress", SlackRig.Suppressor);
        JsonObject? view = null;
        await TestApp.Eventually(() =>
        {
            view = rig.Slack.Calls("views.open").Select(v => v["view"]!.AsObject())
                .LastOrDefault(v => v["private_metadata"]!.GetValue<string>().Contains(groupId, StringComparison.Ordinal));
            return Task.FromResult(view is not null);
        }, "suppress dialog opened");
        var values = new JsonObject
        {
            ["reason"] = new JsonObject { ["reason"] = new JsonObject { ["type"] = "plain_text_input", ["value"] = "kernel module not loaded" } },
            ["expiry"] = new JsonObject { ["expiry"] = new JsonObject { ["type"] = "static_select", ["selected_option"] = new JsonObject { ["value"] = "30" } } },
            ["until"] = new JsonObject { ["until"] = new JsonObject { ["type"] = "datepicker", ["selected_date"] = null } },
        };
        Assert.Equal(HttpStatusCode.OK, (await rig.SubmitAsync(view!, values, SlackRig.Suppressor)).StatusCode);

        // Inspector: one SUPPRESS filter for the vulnerability, signed by the bot's key.
        await TestApp.Eventually(() => Task.FromResult(rig.Aws.Server.To("/filters/create").Any()), "Inspector filter created");
        var create = Assert.Single(rig.Aws.Server.To("/filters/create"));
        using (var body = JsonDocument.Parse(create.Body))
        {
            Assert.Equal("SUPPRESS", body.RootElement.GetProperty("action").GetString());
            Assert.Equal(Cve, Assert.Single(body.RootElement.GetProperty("filterCriteria").GetProperty("vulnerabilityId").EnumerateArray())
                .GetProperty("value").GetString());
        }

        // Security Hub: the finding named as ASFF names it, workflow SUPPRESSED, a note with reason and expiry.
        await TestApp.Eventually(() => Task.FromResult(securityHub.Requests.Count >= 1), "Security Hub updated", 60_000);
        var suppression = (await store.GetGroupAsync(groupId, default))!.Workflow.Suppression!;
        var request = Assert.Single(securityHub.Requests);
        Assert.Equal("PATCH", request.Method);
        Assert.Equal("/findings/batchupdate", request.Path);
        var credential = SigV4Verification.AssertValidSignature(request, "secret/for/the/fake");
        Assert.Equal("AKIDENDTOENDSLACK001", credential.AccessKey);
        Assert.Equal("securityhub", credential.Service);
        Assert.Equal("us-east-1", credential.Region); // the finding's region; the bot's own is eu-central-1
        var json = request.Json;
        Assert.Equal(["FindingIdentifiers", "Note", "Workflow"], json.EnumerateObject().Select(p => p.Name).Order());
        var id = Assert.Single(json.GetProperty("FindingIdentifiers").EnumerateArray());
        Assert.Equal(["Id", "ProductArn"], id.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(SecurityHubSamples.InspectorArn, id.GetProperty("Id").GetString());
        Assert.Equal(finding["ProductArn"]!.GetValue<string>(), id.GetProperty("ProductArn").GetString());
        Assert.Equal(["Status"], json.GetProperty("Workflow").EnumerateObject().Select(p => p.Name));
        Assert.Equal("SUPPRESSED", json.GetProperty("Workflow").GetProperty("Status").GetString());
        var note = json.GetProperty("Note");
        Assert.Equal(["Text", "UpdatedBy"], note.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("ChatOpsInspector", note.GetProperty("UpdatedBy").GetString());
        var text = note.GetProperty("Text").GetString()!;
        Assert.Matches(@".*\S.*", text);
        Assert.Contains("kernel module not loaded", text, StringComparison.Ordinal);
        Assert.Contains(suppression.ExpiresAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC", text, StringComparison.Ordinal);
        Assert.InRange(suppression.ExpiresAt, DateTimeOffset.UtcNow.AddDays(30).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));

        await TestApp.Eventually(async () =>
            (await rig.App.Service<IAuditLog>().ReadAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), 1000, default))
                .Any(a => a.Action == "securityhub_writeback" && a.Outcome == "ok" && a.AwsRequestId == "shub-req-1"), "write-back audited");
    }
}
