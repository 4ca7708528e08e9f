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
            return TriageResult.Refused(TriageService.NotVisible);
        }
        if (!isolate && snapshot.Meta.Type == Findings.FindingType.NetworkReachability)
        {
            return TriageResult.Refused("Patching cannot close an open port: change the security group or network ACL, or suppress with a reason.", snapshot);
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
        var targets = TargetsOf(snapshot, instances);
        var online = new List<string>();
        var batches = new List<PatchBatch>();
        string? firstRequestId = null;
        try
        {
            foreach (var (target, ids) in targets)
            {
                var managed = await runbooks.DescribeManagedInstancesAsync(ids, target, cancellationToken);
                firstRequestId ??= managed.RequestIds.Count > 0 ? managed.RequestIds[0] : null;
                foreach (var chunk in managed.Online.Chunk(SsmRunbooks.MaxInstancesPerCommand))
                {
                    batches.Add(new PatchBatch(online.Count, chunk.Length, target?.AccountId, target?.Region));
                    online.AddRange(chunk);
                }
            }
        }
        catch (Exception ex) when (AwsFailures.Is(ex))
        {
            LogAwsFailed(ex, "DescribeInstanceInformation", snapshot.Id);
            return TriageResult.Refused($"Could not check SSM for these instances: {AwsFailures.Describe(ex)}.", snapshot);
        }
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
                Batches = batches,
                PreviousState = wf.State,
            };
            var what = isolate ? "Isolation" : "Patch";
            var detail = $"{online.Count} instance(s)" + (skipped > 0 ? $", {skipped} not SSM-managed" : "") + $", approval expires {AlertCardBuilder.Format(patch.ExpiresAt)}";
            return new Decision(wf with { State = GroupState.PatchRequested, Patch = patch }, $"{what} requested", detail,
                $"{what} requested for {online.Count} instance(s); waiting for an approver.")
            {
                AuditAction = isolate ? "isolation_requested" : "patch_requested",
                AwsRequestId = firstRequestId,
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
        // Armed before any AWS call: whatever happens next (a crash, a hung endpoint), the run cannot sit unnoticed.
        var watchdog = new RemediationJob(RemediationJob.Watchdog, group.Id) { RequestId = patchRequest.Id };
        await queue.EnqueueAsync(Queues.Remediation, watchdog.QueueId, watchdog.ToJson(), transitions.Now + options.Value.StallTimeout, cancellationToken);
        return patchRequest.Kind == "isolate"
            ? await StartIsolationAsync(group, request.Actor, patchRequest, cancellationToken)
            : await SendBatchesAsync(group, request.Actor, patchRequest, cancellationToken);
    }

    /// <summary>
    /// Sends one SendCommand per batch and records each command id as it is issued, so a batch is never
    /// sent twice and every command shows in the workflow and the audit. A batch SSM refuses counts its
    /// instances as failed; the others go ahead.
    /// </summary>
    private async Task<TriageResult> SendBatchesAsync(AlertGroup group, Actor actor, PatchRequest patchRequest, CancellationToken cancellationToken)
    {
        var batches = patchRequest.EffectiveBatches;
        var comment = SsmRunbooks.LimitComment($"ChatOpsInspector {group.VulnerabilityId} group {group.Id}");
        TriageResult? last = null;
        Exception? firstError = null;
        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            if (batch.CommandId is not null || batch.Error is not null)
            {
                continue;
            }
            var index = i;
            var label = $"batch {i + 1}/{batches.Count}: {batch.Count} instance(s)" + (batch.Region is null ? "" : $", {new AwsTarget(batch.AccountId, batch.Region)}");
            Decision Record(PatchBatch updated, PatchRequest p, WorkflowState wf, DateTimeOffset now, string verb, string detail) =>
                new(wf with { Patch = WithBatch(p, index, updated, now) }, verb, detail,
                    $"Approved: {p.Kind} of {p.InstanceIds.Count} instance(s) started in {batches.Count} command(s).")
                {
                    Quiet = index > 0,
                };
            TriageResult recorded;
            try
            {
                var command = await runbooks.SendPatchCommandAsync(patchRequest.InstanceIdsOf(batch), comment,
                    target: TargetOf(batch), cancellationToken: cancellationToken);
                recorded = await transitions.ApplyAsync(group.Id, actor, (g, now) =>
                    g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == patchRequest.Id
                        ? Record(batch with { CommandId = command.CommandId }, p, wf, now, "Patch started", $"{command.CommandId} ({label})") with
                        {
                            AuditAction = "patch_command_sent",
                            AwsRequestId = command.RequestId,
                        }
                        : Decision.Refuse("moved on"), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Any failure, ours or AWS's, is recorded on the batch: an approval never leaves a run without an outcome.
                LogAwsFailed(ex, "SendCommand", group.Id);
                firstError ??= ex;
                var why = AwsFailures.Describe(ex);
                recorded = await transitions.ApplyAsync(group.Id, Actor.System, (g, now) =>
                    g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == patchRequest.Id
                        ? Record(batch with { Error = why }, p, wf, now, "Patch batch refused", $"{label}: {why}") with
                        {
                            AuditAction = "patch_batch_failed",
                            Outcome = "failed",
                            AwsRequestId = AwsFailures.RequestId(ex),
                        }
                        : Decision.Refuse("moved on"), cancellationToken);
            }
            if (!recorded.Succeeded)
            {
                return recorded; // The watchdog or a person moved the run on; send nothing more.
            }
            last = recorded;
        }

        var current = last?.Group?.Workflow.Patch ?? patchRequest;
        var sent = current.CommandIds.Count;
        if (sent == 0)
        {
            var why = firstError is null ? "no batch could be sent" : AwsFailures.Describe(firstError);
            await transitions.ApplyAsync(group.Id, Actor.System, (g, _) =>
                g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == patchRequest.Id
                    ? new Decision(wf with { State = p.PreviousState, Patch = p with { Progress = null, Failure = why } }, "Patch failed to start", why, "")
                    {
                        AuditAction = "patch_failed_to_start",
                        Outcome = "failed",
                        AwsRequestId = firstError is null ? null : AwsFailures.RequestId(firstError),
                    }
                    : Decision.Refuse("already moved on"), cancellationToken);
            await outbox.EnqueueThreadNoteAsync(group.Id, new ChatNote($"The patch of {group.VulnerabilityId} could not start: {why}"),
                cancellationToken, dedupKey: $"patch-failed:{patchRequest.Id}");
            return TriageResult.Refused($"Approved, but SSM refused to start: {why}.", group);
        }

        var refused = current.EffectiveBatches.Where(b => b.Error is not null).ToArray();
        if (refused.Length > 0)
        {
            await outbox.EnqueueThreadNoteAsync(group.Id, new ChatNote(
                $"{refused.Sum(b => b.Count)} of {current.InstanceIds.Count} instance(s) could not be patched: " +
                string.Join("; ", refused.Select(b => b.Error).Distinct().Take(3)) + $". The other {sent} command(s) are running."),
                cancellationToken, dedupKey: $"patch-partial:{patchRequest.Id}");
        }
        var poll = new RemediationJob(RemediationJob.PatchPoll, group.Id) { RequestId = patchRequest.Id };
        await queue.EnqueueAsync(Queues.Remediation, poll.QueueId, poll.ToJson(), transitions.Now + PollInterval, cancellationToken);
        return last!;
    }

    private async Task<TriageResult> StartIsolationAsync(AlertGroup group, Actor actor, PatchRequest patchRequest, CancellationToken cancellationToken)
    {
        try
        {
            var started = new List<string>();
            foreach (var batch in patchRequest.EffectiveBatches)
            {
                foreach (var instance in patchRequest.InstanceIdsOf(batch))
                {
                    var execution = await runbooks.StartIsolationAsync(instance, DeterministicToken(patchRequest.Id, instance), TargetOf(batch), cancellationToken);
                    started.Add(execution.AutomationExecutionId);
                    await transitions.AuditAsync(group.Id, "isolation_started", $"{instance}: {execution.AutomationExecutionId}", execution.RequestId, cancellationToken);
                }
            }
            return await RecordStartedAsync(group.Id, actor, patchRequest.Id, string.Join(",", started), null, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAwsFailed(ex, "StartAutomationExecution", group.Id);
            var why = AwsFailures.Describe(ex);
            await transitions.ApplyAsync(group.Id, Actor.System, (g, _) =>
                g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == patchRequest.Id && p.CommandId is null
                    ? new Decision(wf with { State = p.PreviousState, Patch = p with { Progress = null, Failure = why } }, "Isolation failed to start", why, "")
                    {
                        AuditAction = "isolation_failed_to_start",
                        Outcome = "failed",
                        AwsRequestId = AwsFailures.RequestId(ex),
                    }
                    : Decision.Refuse("already moved on"), cancellationToken);
            await outbox.EnqueueThreadNoteAsync(group.Id, new ChatNote($"The isolation for {group.VulnerabilityId} could not start: {why}"),
                cancellationToken, dedupKey: $"patch-failed:{patchRequest.Id}");
            return TriageResult.Refused($"Approved, but SSM refused to start: {why}.", group);
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

    /// <summary>Polls SSM for every command of a running patch; returns when to poll again, or null when done.</summary>
    public async Task<DateTimeOffset?> PollAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        var group = await transitions.GetAsync(job.GroupId, cancellationToken);
        if (group?.Workflow is not { State: GroupState.Patching, Patch: { } patch } || patch.Id != job.RequestId || patch.Kind != "patch"
            || patch.CommandIds.Count == 0)
        {
            return null;
        }
        var batches = patch.EffectiveBatches.ToArray();
        var failures = new List<string>();
        string? awsRequestId = null;
        for (var i = 0; i < batches.Length; i++)
        {
            if (batches[i] is not { CommandId: { } commandId, Finished: false } batch)
            {
                continue;
            }
            var progress = await runbooks.GetCommandProgressAsync(commandId, TargetOf(batch), cancellationToken);
            awsRequestId = progress.RequestIds.Count > 0 ? progress.RequestIds[^1] : awsRequestId;
            var failed = progress.Failed + progress.TimedOut + progress.Cancelled;
            // SSM may not list every invocation yet: instances it does not mention are still running.
            batches[i] = batch with { Progress = new PatchProgress(batch.Count, progress.Succeeded, failed, Math.Max(0, batch.Count - progress.Succeeded - failed)) };
            failures.AddRange(progress.Instances.Where(s => s.IsFinished && s.Status != RunbookStatus.Success).Select(s => $"{s.InstanceId}: {s.Status}"));
        }
        var shown = Aggregate(batches);
        var finished = batches.All(b => b.Finished);
        if (shown == patch.Progress && !finished)
        {
            return transitions.Now + PollInterval;
        }
        var updated = await transitions.ApplyAsync(job.GroupId, Actor.System, (g, now) =>
            g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == patch.Id
                ? new Decision(wf with
                {
                    State = finished ? GroupState.Patched : GroupState.Patching,
                    Patch = p with { Batches = batches, Progress = shown, LastProgressAt = now },
                }, finished ? "Patch finished" : "Patch progress", shown + (batches.Length > 1 ? $" ({batches.Length} commands)" : ""), "")
                {
                    AuditAction = finished ? "patch_finished" : "patch_progress",
                    Outcome = finished && shown.Failed > 0 ? "partial" : "ok",
                    AwsRequestId = awsRequestId,
                    Quiet = !finished,
                }
                : Decision.Refuse("moved on"), cancellationToken);
        if (!updated.Succeeded || !finished)
        {
            return updated.Succeeded ? transitions.Now + PollInterval : null;
        }
        failures.AddRange(batches.Where(b => b.Error is not null).Select(b => $"{b.Count} instance(s) not started: {b.Error}"));
        await outbox.EnqueueThreadNoteAsync(job.GroupId, new ChatNote(
            $"Patch of {group.VulnerabilityId} finished: {shown}" + (batches.Length > 1 ? $" across {batches.Length} commands" : "") + "." +
            (failures.Count > 0 ? " Failed: " + string.Join("; ", failures.Take(10)) + (failures.Count > 10 ? $" and {failures.Count - 10} more" : "") + "." : "") +
            " Inspector will rescan; the card turns \"verified fixed\" when it closes the findings."),
            cancellationToken, dedupKey: $"patch-done:{patch.Id}");
        // Timed from when the patch finished, not from whenever this line runs.
        var finishedAt = updated.Group!.Workflow.Patch!.LastProgressAt ?? transitions.Now;
        var rescan = new RemediationJob(RemediationJob.RescanCheck, job.GroupId) { RequestId = patch.Id };
        await queue.EnqueueAsync(Queues.Remediation, rescan.QueueId, rescan.ToJson(), finishedAt + RescanWindow, cancellationToken);
        return null;
    }

    /// <summary>
    /// Fails a run that has not moved for <c>Remediation:StallTimeoutMinutes</c>: the card gets its
    /// actions back and the thread says why. Returns when to look again while the run is alive.
    /// </summary>
    public async Task<DateTimeOffset?> WatchAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        var stall = options.Value.StallTimeout;
        var result = await transitions.ApplyAsync(job.GroupId, Actor.System, (group, now) =>
        {
            if (group.Workflow is not { State: GroupState.Patching, Patch: { } p } wf || p.Id != job.RequestId)
            {
                return Decision.Refuse("done");
            }
            var lastMoved = p.LastProgressAt ?? p.DecidedAt ?? p.RequestedAt;
            if (now < lastMoved + stall)
            {
                return Decision.Refuse("alive");
            }
            var commands = p.CommandIds.Count == 0 && p.CommandId is { } legacy ? [legacy] : p.CommandIds;
            var why = $"no progress for {AlertCardBuilder.FormatDuration(now - lastMoved)}" +
                (commands.Count == 0 ? ", and no command was sent" : $" (last: {p.Progress?.ToString() ?? "nothing reported"})");
            return new Decision(wf with { State = p.PreviousState, Patch = p with { Failure = why } },
                p.Kind == "isolate" ? "Isolation stalled" : "Patch stalled", why, "")
            {
                AuditAction = p.Kind == "isolate" ? "isolation_stalled" : "patch_stalled",
                Outcome = "failed",
            };
        }, cancellationToken);
        if (result.Succeeded)
        {
            var p = result.Group!.Workflow.Patch!;
            var commands = p.CommandIds.Count == 0 && p.CommandId is { } legacy ? [legacy] : p.CommandIds;
            await outbox.EnqueueThreadNoteAsync(job.GroupId, new ChatNote(
                $"The {p.Kind} of {result.Group.VulnerabilityId} is marked failed: {p.Failure}. " +
                (commands.Count == 0 ? "Nothing was sent to SSM. "
                    : $"SSM may still be running what was sent ({string.Join(", ", commands.Take(5))}{(commands.Count > 5 ? $" and {commands.Count - 5} more" : "")}); check Run Command in the console. ") +
                "The card's actions are available again."),
                cancellationToken, dedupKey: $"stalled:{p.Id}");
            return null;
        }
        if (result.Group?.Workflow is { State: GroupState.Patching, Patch: { } alive } && alive.Id == job.RequestId)
        {
            return (alive.LastProgressAt ?? alive.DecidedAt ?? alive.RequestedAt) + stall;
        }
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
                ? new Decision(wf with { Patch = p with { CommandId = commandId, LastProgressAt = transitions.Now, Progress = new PatchProgress(p.InstanceIds.Count, 0, 0, p.InstanceIds.Count) } },
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
            return wf.Patch switch
            {
                { Approved: true, DecidedBy: { } by } => $"Already approved by {by.DisplayName}.",
                // The expiry step may have run a moment before this click: say what happened, not just "nothing pending".
                { Approved: false, DecidedBy: null } p when now >= p.ExpiresAt => "This request has expired; ask for a new one.",
                _ => "There is no patch request waiting for a decision.",
            };
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

    /// <summary>Open instances grouped by the account and region their findings name, so each call goes where the instance is.</summary>
    private static List<(AwsTarget? Target, string[] Ids)> TargetsOf(AlertGroup group, IReadOnlyList<string> instances)
    {
        var where = group.OpenMembers.Where(m => m.ResourceType == Findings.ResourceTypes.Ec2Instance)
            .GroupBy(m => m.ResourceId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return [.. instances
            .GroupBy(id => where.TryGetValue(id, out var m) && !string.IsNullOrEmpty(m.Region)
                ? new AwsTarget(string.IsNullOrEmpty(m.AccountId) ? null : m.AccountId, m.Region)
                : null)
            .Select(g => (g.Key, g.ToArray()))];
    }

    private static AwsTarget? TargetOf(PatchBatch batch) => batch.Region is { } region ? new AwsTarget(batch.AccountId, region) : null;

    private static PatchRequest WithBatch(PatchRequest p, int index, PatchBatch updated, DateTimeOffset now)
    {
        var batches = p.EffectiveBatches.ToArray();
        batches[index] = updated;
        return p with { Batches = batches, Progress = Aggregate(batches), LastProgressAt = now };
    }

    /// <summary>Progress over every batch; instances of a batch SSM refused count as failed.</summary>
    internal static PatchProgress Aggregate(IReadOnlyList<PatchBatch> batches)
    {
        int total = 0, succeeded = 0, failed = 0, running = 0;
        foreach (var b in batches)
        {
            total += b.Count;
            if (b.Error is not null)
            {
                failed += b.Count;
            }
            else if (b.Progress is { } p)
            {
                succeeded += p.Succeeded;
                failed += p.Failed;
                running += p.InProgress;
            }
            else
            {
                running += b.Count;
            }
        }
        return new PatchProgress(total, succeeded, failed, running);
    }

    private static Guid DeterministicToken(string requestId, string instance)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(requestId + "/" + instance));
        return new Guid(hash.AsSpan(0, 16));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Operation} failed for group {GroupId}")]
    private partial void LogAwsFailed(Exception ex, string operation, string groupId);
}
