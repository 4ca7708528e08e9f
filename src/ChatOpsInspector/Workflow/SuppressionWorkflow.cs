using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
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
    FindingRouter router,
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
            if (SuppressionFilters.Plan(group, router.TagKeysOf(group.Owner), now).Refusal is { } unmatched)
            {
                return Decision.Refuse(unmatched);
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
        var suppressedAt = group.Workflow.Suppression!.At;
        var plan = SuppressionFilters.Plan(group, router.TagKeysOf(group.Owner), suppressedAt);
        var created = new List<FilterOperationResult>();
        var uncertain = false;
        try
        {
            foreach (var region in plan.Parts.GroupBy(p => p.Region))
            {
                // Filters of this suppression that an earlier, interrupted attempt already made are adopted, not made twice.
                var existing = await FindFiltersAsync(region.Key, plan.NamePrefix, cancellationToken);
                foreach (var part in region)
                {
                    if (existing.FirstOrDefault(f => f.Name == part.Name) is { } made)
                    {
                        created.Add(new FilterOperationResult(made.Arn, null));
                        uncertain = true; // an earlier attempt ran: a duplicate of it may exist too
                        continue;
                    }
                    var (result, wasUncertain) = await CreateFilterAsync(group, part, plan, request.Actor, reason, expires, cancellationToken);
                    uncertain |= wasUncertain;
                    created.Add(result);
                }
            }
        }
        catch (Exception ex) when (AwsFailures.Is(ex))
        {
            LogFilterFailed(ex, group.Id, group.Owner);
            uncertain |= OutcomeUnknown(ex);
            foreach (var filter in created)
            {
                await ScheduleDeleteAsync(group.Id, filter.Arn, transitions.Now, cancellationToken);
            }
            if (uncertain)
            {
                await ScheduleSweepsAsync(group.Id, plan, cancellationToken);
            }
            await RevertAsync(group.Id, request.Actor, $"Inspector refused the suppression filter: {AwsFailures.Describe(ex)}", ex, cancellationToken);
            return TriageResult.Refused(created.Count == 0 && !uncertain
                ? $"Could not suppress in Inspector: {AwsFailures.Describe(ex)}. Nothing was changed."
                : $"Could not suppress in Inspector: {AwsFailures.Describe(ex)}. The alert is not suppressed; the filters made so far are being removed.", group);
        }

        var arns = created.Select(c => c.Arn).ToArray();
        var message = $"Suppressed {group.VulnerabilityId} until {AlertCardBuilder.Format(expires)}: {plan.Scope}.";
        var recorded = await transitions.ApplyAsync(group.Id, request.Actor, (g, _) =>
            g.Workflow.Suppression is { } s && g.Workflow.State == GroupState.Suppressed && s.At == suppressedAt
                ? new Decision(g.Workflow with { Suppression = s with { FilterArn = arns[0], FilterArns = arns, Scope = plan.Scope } },
                    "Suppression filter created", $"{plan.Scope}: {string.Join(", ", arns)}", message)
                {
                    AuditAction = "suppression_filter_created",
                    AwsRequestId = created[0].RequestId,
                }
                : Decision.Refuse("The suppression was lifted while its filters were being created."), cancellationToken);
        if (!recorded.Succeeded)
        {
            // Lifted meanwhile: do not leave orphan filters behind.
            foreach (var arn in arns)
            {
                await ScheduleDeleteAsync(group.Id, arn, transitions.Now, cancellationToken);
            }
            return recorded;
        }
        foreach (var filter in created.Skip(1))
        {
            await AuditAsync(group.Id, "suppression_filter_created", filter.Arn, filter.RequestId, cancellationToken);
        }
        if (uncertain)
        {
            // A create whose answer was lost may still appear later; the sweep removes any filter of this suppression not recorded here.
            await ScheduleSweepsAsync(group.Id, plan, cancellationToken);
        }
        var expiry = new RemediationJob(RemediationJob.SuppressionExpiry, group.Id) { FilterArn = arns[0] };
        await queue.EnqueueAsync(Queues.Remediation, expiry.QueueId, expiry.ToJson(), expires, cancellationToken);
        return recorded;
    }

    /// <summary>
    /// Creates one filter. A create without a client token is not retried blindly: when its outcome is
    /// unknown (timeout, dropped connection, 5xx) the filter is looked up by its name first.
    /// </summary>
    private async Task<(FilterOperationResult Result, bool Uncertain)> CreateFilterAsync(
        AlertGroup group, FilterPart part, FilterPlan plan, Actor actor, string reason, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        var request = new CreateFilterRequest
        {
            Name = part.Name,
            Action = FilterAction.Suppress,
            Description = Shorten($"{group.VulnerabilityId} for {group.Owner} ({part.Name[plan.NamePrefix.Length..]}/{plan.Parts.Count}, {part.Findings} findings), by {actor.DisplayName} until {expires:yyyy-MM-dd}", 500),
            Reason = Shorten(reason, 500),
            FilterCriteria = part.Criteria,
        };
        var uncertain = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await inspector.CreateFilterAsync(request, part.Region.Length == 0 ? null : part.Region, cancellationToken), uncertain);
            }
            catch (AwsServiceException ex) when (OutcomeUnknown(ex) && attempt < MaxCreateAttempts)
            {
                uncertain = true;
                LogCreateUncertain(ex, part.Name, group.Id, attempt);
                var found = await FindFiltersAsync(part.Region, part.Name, cancellationToken);
                if (found.FirstOrDefault(f => f.Name == part.Name) is { } made)
                {
                    return (new FilterOperationResult(made.Arn, ex.RequestId), true);
                }
            }
        }
    }

    internal const int MaxCreateAttempts = 3;

    private static bool OutcomeUnknown(Exception ex) =>
        ex is AwsServiceException aws && aws.Kind != AwsErrorKind.Throttling
        && (aws.StatusCode is null || (int)aws.StatusCode >= 500 || aws.ErrorCode is "InvalidResponse");

    /// <summary>This bot's SUPPRESS filters in a region whose names start with <paramref name="prefix"/>, every page read.</summary>
    private async Task<List<Inspector2Filter>> FindFiltersAsync(string region, string prefix, CancellationToken cancellationToken)
    {
        var found = new List<Inspector2Filter>();
        await foreach (var page in inspector.ListAllFiltersAsync(new ListFiltersRequest { Action = FilterAction.Suppress, MaxResults = 100 },
            region.Length == 0 ? null : region, cancellationToken))
        {
            found.AddRange(page.Items.Where(f => f.Name.StartsWith(prefix, StringComparison.Ordinal)));
        }
        return found;
    }

    private async Task ScheduleSweepsAsync(string groupId, FilterPlan plan, CancellationToken cancellationToken)
    {
        foreach (var region in plan.Regions)
        {
            var job = new RemediationJob(RemediationJob.FilterSweep, groupId) { Region = region, FilterName = plan.NamePrefix };
            await queue.EnqueueAsync(Queues.Remediation, job.QueueId, job.ToJson(), transitions.Now + SweepDelay, cancellationToken);
        }
    }

    internal const int MaxSweepAttempts = 30;

    /// <summary>Long enough for a create that was still in flight to have landed or failed.</summary>
    internal static readonly TimeSpan SweepDelay = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Deletes the filters of one suppression (by name prefix) that the group does not record: made by
    /// an attempt whose answer was lost, or left by a suppression that failed or was lifted.
    /// </summary>
    public async Task SweepFiltersAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        var group = await transitions.GetAsync(job.GroupId, cancellationToken);
        var kept = group?.Workflow.Suppression?.AllFilterArns ?? [];
        List<Inspector2Filter> found;
        try
        {
            found = await FindFiltersAsync(job.Region ?? "", job.FilterName!, cancellationToken);
        }
        catch (Exception ex) when (AwsFailures.Is(ex) && job.Attempt >= MaxSweepAttempts - 1)
        {
            // Retried with backoff for about a day; after that a person has to look (the audit names the filters).
            await AuditAsync(job.GroupId, "suppression_filter_sweep_failed",
                $"{job.FilterName}* in {job.Region}: {AwsFailures.Describe(ex)}", AwsFailures.RequestId(ex), cancellationToken);
            return;
        }
        var orphans = found.Where(f => !kept.Contains(f.Arn)).ToArray();
        foreach (var orphan in orphans)
        {
            LogOrphan(orphan.Name, job.GroupId);
            await ScheduleDeleteAsync(job.GroupId, orphan.Arn, transitions.Now, cancellationToken);
        }
        await AuditAsync(job.GroupId, "suppression_filters_swept",
            $"{job.FilterName}* in {(string.IsNullOrEmpty(job.Region) ? "home region" : job.Region)}: {found.Count} found, {orphans.Length} not recorded and deleted", null, cancellationToken);
    }

    public Task<TriageResult> UnsuppressAsync(TriageRequest request, CancellationToken cancellationToken) =>
        LiftAsync(request.GroupId, request.Actor, expectedFilterArn: null, "Unsuppressed", cancellationToken);

    /// <summary>Ends a suppression (by a person or at expiry), deletes its filter and re-announces the group.</summary>
    public async Task<TriageResult> LiftAsync(string groupId, Actor actor, string? expectedFilterArn, string verb, CancellationToken cancellationToken)
    {
        string? filterArn = null;
        IReadOnlyList<string> filterArns = [];
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
            filterArns = s.AllFilterArns;
            var back = s.PreviousState is GroupState.Suppressed or GroupState.Resolved or GroupState.PatchRequested or GroupState.Patching
                ? GroupState.New
                : s.PreviousState;
            return new Decision(wf with { State = back, Suppression = null, UnsuppressedAt = now }, verb,
                s.AllFilterArns.Count == 0 ? null : $"filters {string.Join(", ", s.AllFilterArns)}", $"{group.VulnerabilityId} is open again.")
            {
                AuditAction = verb == "Unsuppressed" ? "unsuppressed" : "suppression_expired",
            };
        }, cancellationToken);
        if (!result.Succeeded)
        {
            return result;
        }
        foreach (var arn in filterArns)
        {
            await ScheduleDeleteAsync(groupId, arn, transitions.Now, cancellationToken);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "CreateFilter {FilterName} for group {GroupId} has an unknown outcome (attempt {Attempt}); looking it up by name")]
    private partial void LogCreateUncertain(Exception ex, string filterName, string groupId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Filter {FilterName} of group {GroupId} is not recorded by its suppression; deleting it")]
    private partial void LogOrphan(string filterName, string groupId);
}
