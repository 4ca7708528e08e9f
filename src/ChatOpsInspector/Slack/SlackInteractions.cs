using System.Text.Json.Nodes;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Card buttons (<c>block_actions</c>) and dialog submissions (<c>view_submission</c>). Dialogs open
/// inline because a trigger_id lives 3 seconds; triage actions go through the durable work queue.
/// </summary>
internal sealed partial class SlackInteractions(
    SlackApiClient slack,
    SlackUsers users,
    SlackWorkQueue work,
    SlackRetryGuard retries,
    IAlertStore store,
    FindingRouter router,
    TriageService triage,
    TimeProvider time,
    IOptionsMonitor<SlackOptions> options,
    ILogger<SlackInteractions> logger)
{
    public static async Task<IResult> HandleAsync(HttpContext context, SlackInteractions interactions, CancellationToken cancellationToken)
    {
        var form = SlackPayload.Form(SlackRequestFilter.VerifiedBody(context));
        var payload = SlackPayload.ParseObject(form.Field("payload"));
        // "user" must be an object: indexing a string node would throw and answer 500.
        if (payload is null || payload["user"] is not JsonObject user || user["id"].Str() is not { Length: > 0 })
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid interaction", detail: "The payload field is missing or not a Slack interaction.");
        }
        try
        {
            return payload["type"].Str() switch
            {
                "block_actions" => await interactions.BlockActionsAsync(payload, cancellationToken),
                "view_submission" => await interactions.ViewSubmissionAsync(payload, cancellationToken),
                _ => Results.Ok(),
            };
        }
        catch (InvalidOperationException)
        {
            // A node of the wrong JSON kind where an object was expected.
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid interaction", detail: "The payload has an unexpected shape.");
        }
    }

    /// <summary>The actor as far as the request says, without a users.info call.</summary>
    public static Actor QuickActor(SlackJob job) =>
        new(SlackChatAdapter.PlatformKey, job.UserId, job.UserName ?? job.UserId, null, job.ChannelId, job.TeamId);

    /// <summary>The user's home team when Slack names it (shared channels), else the workspace of the request.</summary>
    private static string? TeamOf(JsonObject payload) =>
        payload["user"]?["team_id"].Str() ?? payload["team"]?["id"].Str();

    private async Task<IResult> BlockActionsAsync(JsonObject payload, CancellationToken cancellationToken)
    {
        var userId = payload["user"]!["id"].Str()!;
        var userName = payload["user"]?["username"].Str() ?? payload["user"]?["name"].Str();
        var channel = payload["channel"]?["id"].Str() ?? payload["container"]?["channel_id"].Str();
        var responseUrl = payload["response_url"].Str();
        var triggerId = payload["trigger_id"].Str();
        if (triggerId is not null && !await retries.FirstTimeAsync("act:" + triggerId, options.CurrentValue.RetryMemory, cancellationToken))
        {
            return Results.Ok();
        }
        var action = payload["actions"] is JsonArray { Count: > 0 } actions ? actions[0] : null;
        var button = SlackCards.ParseButton(action?["action_id"].Str(), action?["value"].Str());
        if (button is not { } pressed)
        {
            LogUnknownAction(action?["action_id"].Str());
            return Results.Ok();
        }
        var job = new SlackJob
        {
            Kind = SlackJobKind.Triage,
            UserId = userId,
            UserName = userName,
            TeamId = TeamOf(payload),
            ChannelId = channel,
            ResponseUrl = responseUrl,
            GroupId = pressed.GroupId,
            Action = pressed.Action.Id(),
            PatchRequestId = pressed.PatchRequestId,
        };
        if (pressed.Action is CardAction.Assign or CardAction.Suppress)
        {
            // The trigger expires 3 s after the click, so the dialog opens inline within a budget.
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(options.CurrentValue.InlineBudget);
            try
            {
                await OpenDialogAsync(pressed.Action, job, triggerId, budget.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                LogDialogFailed(pressed.Action, "timeout");
                await NoticeAsync(job, $"Slack was too slow to open the dialog. Try again, or use /vulns {pressed.Action.Id()} {pressed.GroupId} ….", cancellationToken);
            }
            return Results.Ok();
        }
        await work.EnqueueAsync(job, cancellationToken);
        return Results.Ok();
    }

    private async Task OpenDialogAsync(CardAction action, SlackJob job, string? triggerId, CancellationToken cancellationToken)
    {
        var group = await store.GetGroupAsync(job.GroupId!, cancellationToken);
        var actor = await users.ActorAsync(job.UserId, job.UserName, job.ChannelId, job.TeamId, cancellationToken);
        if (group is null || !triage.MaySee(actor, group))
        {
            await NoticeAsync(job, TriageService.NotVisible, cancellationToken);
            return;
        }
        if (action == CardAction.Suppress)
        {
            var route = router.FindOwner(group.Owner) ?? router.DefaultOwner;
            if (!triage.IsAllowed(CardAction.Suppress, actor, route))
            {
                await NoticeAsync(job, $"Only the suppressors of {route.Owner} or the security team may suppress. Ask one of them, or request a patch instead.", cancellationToken);
                return;
            }
        }
        if (string.IsNullOrEmpty(triggerId))
        {
            await NoticeAsync(job, "Slack sent no trigger to open the dialog; use /vulns assign or /vulns suppress instead.", cancellationToken);
            return;
        }
        var dialogContext = new SlackModals.Context(group.Id, job.ChannelId, job.ResponseUrl);
        var view = action == CardAction.Assign ? SlackModals.Assign(group, dialogContext) : SlackModals.Suppress(group, dialogContext);
        var opened = await slack.OpenViewAsync(triggerId, view, cancellationToken);
        if (!opened.Ok)
        {
            LogDialogFailed(action, opened.Error);
            await NoticeAsync(job, $"The dialog did not open ({opened.Error}). Try again, or use /vulns {action.Id()} {group.Id} ….", cancellationToken);
        }
    }

    private async Task<IResult> ViewSubmissionAsync(JsonObject payload, CancellationToken cancellationToken)
    {
        var view = payload["view"] as JsonObject;
        var callback = view?["callback_id"].Str();
        if (callback is not (SlackModals.AssignCallback or SlackModals.SuppressCallback))
        {
            return Results.Ok();
        }
        var dialog = SlackModals.ReadContext(view?["private_metadata"].Str());
        if (dialog is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid interaction", detail: "The dialog's metadata is missing.");
        }
        var values = view?["state"]?["values"];
        var job = new SlackJob
        {
            Kind = SlackJobKind.Triage,
            UserId = payload["user"]!["id"].Str()!,
            UserName = payload["user"]?["username"].Str() ?? payload["user"]?["name"].Str(),
            TeamId = TeamOf(payload),
            ChannelId = dialog.ChannelId,
            ResponseUrl = dialog.ResponseUrl,
            GroupId = dialog.GroupId,
        };
        if (callback == SlackModals.AssignCallback)
        {
            var assignee = SlackModals.ReadAssignee(values);
            if (assignee is null)
            {
                return ViewErrors(new() { [SlackModals.AssigneeBlock] = "Pick a person." });
            }
            job = job with { Action = CardAction.Assign.Id(), AssigneeId = assignee };
        }
        else
        {
            var (reason, expires, errors) = SlackModals.ReadSuppress(values, time.GetUtcNow());
            if (errors.Count > 0)
            {
                return ViewErrors(errors);
            }
            job = job with { Action = CardAction.Suppress.Id(), Reason = reason, ExpiresAt = expires };
        }
        // The view's id and hash identify this submission; a retried delivery of it is ignored.
        var submission = $"view:{view?["id"].Str()}:{view?["hash"].Str()}";
        if (await retries.FirstTimeAsync(submission, options.CurrentValue.RetryMemory, cancellationToken))
        {
            await work.EnqueueAsync(job, cancellationToken);
        }
        return Results.Ok();
    }

    private Task NoticeAsync(SlackJob job, string text, CancellationToken cancellationToken) =>
        work.EnqueueAsync(job with { Kind = SlackJobKind.Notice, Text = text }, cancellationToken);

    private static IResult ViewErrors(Dictionary<string, string> errors) =>
        Results.Text(SlackModals.Errors(errors).ToJsonString(), "application/json; charset=utf-8");

    [LoggerMessage(Level = LogLevel.Information, Message = "Ignored Slack action {ActionId}: not one of the card's buttons")]
    private partial void LogUnknownAction(string? actionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack dialog for {Action} did not open: {Error}")]
    private partial void LogDialogFailed(CardAction action, string? error);
}
