using System.Text.Json.Nodes;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.EndToEnd;

/// <summary>
/// Changes that matter are told in the card's thread, mentioning the people they concern, and an
/// assignee is also told directly: the whole bot against the fake Slack, through signed requests only.
/// </summary>
public sealed class SlackNotificationTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string OnCallEmail = "oncall@example.com";
    private const string OnCallId = "UONCALL001";
    private const string Assignee = "UASSIGNEE1";

    private SlackRig _rig = null!;

    public async Task InitializeAsync()
    {
        // An approver configured by e-mail only, as the README recommends.
        _rig = await SlackRig.StartAsync(redis, s => s["Routing:Rules:0:Target:Approvers:3"] = OnCallEmail);
        _rig.Slack.Emails[OnCallEmail] = OnCallId;
    }

    public async Task DisposeAsync() => await _rig.DisposeAsync();

    private async Task<JsonObject> CardAsync(string cve)
    {
        var (_, ts) = await _rig.PostedCardAsync(cve);
        var card = _rig.Slack.Calls("chat.postMessage").Single(c => c["thread_ts"] is null && c.ToJsonString().Contains(cve, StringComparison.Ordinal)
            && c["blocks"] is not null);
        card["ts"] = ts;
        return card;
    }

    /// <summary>The first thread reply under the card at <paramref name="ts"/> whose text contains <paramref name="marker"/>.</summary>
    private async Task<JsonObject> ThreadNoteAsync(string ts, string marker)
    {
        JsonObject? note = null;
        await TestApp.Eventually(() =>
        {
            note = _rig.Slack.Calls("chat.postMessage").FirstOrDefault(c => c["thread_ts"]?.GetValue<string>() == ts
                && c["text"]!.GetValue<string>().Contains(marker, StringComparison.Ordinal));
            return Task.FromResult(note is not null);
        }, $"thread note containing '{marker}'");
        Assert.Equal(SlackRig.Channel, note!["channel"]!.GetValue<string>());
        return note;
    }

    private async Task<JsonObject> OpenedViewAsync(string callbackId)
    {
        JsonObject? view = null;
        await TestApp.Eventually(() =>
        {
            view = _rig.Slack.Calls("views.open").Select(v => v["view"]!.AsObject()).LastOrDefault(v => v["callback_id"]?.GetValue<string>() == callbackId);
            return Task.FromResult(view is not null);
        }, $"{callbackId} dialog opened");
        return view!;
    }

    [Fact]
    public async Task RiskAcceptedIsToldInTheThreadWithWhoWhyAndUntilAndPingsApproversConfiguredByEmail()
    {
        var card = await CardAsync("CVE-2099-73001");
        await _rig.PressAsync(card, "suppress", SlackRig.Suppressor);
        var view = await OpenedViewAsync("coi_suppress");

        await _rig.SubmitAsync(view, new JsonObject
        {
            ["reason"] = new JsonObject { ["reason"] = new JsonObject { ["type"] = "plain_text_input", ["value"] = "WAF rule 42 blocks it" } },
            ["expiry"] = new JsonObject { ["expiry"] = new JsonObject { ["type"] = "static_select", ["selected_option"] = new JsonObject { ["value"] = "30" } } },
            ["until"] = new JsonObject { ["until"] = new JsonObject { ["type"] = "datepicker", ["selected_date"] = null } },
        }, SlackRig.Suppressor);

        var note = await ThreadNoteAsync(card["ts"]!.GetValue<string>(), "Risk accepted");
        var text = note["text"]!.GetValue<string>();
        Assert.Contains("suppressed CVE-2099-73001 until ", text, StringComparison.Ordinal);
        Assert.Contains("Reason: WAF rule 42 blocks it", text, StringComparison.Ordinal);
        // Nobody is assigned, so the owner's approvers are told — the one configured by e-mail as a real mention.
        Assert.Contains($"<@{SlackRig.Approver}>", text, StringComparison.Ordinal);
        Assert.Contains($"<@{OnCallId}>", text, StringComparison.Ordinal);
        Assert.DoesNotContain(OnCallEmail, text, StringComparison.Ordinal);
        Assert.Contains(_rig.Slack.Raw("users.lookupByEmail"), r => r.Body == "email=oncall%40example.com");
    }

    [Fact]
    public async Task AssigneeIsMentionedInTheThreadAndToldByDirectMessage()
    {
        var card = await CardAsync("CVE-2099-73002");
        await _rig.PressAsync(card, "assign", SlackRig.Developer);
        var view = await OpenedViewAsync("coi_assign");

        await _rig.SubmitAsync(view, new JsonObject
        {
            ["assignee"] = new JsonObject { ["assignee"] = new JsonObject { ["type"] = "users_select", ["selected_user"] = Assignee } },
        }, SlackRig.Developer);

        var note = await ThreadNoteAsync(card["ts"]!.GetValue<string>(), "assigned CVE-2099-73002");
        Assert.Contains($"<@{Assignee}>", note["text"]!.GetValue<string>(), StringComparison.Ordinal);
        // The direct message: chat.postMessage to the user id, which lands in the app's DM with them.
        JsonObject? dm = null;
        await TestApp.Eventually(() =>
        {
            dm = _rig.Slack.Calls("chat.postMessage").FirstOrDefault(c => c["channel"]?.GetValue<string>() == Assignee);
            return Task.FromResult(dm is not null);
        }, "direct message to the assignee");
        Assert.Null(dm!["thread_ts"]);
        Assert.Contains("assigned you CVE-2099-73002", dm["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RejectedPatchIsToldInTheThreadMentioningTheRequester()
    {
        var card = await CardAsync("CVE-2099-73003");
        await _rig.PressAsync(card, "patch", SlackRig.Developer);
        var asking = await _rig.CardUpdateAsync(card["ts"]!.GetValue<string>(), u => SlackRig.Button(u, "approve") is not null, "card asks for approval");

        await _rig.PressAsync(asking, "reject", SlackRig.Approver);

        var note = await ThreadNoteAsync(card["ts"]!.GetValue<string>(), "rejected the patch request");
        Assert.Contains($"<@{SlackRig.Developer}>", note["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
