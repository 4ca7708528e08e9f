using System.Net;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>
/// An outsider asking about an owner or alert they may not see gets, byte for byte, the answer they would
/// get had it never existed — for every command and every card button — so the bot cannot be used to
/// probe which applications, CVEs or group ids exist. The outsider is a person of an allowed workspace
/// who is none of shop's people, not on the security team and not in shop's channel; shop has an open alert.
/// </summary>
[Collection(SlackCollection.Name)]
public class SlackRefusalWordingTests(SlackApp slack)
{
    private const string Outsider = "UOUTSIDER1";

    /// <summary>The whole answer as Slack receives it: the immediate body, or the response_url message when the immediate body is empty.</summary>
    private async Task<string> CommandAnswerAsync(string text)
    {
        var (response, json, responseUrl) = await slack.CommandAsync(text, userId: Outsider);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Slow and state-changing commands answer "On it: <the command as typed>" at once, whatever the id
        // names, and the answer itself through response_url: that answer is the one that must not differ.
        var immediate = await response.Content.ReadAsStringAsync();
        if (json is not null && !(json["text"]?.GetValue<string>() ?? "").StartsWith("On it:", StringComparison.Ordinal))
        {
            return immediate;
        }
        return (await slack.Slack.ResponseAsync(responseUrl, $"answer to '{text}'")).ToJsonString();
    }

    private async Task<string> ClickAnswerAsync(string action, string groupId)
    {
        var (response, responseUrl, _) = await slack.ClickAsync($"{action}:{groupId}", groupId, Outsider);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await slack.Slack.ResponseAsync(responseUrl, $"answer to the {action} button")).ToJsonString();
    }

    [Fact]
    public async Task EveryCommandAboutAnInvisibleOwnerOrAlertIsAnsweredExactlyAsForOneThatDoesNotExist()
    {
        var cve = SlackApp.NewCve();
        await slack.IngestAsync(cve, app: "shop");
        var hidden = GroupIds.For("shop", cve);
        var missing = GroupIds.For("shop", "CVE-2099-0000000");
        Assert.NotNull(await slack.App.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(hidden, default));

        var pairs = new (string Hidden, string Missing)[]
        {
            ("shop", "nosuchapp"),
            ("shop --share", "nosuchapp --share"),
            ("sla shop", "sla nosuchapp"),
            ("stats shop", "stats nosuchapp"),
            ("coverage shop", "coverage nosuchapp"),
            ($"show {cve}", "show CVE-2099-0000000"),
            ($"show {hidden}", $"show {missing}"),
            ($"ack {hidden}", $"ack {missing}"),
            ($"ack {cve}", "ack CVE-2099-0000000"),
            ($"assign {hidden} <@UALICE0001|alice>", $"assign {missing} <@UALICE0001|alice>"),
            ($"suppress {hidden} 30d accepted risk", $"suppress {missing} 30d accepted risk"),
            ($"patch {hidden}", $"patch {missing}"),
        };
        foreach (var (h, m) in pairs)
        {
            var toHidden = await CommandAnswerAsync(h);
            var toMissing = await CommandAnswerAsync(m);
            Assert.True(toHidden == toMissing, $"'{h}' answered\n{toHidden}\nbut '{m}' answered\n{toMissing}");
            Assert.DoesNotContain(cve, toHidden, StringComparison.Ordinal);
            Assert.DoesNotContain(hidden, toHidden, StringComparison.Ordinal);
        }
        Assert.Contains("not found or not visible to you", await CommandAnswerAsync("shop"), StringComparison.Ordinal);
        // The refusal is for who asked: the security lead asking the same is answered with the alert.
        var (_, allowed, _) = await slack.CommandAsync("shop", userId: SlackApp.SecurityLeadId);
        Assert.Contains(cve, allowed!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryCardButtonOnAnInvisibleAlertIsAnsweredExactlyAsOnOneThatDoesNotExist()
    {
        var cve = SlackApp.NewCve();
        await slack.IngestAsync(cve, app: "shop");
        var hidden = GroupIds.For("shop", cve);
        var missing = GroupIds.For("shop", "CVE-2099-0000001");

        foreach (var action in new[] { "ack", "assign", "suppress", "unsuppress", "patch", "isolate" })
        {
            var onHidden = await ClickAnswerAsync(action, hidden);
            var onMissing = await ClickAnswerAsync(action, missing);
            Assert.True(onHidden == onMissing, $"{action}: {onHidden} vs {onMissing}");
            Assert.Contains("Alert not found or not visible to you.", onHidden, StringComparison.Ordinal);
        }
        var group = await slack.App.Service<ChatOpsInspector.State.IAlertStore>().GetGroupAsync(hidden, default);
        Assert.Equal(ChatOpsInspector.Workflow.GroupState.New, group!.Workflow.State);
    }
}
