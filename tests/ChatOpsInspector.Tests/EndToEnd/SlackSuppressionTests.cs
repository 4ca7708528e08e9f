using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Tests.EndToEnd;

/// <summary>Suppressing from the Slack card: the dialog, the Inspector2 filter, the card, and who may do it.</summary>
public sealed class SlackSuppressionTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private SlackRig _rig = null!;

    public async Task InitializeAsync() => _rig = await SlackRig.StartAsync(redis);

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    private static JsonObject SuppressFor30Days(string reason) => new()
    {
        ["reason"] = new JsonObject { ["reason"] = new JsonObject { ["type"] = "plain_text_input", ["value"] = reason } },
        ["expiry"] = new JsonObject { ["expiry"] = new JsonObject { ["type"] = "static_select", ["selected_option"] = new JsonObject { ["value"] = "30" } } },
        ["until"] = new JsonObject { ["until"] = new JsonObject { ["type"] = "datepicker", ["selected_date"] = null } },
    };

    private async Task<JsonObject> CardAsync(string cve)
    {
        var (_, ts) = await _rig.PostedCardAsync(cve);
        var card = _rig.Slack.Calls("chat.postMessage").Single(c => c["thread_ts"] is null && c.ToJsonString().Contains(cve, StringComparison.Ordinal));
        card["ts"] = ts;
        return card;
    }

    private JsonObject? ViewOpenedBy(Func<JsonObject, bool> match) =>
        _rig.Slack.Calls("views.open").Select(v => v["view"]!.AsObject()).LastOrDefault(match);

    [Fact]
    public async Task SuppressorSubmittingTheSuppressDialogCreatesOneInspectorFilterAndTheCardShowsSuppressed()
    {
        var cve = "CVE-2099-72001";
        var card = await CardAsync(cve);
        var groupId = SlackRig.Button(card, "suppress")!["value"]!.GetValue<string>();

        var clicked = await _rig.PressAsync(card, "suppress", SlackRig.Suppressor);
        JsonObject? view = null;
        await TestApp.Eventually(() =>
        {
            view = ViewOpenedBy(v => v["private_metadata"]!.GetValue<string>().Contains(groupId, StringComparison.Ordinal));
            return Task.FromResult(view is not null);
        }, "suppress dialog opened");
        Assert.Equal("coi_suppress", view!["callback_id"]!.GetValue<string>());

        var submitted = await _rig.SubmitAsync(view, SuppressFor30Days("compensating control: WAF rule 42"), SlackRig.Suppressor);

        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        Assert.Equal("", await submitted.Content.ReadAsStringAsync());
        // The dialog remembers the click's response_url, so the answer lands where the button was pressed.
        Assert.StartsWith(":white_check_mark:", await _rig.ReplyTextAsync(clicked, "answer to the suppression"), StringComparison.Ordinal);
        var create = Assert.Single(_rig.Aws.Server.To("/filters/create"));
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDENDTOENDSLACK001/", create.Headers["Authorization"], StringComparison.Ordinal);
        using (var body = JsonDocument.Parse(create.Body))
        {
            Assert.Equal("SUPPRESS", body.RootElement.GetProperty("action").GetString());
            var criterion = Assert.Single(body.RootElement.GetProperty("filterCriteria").GetProperty("vulnerabilityId").EnumerateArray());
            Assert.Equal("EQUALS", criterion.GetProperty("comparison").GetString());
            Assert.Equal(cve, criterion.GetProperty("value").GetString());
            Assert.Contains("compensating control: WAF rule 42", body.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        var suppressed = await _rig.CardUpdateAsync(card["ts"]!.GetValue<string>(),
            u => u.ToJsonString().Contains("Suppressed until", StringComparison.Ordinal), "card shows suppressed");
        Assert.Equal(["Unsuppress"], SlackRig.ButtonLabels(suppressed));
        var group = (await _rig.App.Service<IAlertStore>().GetGroupAsync(groupId, default))!;
        Assert.Equal(GroupState.Suppressed, group.Workflow.State);
        Assert.InRange(group.Workflow.Suppression!.ExpiresAt, DateTimeOffset.UtcNow.AddDays(30).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        Assert.Single(_rig.Aws.Server.To("/filters/create"));
    }

    [Fact]
    public async Task NonSuppressorClickingSuppressIsToldWhoMayAndNoFilterIsCreated()
    {
        var card = await CardAsync("CVE-2099-72002");
        var groupId = SlackRig.Button(card, "suppress")!["value"]!.GetValue<string>();

        var clicked = await _rig.PressAsync(card, "suppress", SlackRig.Developer);

        var answer = await _rig.ReplyTextAsync(clicked, "explanation for the non-suppressor");
        Assert.Contains("Only the suppressors of payments or the security team may suppress", answer, StringComparison.Ordinal);
        Assert.Empty(_rig.Slack.Calls("views.open"));

        // Even a submission made without the dialog (a replayed or forged view) is refused by the workflow.
        var metadata = new JsonObject { ["g"] = groupId, ["c"] = SlackRig.Channel, ["r"] = _rig.Slack.NewResponseUrl() };
        var forged = new JsonObject { ["callback_id"] = "coi_suppress", ["private_metadata"] = metadata.ToJsonString() };
        Assert.Equal(HttpStatusCode.OK, (await _rig.SubmitAsync(forged, SuppressFor30Days("just because"), SlackRig.Developer)).StatusCode);
        var refusal = await _rig.ReplyTextAsync(metadata["r"]!.GetValue<string>(), "refusal of the forged submission");
        Assert.StartsWith(":no_entry: Only the suppressors of payments", refusal, StringComparison.Ordinal);

        Assert.Empty(_rig.Aws.Server.To("/filters/create"));
        Assert.Equal(GroupState.New, (await _rig.App.Service<IAlertStore>().GetGroupAsync(groupId, default))!.Workflow.State);
    }
}
