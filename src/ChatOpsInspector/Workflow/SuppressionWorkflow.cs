using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Suppress and unsuppress. The workflow is claimed first (so a double click creates one filter), then
/// the Inspector2 suppression filter is created; its ARN is stored so the filter can be deleted when the
/// suppression expires — Inspector filters never expire by themselves.
/// </summary>
internal sealed partial class SuppressionWorkflow(
    WorkflowTransitions transitions,
    TriagePermissions permissions,
    IInspector2Client inspector,
    IWorkQueue queue,
    ChatOutbox outbox,
    ILogger<SuppressionWorkflow> logger)
{
    public static readonly TimeSpan MaxSuppression = TimeSpan.FromDays(366);
    public const int MaxReasonLength = 500;

    public async Task<TriageResult> SuppressAsync(TriageRequest request, CancellationToken cancellationToken)
    {
        var reason = request.Reason?.Trim();
        if (string.IsNullOrEmpty(reason))
        {
            return TriageResult.Refused("A suppression needs a reason (for example \"compensating control: not internet-facing\").");
        }
        if (reason.Length > MaxReasonLength)
        {
            return TriageResult.Refused($"Keep the reason under {MaxReasonLength} characters.");
        }
        if (request.ExpiresAt is not { } expires)
        {
            return TriageResult.Refused("A suppression needs an expiry: 7, 30 or 90 days, or a date.");
        }
        var claim = await transitions.ApplyAsync(request.GroupId, request.Actor, (group, now) =>
        {
            var route = permissions.RouteOf(group);
            if (!permissions.IsAllowed(CardAction.Suppress, request.Actor, route))
            {
                return Decision.Refuse(permissions.RefusalFor(CardAction.Suppress, route));
            }
            if (expires <= now)
            {
                return Decision.Refuse("The expiry must be in the future.");
            }
            if (expires - now > MaxSuppression)
            {
                return Decision.Refuse("Suppress for at most a year; review it again then.");
            }
            var wf = group.Workflow;
            var refusal = wf.State switch
            {
                GroupState.Suppressed => $"Already suppressed until {AlertCardBuilder.Format(wf.Suppression!.ExpiresAt)} by {wf.Suppression.By.DisplayName}.",
                GroupState.Resolved => "This alert is already resolved.",
                GroupState.PatchRequested or GroupState.Patching => "A patch is in progress; reject or finish it before suppressing.",
                _ => null,
            };
            if (refusal is not null)
            {
                return Decision.Refuse(refusal);
            }
            var detail = $"until {AlertCardBuilder.Format(expires)}: {reason}";
            return new Decision(
                wf with { State = GroupState.Suppressed, Suppression = new Suppression(reason, expires, request.Actor, now, null, wf.State) },
                "Suppressed", detail, $"Suppressed {group.VulnerabilityId} until {AlertCardBuilder.Format(expires)}.");
        }, cancellationToken);
        if (!claim.Succeeded)
        {
            return claim;
        }

        var group = claim.Group!;
        FilterOperationResult filter;
        try
        {
            filter = await inspector.CreateFilterAsync(new CreateFilterRequest
            {
                Name = $"chatopsinspector-{group.Id}-{transitions.Now.ToUnixTimeSeconds()}",
                Action = FilterAction.Suppress,
                Description = Shorten($"{group.VulnerabilityId} for {group.Owner}, by {request.Actor.DisplayName} until {expires:yyyy-MM-dd}", 500),
                Reason = Shorten(reason, 500),
                FilterCriteria = new FindingFilterCriteria
                {
                    VulnerabilityId = [new StringFilter("EQUALS", group.VulnerabilityId)],
                    ResourceId = group.Resources.Take(10).Select(r => new StringFilter("EQUALS", r.ResourceId)).ToArray(),
                    AwsAccountId = group.Members.Select(m => m.AccountId).Distinct().Take(10).Select(a => new StringFilter("EQUALS", a)).ToArray(),
                },
            }, string.IsNullOrEmpty(group.Meta.Region) ? null : group.Meta.Region, cancellationToken);
        }
        catch (Exception ex) when (AwsFailures.Is(ex))
        {
            LogFilterFailed(ex, group.Id, group.Owner);
            await RevertAsync(group.Id, request.Actor, $"Inspector refused the suppression filter: {AwsFailures.Describe(ex)}", ex, cancellationToken);
            return TriageResult.Refused($"Could not suppress in Inspector: {AwsFailures.Describe(ex)}. Nothing was changed.", group);
        }

        var recorded = await transitions.ApplyAsync(group.Id, request.Actor, (g, _) =>
            g.Workflow.Suppression is { } s && g.Workflow.State == GroupState.Suppressed
                ? new Decision(g.Workflow with { Suppression = s with { FilterArn = filter.Arn } }, "Suppression filter created", filter.Arn, claim.Message)
                {
                    AuditAction = "suppression_filter_created",
                    AwsRequestId = filter.RequestId,
                }
                : Decision.Refuse("The suppression was lifted while its filter was being created."), cancellationToken);
        if (!recorded.Succeeded)
        {
            // Lifted meanwhile: do not leave an orphan filter behind.
            await ScheduleDeleteAsync(group.Id, filter.Arn, transitions.Now, cancellationToken);
            return recorded;
        }
        var expiry = new RemediationJob(RemediationJob.SuppressionExpiry, group.Id) { FilterArn = filter.Arn };
        await queue.EnqueueAsync(Queues.Remediation, expiry.QueueId, expiry.ToJson(), expires, cancellationToken);
        return recorded;
    }

    public Task<TriageResult> UnsuppressAsync(TriageRequest request, CancellationToken cancellationToken) =>
        LiftAsync(request.GroupId, request.Actor, expectedFilterArn: null, "Unsuppressed", cancellationToken);

    /// <summary>Ends a suppression (by a person or at expiry), deletes its filter and re-announces the group.</summary>
    public async Task<TriageResult> LiftAsync(string groupId, Actor actor, string? expectedFilterArn, string verb, CancellationToken cancellationToken)
    {
        string? filterArn = null;
        var result = await transitions.ApplyAsync(groupId, actor, (group, now) =>
        {
            var wf = group.Workflow;
            if (actor != Actor.System)
            {
                var route = permissions.RouteOf(group);
                if (!permissions.IsAllowed(CardAction.Unsuppress, actor, route))
                {
                    return Decision.Refuse(permissions.RefusalFor(CardAction.Unsuppress, route));
                }
            }
            if (wf.State != GroupState.Suppressed || wf.Suppression is not { } s)
            {
                return Decision.Refuse("This alert is not suppressed.");
            }
            if (expectedFilterArn is not null && s.FilterArn != expectedFilterArn)
            {
                return Decision.Refuse("A newer suppression replaced this one.");
            }
            filterArn = s.FilterArn;
            var back = s.PreviousState is GroupState.Suppressed or GroupState.Resolved or GroupState.PatchRequested or GroupState.Patching
                ? GroupState.New
                : s.PreviousState;
            return new Decision(wf with { State = back, Suppression = null, UnsuppressedAt = now }, verb,
                s.FilterArn is null ? null : $"filter {s.FilterArn}", $"{group.VulnerabilityId} is open again.")
            {
                AuditAction = verb == "Unsuppressed" ? "unsuppressed" : "suppression_expired",
            };
        }, cancellationToken);
        if (!result.Succeeded)
        {
            return result;
        }
        if (filterArn is not null)
        {
            await ScheduleDeleteAsync(groupId, filterArn, transitions.Now, cancellationToken);
        }
        await outbox.EnqueueThreadNoteAsync(groupId,
            WorkflowNotifier.ToAssigneeOrApprovers(verb == "Unsuppressed"
                ? $"{actor.DisplayName} lifted the suppression of {result.Group!.VulnerabilityId}; it is open again."
                : $"The suppression of {result.Group!.VulnerabilityId} expired; it is open again and needs a decision.",
                result.Group, permissions.RouteOf(result.Group)),
            cancellationToken, dedupKey: $"lift:{groupId}:{filterArn ?? transitions.Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        return result;
    }

    /// <summary>Deletes a filter from the remediation queue, retried until Inspector confirms.</summary>
    public async Task DeleteFilterAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        FilterOperationResult result;
        try
        {
            result = await inspector.DeleteFilterAsync(job.FilterArn!, cancellationToken);
        }
        catch (AwsServiceException ex) when (ex.Kind == AwsErrorKind.ResourceNotFound)
        {
            // Already gone (deleted by hand, or an earlier attempt whose answer was lost): the goal is reached.
            await AuditAsync(job.GroupId, "suppression_filter_already_deleted", job.FilterArn!, ex.RequestId, cancellationToken);
            return;
        }
        await AuditAsync(job.GroupId, "suppression_filter_deleted", job.FilterArn!, result.RequestId, cancellationToken);
    }

    private Task ScheduleDeleteAsync(string groupId, string filterArn, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var job = new RemediationJob(RemediationJob.DeleteFilter, groupId) { FilterArn = filterArn };
        return queue.EnqueueAsync(Queues.Remediation, job.QueueId, job.ToJson(), at, cancellationToken);
    }

    private async Task RevertAsync(string groupId, Actor actor, string detail, Exception error, CancellationToken cancellationToken) =>
        await transitions.ApplyAsync(groupId, actor, (group, now) =>
            group.Workflow is { State: GroupState.Suppressed, Suppression: { FilterArn: null } s } wf
                ? new Decision(wf with { State = s.PreviousState, Suppression = null }, "Suppression failed", detail, detail)
                {
                    AuditAction = "suppress_failed",
                    Outcome = "failed",
                    AwsRequestId = AwsFailures.RequestId(error),
                }
                : Decision.Refuse("nothing to revert"), cancellationToken);

    private Task AuditAsync(string groupId, string action, string detail, string? requestId, CancellationToken cancellationToken) =>
        transitions.AuditAsync(groupId, action, detail, requestId, cancellationToken);

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    [LoggerMessage(Level = LogLevel.Error, Message = "Creating the suppression filter for group {GroupId} of {Owner} failed")]
    private partial void LogFilterFailed(Exception ex, string groupId, string owner);
}
