using ChatOpsInspector.Access;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Patch (SSM Run Command, AWS-RunPatchBaseline) and isolation (SSM Automation) with approval: a request
/// names the SSM-managed instances, an approver other than the requester approves before it expires,
/// and exactly one command is sent — the approval is a compare-and-set, so two concurrent approvals
/// cannot both win. Progress is polled from the remediation queue and shown on the card.
/// </summary>
internal sealed partial class PatchWorkflow(
    WorkflowTransitions transitions,
    TriagePermissions permissions,
    PeopleDirectory people,
    IRunbookClient runbooks,
    IWorkQueue queue,
    ChatOutbox outbox,
    IOptions<RemediationOptions> options,
    ILogger<PatchWorkflow> logger)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan RescanWindow = TimeSpan.FromHours(24);
    public const double IsolationMinScore = 9.0;

    public async Task<TriageResult> RequestAsync(TriageRequest request, CancellationToken cancellationToken)
    {
        var isolate = request.Action == CardAction.RequestIsolation;
        if (isolate && !options.Value.IsolationEnabled)
        {
            return TriageResult.Refused("Isolation is not configured (Remediation:IsolationDocument).");
        }
        if (await transitions.GetAsync(request.GroupId, cancellationToken) is not { } snapshot)
        {
            return TriageResult.Refused($"No alert group '{request.GroupId}'.");
        }
        var instances = snapshot.OpenEc2Instances;
        if (instances.Count == 0)
        {
            return TriageResult.Refused(
                $"No open EC2 instance to patch. {AlertCardBuilder.Build(snapshot, transitions.Now).PatchUnavailableReason}", snapshot);
        }
        if (isolate && !(snapshot.InspectorScore >= IsolationMinScore))
        {
            return TriageResult.Refused($"Isolation is for findings scored {IsolationMinScore} or more.", snapshot);
        }
        ManagedInstances managed;
        try
        {
            managed = await runbooks.DescribeManagedInstancesAsync(instances.Take(200).ToArray(), cancellationToken);
        }
        catch (Exception ex) when (AwsFailures.Is(ex))
        {
            LogAwsFailed(ex, "DescribeInstanceInformation", snapshot.Id);
            return TriageResult.Refused($"Could not check SSM for these instances: {AwsFailures.Describe(ex)}.", snapshot);
        }
        var online = managed.Online;
        if (online.Count == 0)
        {
            return TriageResult.Refused(
                $"None of the {instances.Count} instance(s) is managed by SSM and online, so the bot cannot patch them. " +
                "Check the SSM agent and instance profile, or patch by hand.", snapshot);
        }
        var ttl = options.Value.ApprovalTtl;
        var requestId = Guid.NewGuid().ToString("n")[..10];
        var skipped = instances.Count - online.Count;
        var result = await transitions.ApplyAsync(request.GroupId, request.Actor, (group, now) =>
        {
            var wf = group.Workflow;
            var refusal = wf.State switch
            {
                GroupState.PatchRequested => $"A {wf.Patch!.Kind} request by {wf.Patch.RequestedBy.DisplayName} is already waiting for approval.",
                GroupState.Patching => "A patch is already running.",
                GroupState.Suppressed => "This alert is suppressed; unsuppress it first.",
                GroupState.Resolved => "This alert is already resolved.",
                _ => null,
            };
            if (refusal is not null)
            {
                return Decision.Refuse(refusal);
            }
            var patch = new PatchRequest
            {
                Id = requestId,
                Kind = isolate ? "isolate" : "patch",
                RequestedBy = request.Actor,
                RequestedAt = now,
                ExpiresAt = now + ttl,
                InstanceIds = online,
                PreviousState = wf.State,
            };
            var what = isolate ? "Isolation" : "Patch";
            var detail = $"{online.Count} instance(s)" + (skipped > 0 ? $", {skipped} not SSM-managed" : "") + $", approval expires {AlertCardBuilder.Format(patch.ExpiresAt)}";
            return new Decision(wf with { State = GroupState.PatchRequested, Patch = patch }, $"{what} requested", detail,
                $"{what} requested for {online.Count} instance(s); waiting for an approver.")
            {
                AuditAction = isolate ? "isolation_requested" : "patch_requested",
                AwsRequestId = managed.RequestIds.Count > 0 ? managed.RequestIds[0] : null,
            };
        }, cancellationToken);
        if (!result.Succeeded)
        {
            return result;
        }
        var expiry = new RemediationJob(RemediationJob.ApprovalExpiry, request.GroupId) { RequestId = requestId };
        await queue.EnqueueAsync(Queues.Remediation, expiry.QueueId, expiry.ToJson(), result.Group!.Workflow.Patch!.ExpiresAt, cancellationToken);
        var route = permissions.RouteOf(result.Group);
        var approvers = route.Approvers.Select(Person.Parse).Where(p => !p.Names(request.Actor, anyEmail: true))
            .SelectMany(p => p.Ids).ToArray();
        await outbox.EnqueueThreadNoteAsync(request.GroupId, new ChatNote(
            $"{request.Actor.DisplayName} asks to {(isolate ? "isolate" : "patch")} {online.Count} instance(s) for {result.Group.VulnerabilityId}" +
            (skipped > 0 ? $" ({skipped} not managed by SSM are left out)" : "") +
            $". Approvers, please approve or reject on the card within {AlertCardBuilder.FormatDuration(ttl)}." +
            (approvers.Length == 0 ? " No approver is configured for this owner: set Routing approvers." : ""),
            approvers), cancellationToken, dedupKey: $"patch-request:{requestId}");
        return result;
    }

    public async Task<TriageResult> ApproveAsync(TriageRequest request, CancellationToken cancellationToken)
    {
        var decided = await transitions.ApplyAsync(request.GroupId, request.Actor, (group, now) =>
        {
            var wf = group.Workflow;
            if (CheckPending(group, request, now) is { } refusal)
            {
                return Decision.Refuse(refusal);
            }
            var route = permissions.RouteOf(group);
            if (!permissions.IsAllowed(CardAction.ApprovePatch, request.Actor, route))
            {
                return Decision.Refuse(permissions.RefusalFor(CardAction.ApprovePatch, route));
            }
            // Four eyes across platforms: a Slack and a Teams account of one human are one person.
            if (people.CouldBeSamePerson(wf.Patch!.RequestedBy, request.Actor))
            {
                return Decision.Refuse("You requested this; another approver must approve it.");
            }
            var patch = wf.Patch with { DecidedBy = request.Actor, DecidedAt = now, Approved = true };
            return new Decision(wf with { State = GroupState.Patching, Patch = patch }, "Approved",
                $"{patch.Kind} of {patch.InstanceIds.Count} instance(s) requested by {patch.RequestedBy.DisplayName}",
                $"Approved. Starting the {patch.Kind} of {patch.InstanceIds.Count} instance(s).")
            {
                AuditAction = patch.Kind == "isolate" ? "isolation_approved" : "patch_approved",
            };
        }, cancellationToken);
        if (!decided.Succeeded)
        {
            return decided;
        }
        var group = decided.Group!;
        var patchRequest = group.Workflow.Patch!;
        try
        {
            if (patchRequest.Kind == "isolate")
            {
                var started = new List<string>();
                foreach (var instance in patchRequest.InstanceIds)
                {
                    var execution = await runbooks.StartIsolationAsync(instance, DeterministicToken(patchRequest.Id, instance), cancellationToken);
                    started.Add(execution.AutomationExecutionId);
                    await transitions.AuditAsync(group.Id, "isolation_started", $"{instance}: {execution.AutomationExecutionId}", execution.RequestId, cancellationToken);
                }
                return await RecordStartedAsync(group.Id, request.Actor, patchRequest.Id, string.Join(",", started), null, cancellationToken);
            }
            var comment = $"ChatOpsInspector {group.VulnerabilityId} group {group.Id}";
            var command = await runbooks.SendPatchCommandAsync(patchRequest.InstanceIds, comment.Length > 100 ? comment[..100] : comment, cancellationToken: cancellationToken);
            return await RecordStartedAsync(group.Id, request.Actor, patchRequest.Id, command.CommandId, command.RequestId, cancellationToken);
        }
        catch (Exception ex) when (AwsFailures.Is(ex))
        {
            LogAwsFailed(ex, patchRequest.Kind == "isolate" ? "StartAutomationExecution" : "SendCommand", group.Id);
            await transitions.ApplyAsync(group.Id, Actor.System, (g, _) =>
                g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == patchRequest.Id && p.CommandId is null
                    ? new Decision(wf with { State = p.PreviousState, Patch = p with { Progress = null } }, "Patch failed to start", AwsFailures.Describe(ex), "")
                    {
                        AuditAction = "patch_failed_to_start",
                        Outcome = "failed",
                        AwsRequestId = AwsFailures.RequestId(ex),
                    }
                    : Decision.Refuse("already moved on"), cancellationToken);
            await outbox.EnqueueThreadNoteAsync(group.Id, new ChatNote($"The {patchRequest.Kind} of {group.VulnerabilityId} could not start: {AwsFailures.Describe(ex)}"),
                cancellationToken, dedupKey: $"patch-failed:{patchRequest.Id}");
            return TriageResult.Refused($"Approved, but SSM refused to start: {AwsFailures.Describe(ex)}.", group);
        }
    }

    public Task<TriageResult> RejectAsync(TriageRequest request, CancellationToken cancellationToken) =>
        transitions.ApplyAsync(request.GroupId, request.Actor, (group, now) =>
        {
            var wf = group.Workflow;
            if (CheckPending(group, request, now) is { } refusal)
            {
                return Decision.Refuse(refusal);
            }
            var route = permissions.RouteOf(group);
            var ownRequest = people.CouldBeSamePerson(wf.Patch!.RequestedBy, request.Actor);
            if (!ownRequest && !permissions.IsAllowed(CardAction.RejectPatch, request.Actor, route))
            {
                return Decision.Refuse(permissions.RefusalFor(CardAction.RejectPatch, route));
            }
            var patch = wf.Patch with { DecidedBy = request.Actor, DecidedAt = now, Approved = false };
            var verb = ownRequest ? "Cancelled" : "Rejected";
            return new Decision(wf with { State = patch.PreviousState, Patch = patch }, verb, request.Reason,
                $"{verb} the {patch.Kind} request.")
            {
                AuditAction = ownRequest ? "patch_cancelled" : "patch_rejected",
            };
        }, cancellationToken);

    /// <summary>Called from the remediation queue when an approval's time is up.</summary>
    public async Task ExpireAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        var result = await transitions.ApplyAsync(job.GroupId, Actor.System, (group, now) =>
            group.Workflow is { State: GroupState.PatchRequested, Patch: { } p } wf && p.Id == job.RequestId && now >= p.ExpiresAt
                ? new Decision(wf with { State = p.PreviousState, Patch = p with { Approved = false, DecidedAt = now } }, "Approval expired",
                    $"{p.Kind} requested by {p.RequestedBy.DisplayName}", "")
                { AuditAction = "approval_expired" }
                : Decision.Refuse("not pending"), cancellationToken);
        if (result.Succeeded)
        {
            await outbox.EnqueueThreadNoteAsync(job.GroupId,
                new ChatNote($"The request to {result.Group!.Workflow.Patch!.Kind} expired without approval. Request it again when an approver is available."),
                cancellationToken, dedupKey: $"approval-expired:{job.RequestId}");
        }
    }

    /// <summary>Polls SSM for a running patch; returns when to poll again, or null when done.</summary>
    public async Task<DateTimeOffset?> PollAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        var group = await transitions.GetAsync(job.GroupId, cancellationToken);
        if (group?.Workflow is not { State: GroupState.Patching, Patch: { CommandId: { } commandId } patch } || patch.Id != job.RequestId || patch.Kind != "patch")
        {
            return null;
        }
        var progress = await runbooks.GetCommandProgressAsync(commandId, cancellationToken);
        var shown = new PatchProgress(progress.Total, progress.Succeeded, progress.Failed + progress.TimedOut + progress.Cancelled, progress.Pending + progress.InProgress);
        var finished = progress.IsComplete;
        if (shown == patch.Progress && !finished)
        {
            return transitions.Now + PollInterval;
        }
        var updated = await transitions.ApplyAsync(job.GroupId, Actor.System, (g, _) =>
            g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == patch.Id
                ? new Decision(wf with { State = finished ? GroupState.Patched : GroupState.Patching, Patch = p with { Progress = shown } },
                    finished ? "Patch finished" : "Patch progress", progress.Summary, "")
                {
                    AuditAction = finished ? "patch_finished" : "patch_progress",
                    Outcome = finished && shown.Failed > 0 ? "partial" : "ok",
                    AwsRequestId = progress.RequestIds.Count > 0 ? progress.RequestIds[^1] : null,
                }
                : Decision.Refuse("moved on"), cancellationToken);
        if (!updated.Succeeded || !finished)
        {
            return updated.Succeeded ? transitions.Now + PollInterval : null;
        }
        var failures = progress.Instances.Where(i => i.Status is not RunbookStatus.Success)
            .Select(i => $"{i.InstanceId}: {i.Status}").Take(10).ToArray();
        await outbox.EnqueueThreadNoteAsync(job.GroupId, new ChatNote(
            $"Patch of {group.VulnerabilityId} finished: {progress.Summary}." +
            (failures.Length > 0 ? " Failed: " + string.Join("; ", failures) + "." : "") +
            " Inspector will rescan; the card turns \"verified fixed\" when it closes the findings."),
            cancellationToken, dedupKey: $"patch-done:{patch.Id}");
        var rescan = new RemediationJob(RemediationJob.RescanCheck, job.GroupId) { RequestId = patch.Id };
        await queue.EnqueueAsync(Queues.Remediation, rescan.QueueId, rescan.ToJson(), transitions.Now + RescanWindow, cancellationToken);
        return null;
    }

    /// <summary>After the rescan window: patched instances that Inspector still reports open are flagged.</summary>
    public async Task CheckRescanAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        var group = await transitions.GetAsync(job.GroupId, cancellationToken);
        if (group?.Workflow.Patch is not { } patch || patch.Id != job.RequestId || group.Workflow.State == GroupState.Resolved)
        {
            return;
        }
        var stillOpen = group.OpenEc2Instances.Intersect(patch.InstanceIds).ToArray();
        if (stillOpen.Length == 0)
        {
            return;
        }
        var detail = $"{stillOpen.Length} patched instance(s) still open after {AlertCardBuilder.FormatDuration(RescanWindow)}: {string.Join(", ", stillOpen.Take(10))}";
        await transitions.ApplyAsync(job.GroupId, Actor.System, (g, _) =>
            new Decision(g.Workflow, "Still vulnerable after patch", detail, "") { AuditAction = "patch_not_effective", Outcome = "failed" }, cancellationToken);
        await outbox.EnqueueThreadNoteAsync(job.GroupId, new ChatNote(detail + ". The patch baseline may not include the fix; check the fixed version."),
            cancellationToken, dedupKey: $"rescan:{patch.Id}");
    }

    private async Task<TriageResult> RecordStartedAsync(string groupId, Actor actor, string requestId, string commandId, string? awsRequestId, CancellationToken cancellationToken)
    {
        var recorded = await transitions.ApplyAsync(groupId, actor, (g, _) =>
            g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == requestId
                ? new Decision(wf with { Patch = p with { CommandId = commandId, Progress = new PatchProgress(p.InstanceIds.Count, 0, 0, p.InstanceIds.Count) } },
                    p.Kind == "isolate" ? "Isolation started" : "Patch started", commandId,
                    $"Approved: {p.Kind} of {p.InstanceIds.Count} instance(s) started ({commandId}).")
                {
                    AuditAction = p.Kind == "isolate" ? "isolation_command_sent" : "patch_command_sent",
                    AwsRequestId = awsRequestId,
                }
                : Decision.Refuse("moved on"), cancellationToken);
        if (recorded.Succeeded && recorded.Group!.Workflow.Patch!.Kind == "patch")
        {
            var poll = new RemediationJob(RemediationJob.PatchPoll, groupId) { RequestId = requestId };
            await queue.EnqueueAsync(Queues.Remediation, poll.QueueId, poll.ToJson(), transitions.Now + PollInterval, cancellationToken);
        }
        return recorded;
    }

    private static string? CheckPending(AlertGroup group, TriageRequest request, DateTimeOffset now)
    {
        var wf = group.Workflow;
        if (wf.State != GroupState.PatchRequested || wf.Patch is not { } patch)
        {
            return wf.Patch is { Approved: true, DecidedBy: { } by }
                ? $"Already approved by {by.DisplayName}."
                : "There is no patch request waiting for a decision.";
        }
        // A decision must name the request it decides, so a stale or hand-made button cannot approve a newer one.
        if (request.PatchRequestId is not { Length: > 0 } id || id != patch.Id)
        {
            return "This card shows an older request; refresh it and decide the current one.";
        }
        if (now >= patch.ExpiresAt)
        {
            return "This request has expired; ask for a new one.";
        }
        return null;
    }

    private static Guid DeterministicToken(string requestId, string instance)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(requestId + "/" + instance));
        return new Guid(hash.AsSpan(0, 16));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Operation} failed for group {GroupId}")]
    private partial void LogAwsFailed(Exception ex, string operation, string groupId);
}
