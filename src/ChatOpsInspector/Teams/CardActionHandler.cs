using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Answers <c>adaptiveCard/action</c> invokes (Universal Actions): runs the triage action and returns
/// the card as this user should now see it. The workflow change itself is a quick compare-and-set;
/// anything slow it starts (Inspector, SSM) runs from the durable queues, and the dispatcher then
/// updates the channel's card for everyone.
/// </summary>
internal sealed partial class CardActionHandler(
    IAlertStore store,
    TriageService triage,
    CardViewers viewers,
    TeamsPeople people,
    TimeProvider time,
    ILogger<CardActionHandler> logger)
{
    public const string InvokeName = "adaptiveCard/action";
    public const string CardType = "application/vnd.microsoft.card.adaptive";
    public const string ErrorType = "application/vnd.microsoft.error";

    public async Task<AdaptiveCardInvokeResponse> HandleAsync(Activity activity, CancellationToken cancellationToken)
    {
        if (activity.Value is not { ValueKind: JsonValueKind.Object } value
            || !value.TryGetProperty("action", out var action) || action.ValueKind != JsonValueKind.Object)
        {
            return BadRequest("The invoke carries no value.action.");
        }
        var verb = ReadString(action, "verb");
        var data = action.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? d : default;
        if (await people.ActorAsync(activity, cancellationToken) is not { } actor)
        {
            return BadRequest("The invoke does not say who clicked.");
        }
        if (data.ValueKind != JsonValueKind.Object || ReadString(data, TeamsActionData.GroupId) is not { Length: > 0 } groupId)
        {
            return BadRequest("This card was not sent by ChatOpsInspector (no groupId in the action data).");
        }
        var group = await store.GetGroupAsync(groupId, cancellationToken);
        if (group is null || !triage.MaySee(actor, group))
        {
            return Card(AlertCardRenderer.Message("Alert not available", TriageService.NotVisible, isError: true));
        }
        if (verb == AlertCardRenderer.RefreshVerb)
        {
            return Card(AlertCardRenderer.Render(triage.Card(group, time.GetUtcNow()), viewers.ForUser(group, actor)));
        }
        if (CardActionIds.Parse(verb) is not { } cardAction)
        {
            return BadRequest($"Unknown action '{TeamsText.Cut(verb, 40)}'.");
        }
        var (request, problem) = Request(groupId, cardAction, actor, data);
        if (problem is not null)
        {
            return BadRequest(problem);
        }
        if (cardAction is CardAction.ApprovePatch or CardAction.RequestIsolation or CardAction.Release
            && ReadString(data, TeamsActionData.Step) == TeamsActionData.ConfirmStep)
        {
            // First press: say what will run and ask again; nothing changes until Confirm.
            return Card(AlertCardRenderer.Confirmation(triage.Card(group, time.GetUtcNow()), cardAction, verb!,
                (JsonObject)JsonNode.Parse(data.GetRawText())!));
        }
        var result = await triage.ExecuteAsync(request!, cancellationToken);
        LogAction(groupId, cardAction, result.Succeeded);
        var current = result.Group ?? group;
        return Card(AlertCardRenderer.Render(
            triage.Card(current, time.GetUtcNow()),
            viewers.ForUser(current, actor, result.Message, noticeIsError: !result.Succeeded)));
    }

    /// <summary>The person who clicked: Entra object id when Teams sends it (it does for users), else the channel user id.</summary>
    internal static Actor? ActorOf(Activity activity)
    {
        var from = activity.From;
        var id = from?.AadObjectId ?? from?.Id;
        return string.IsNullOrWhiteSpace(id)
            ? null
            : new Actor("teams", id, string.IsNullOrWhiteSpace(from!.Name) ? id : from.Name, Email: null, Channel: activity.Conversation?.Id, Workspace: activity.TenantId);
    }

    private (TriageRequest? Request, string? Problem) Request(string groupId, CardAction action, Actor actor, JsonElement data)
    {
        var request = new TriageRequest(groupId, action, actor) { PatchRequestId = ReadString(data, TeamsActionData.PatchRequestId) };
        switch (action)
        {
            case CardAction.Assign:
                var who = ReadString(data, TeamsActionData.Assignee)?.Trim();
                if (string.IsNullOrEmpty(who))
                {
                    return (null, "Pick a person to assign.");
                }
                if (who.Length > 200)
                {
                    return (null, "That assignee is too long to be a person.");
                }
                var assignee = who == CardViewers.AssignToMe
                    ? actor with { Channel = null }
                    : new Actor("teams", who, who, Email: who.Contains('@', StringComparison.Ordinal) ? who : null, Workspace: actor.Workspace);
                return (request with { Assignee = assignee }, null);

            case CardAction.Suppress:
                var reason = ReadString(data, TeamsActionData.Reason)?.Trim();
                if (string.IsNullOrEmpty(reason))
                {
                    return (null, "A reason is required to suppress.");
                }
                if (reason.Length > TeamsActionData.MaxReasonChars)
                {
                    return (null, $"Keep the reason under {TeamsActionData.MaxReasonChars} characters.");
                }
                var (expires, expiryProblem) = Expiry(data);
                return expiryProblem is null ? (request with { Reason = reason, ExpiresAt = expires }, null) : (null, expiryProblem);

            case CardAction.ApprovePatch or CardAction.RejectPatch:
                if (string.IsNullOrEmpty(request.PatchRequestId))
                {
                    return (null, "This card does not say which patch request to decide; refresh it.");
                }
                return (request with { Reason = ReadString(data, TeamsActionData.Reason)?.Trim() }, null);

            default:
                return (request, null);
        }
    }

    /// <summary>A date from the picker wins over the 7/30/90-day choice; either must lie within a year.</summary>
    private (DateTimeOffset?, string?) Expiry(JsonElement data)
    {
        var now = time.GetUtcNow();
        if (ReadString(data, TeamsActionData.ExpiryDate) is { Length: > 0 } dateText)
        {
            if (!DateOnly.TryParseExact(dateText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return (null, "The expiry date must look like 2026-12-31.");
            }
            var at = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            if (at <= now)
            {
                return (null, "The expiry date must be in the future.");
            }
            return at > now.AddDays(TeamsActionData.MaxSuppressDays)
                ? (null, $"Suppress for at most {TeamsActionData.MaxSuppressDays} days.")
                : (at, null);
        }
        if (int.TryParse(ReadString(data, TeamsActionData.Expiry), NumberStyles.None, CultureInfo.InvariantCulture, out var days)
            && AlertCardRenderer.SuppressDays.Contains(days))
        {
            return (now.AddDays(days), null);
        }
        return (null, "Pick how long to suppress: 7, 30 or 90 days, or a date.");
    }

    private static string? ReadString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var p)
            ? p.ValueKind switch
            {
                JsonValueKind.String => p.GetString(),
                JsonValueKind.Number => p.GetRawText(),
                _ => null,
            }
            : null;

    private static AdaptiveCardInvokeResponse Card(JsonObject card) => new(200, CardType, card);

    private static AdaptiveCardInvokeResponse BadRequest(string message) =>
        new(400, ErrorType, new JsonObject { ["code"] = "BadRequest", ["message"] = message });

    [LoggerMessage(Level = LogLevel.Information, Message = "Teams action {Action} on group {GroupId}: succeeded={Succeeded}")]
    private partial void LogAction(string groupId, CardAction action, bool succeeded);
}
