using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>
/// Slack requests are genuine when signed, but only those naming a workspace of <c>Slack:TeamIds</c>
/// (or its Enterprise Grid organisation) are served. Team ids are where Slack puts them: <c>team_id</c>
/// of a slash command (api.slack.com/interactivity/slash-commands), <c>team.id</c> and
/// <c>user.team_id</c> of an interaction (api.slack.com/reference/interaction-payloads/block-actions),
/// <c>team_id</c> / <c>enterprise_id</c> of an Events API callback (api.slack.com/apis/events-api).
/// </summary>
[Collection(SlackCollection.Name)]
public class SlackWorkspaceTests(SlackApp slack)
{
    [Fact]
    public async Task SlashCommandFromAnotherWorkspaceIsForbiddenAndRevealsNothing()
    {
        var cve = SlackApp.NewCve();
        await slack.IngestAsync(cve, app: "payments");

        var (foreign, _, _) = await slack.CommandAsync($"show {cve}", userId: SlackApp.ApproverId, teamId: SlackApp.ForeignTeamId);
        var (own, ownReply, _) = await slack.CommandAsync($"show {cve}", userId: SlackApp.ApproverId);

        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.DoesNotContain(cve, await foreign.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The same command from the configured workspace is answered: only the workspace differed.
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Contains(cve, ownReply!.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>A Slack Connect guest clicks a card in a shared channel: the workspace is ours, the user's home team is not.</summary>
    [Fact]
    public async Task ButtonPressedByAUserOfAnotherWorkspaceChangesNothing()
    {
        var (groupId, _) = await slack.PostedCardAsync(SlackApp.NewCve());

        var (guest, guestUrl, _) = await slack.ClickAsync($"ack:{groupId}", groupId, "UGUEST0001", userTeamId: SlackApp.ForeignTeamId);
        var (member, memberUrl, _) = await slack.ClickAsync($"ack:{groupId}", groupId, "UMEMBER001");

        Assert.Equal(HttpStatusCode.Forbidden, guest.StatusCode);
        Assert.Equal(HttpStatusCode.OK, member.StatusCode);
        await slack.Slack.ResponseAsync(memberUrl);
        var group = await slack.App.Service<IAlertStore>().GetGroupAsync(groupId, default);
        Assert.Equal("UMEMBER001", group!.Workflow.AcknowledgedBy!.UserId);
        Assert.DoesNotContain(group.Workflow.History, h => h.Actor.UserId == "UGUEST0001");
        Assert.Empty(slack.Slack.Responses(guestUrl));
    }

    [Fact]
    public async Task MentionFromAnotherWorkspaceIsNotAnswered()
    {
        var cve = SlackApp.NewCve();
        await slack.IngestAsync(cve, app: "payments");
        var foreignTs = $"1699{Random.Shared.Next(100_000, 999_999)}.000100";
        var ownTs = $"1698{Random.Shared.Next(100_000, 999_999)}.000100";

        var foreign = await slack.SendAsync("/api/slack/events", Mention(SlackApp.ForeignTeamId, foreignTs, $"<@UBOT> vulns show {cve}"), "application/json");
        var own = await slack.SendAsync("/api/slack/events", Mention(SlackApp.TeamId, ownTs, "<@UBOT> help"), "application/json");

        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        await TestApp.Eventually(() => Task.FromResult(
            slack.Slack.Calls("chat.postEphemeral").Concat(slack.Slack.Calls("chat.postMessage")).Any(c => c["thread_ts"]?.GetValue<string>() == ownTs)),
            "the own workspace's mention is answered");
        Assert.DoesNotContain(slack.Slack.Calls("chat.postEphemeral").Concat(slack.Slack.Calls("chat.postMessage")),
            c => c["thread_ts"]?.GetValue<string>() == foreignTs);
    }

    /// <summary>Slack's own sample command comes from workspace T0001 of Enterprise Grid organisation E0001.</summary>
    [Theory]
    [InlineData("E0001", HttpStatusCode.OK)]
    [InlineData("E0002", HttpStatusCode.Forbidden)]
    public async Task AnEnterpriseGridIdAdmitsItsWorkspaces(string configured, HttpStatusCode expected)
    {
        await using var fake = await SlackFake.StartAsync();
        var settings = SlackApp.Settings(fake);
        settings.Remove("Slack:TeamIds:1");
        settings.Remove("Slack:TeamIds:2");
        settings["Slack:TeamIds:0"] = configured;
        await using var app = new TestApp(settings);

        var response = await app.Client().SendAsync(SlackSigner.Signed("/api/slack/commands",
            Fixtures.Read("slack", "slash-command-weather.form.txt"), "application/x-www-form-urlencoded", SlackApp.Secret));

        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData(null, "Slack:TeamIds is required")]
    [InlineData("any", "Slack:TeamIds entries must be")]
    public void SlackWithoutItsWorkspaceFailsAtStartupNamingTheKey(string? teamId, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Slack:BotToken"] = "xoxb-test-token",
            ["Slack:SigningSecret"] = SlackApp.Secret,
        };
        if (teamId is not null)
        {
            settings["Slack:TeamIds:0"] = teamId;
        }
        using var app = new TestApp(settings);

        var error = Assert.ThrowsAny<Exception>(() => app.Client());

        var validation = Assert.IsType<OptionsValidationException>(error.GetBaseException());
        Assert.Contains(validation.Failures, f => f.StartsWith(message, StringComparison.Ordinal));
    }

    private static string Mention(string teamId, string ts, string text) => new JsonObject
    {
        ["token"] = "XXYYZZ",
        ["team_id"] = teamId,
        ["api_app_id"] = "A123ABC456",
        ["type"] = "event_callback",
        ["event_id"] = "Ev" + Guid.NewGuid().ToString("n")[..10].ToUpperInvariant(),
        ["event_time"] = 1700000000,
        ["event"] = new JsonObject
        {
            ["type"] = "app_mention",
            ["user"] = "UALICE0001",
            ["text"] = text,
            ["ts"] = ts,
            ["channel"] = SlackApp.PaymentsChannel,
            ["event_ts"] = ts,
        },
    }.ToJsonString();
}
