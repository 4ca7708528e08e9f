using ChatOpsInspector.Access;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Patch (SSM Run Command, AWS-RunPatchBaseline) and isolation (SSM Automation, one execution per
/// instance) with approval, and release of isolated instances. A request is recorded at once and SSM
/// is asked from the remediation queue which instances it can reach; an approver other than the
/// requester approves before it expires, and exactly one command per batch is sent — the approval is a
/// compare-and-set, so two concurrent approvals cannot both win. No chat request waits on AWS: checks,
/// starts and progress polling are durable steps of the remediation queue, and the card follows them.
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

    /// <summary>Which remediation this deployment offers on cards.</summary>
    public CardFeatures Features => CardFeatures.From(options.Value);

    public async Task<TriageResult> RequestAsync(TriageRequest request, CancellationToken cancellationToken)
    {
        var isolate = request.Action == CardAction.RequestIsolation;
        var settings = options.Value;
        if (isolate && !settings.IsolationEnabled)
        {
            return TriageResult.Refused("Isolation is not configured (Remediation:Isolation:Enabled or Remediation:IsolationDocument).");
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
                $"No open EC2 instance to {(isolate ? "isolate" : "patch")}. {AlertCardBuilder.Build(snapshot, transitions.Now).PatchUnavailableReason}", snapshot);
        }
        if (isolate && !(snapshot.InspectorScore >= IsolationMinScore))
        {
            return TriageResult.Refused($"Isolation is for findings scored {IsolationMinScore} or more.", snapshot);
        }
        var ttl = settings.ApprovalTtl;
        var requestId = Guid.NewGuid().ToString("n")[..10];
        var result = await transitions.ApplyAsync(request.GroupId, request.Actor, (group, now) =>
        {
            var wf = group.Workflow;
            var refusal = wf.State switch
            {
                GroupState.PatchRequested => $"A {wf.Patch!.Noun} request by {wf.Patch.RequestedBy.DisplayName} is already waiting for approval.",
                GroupState.Patching => $"A {wf.Patch?.Noun ?? "patch"} is already running.",
                GroupState.Isolated when isolate => "These instances are already isolated; release them first.",
                GroupState.Isolated => "The instances are isolated; release them before patching.",
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
                Kind = isolate ? PatchRequest.IsolateKind : PatchRequest.PatchKind,
                RequestedBy = request.Actor,
                RequestedAt = now,
                ExpiresAt = now + ttl,
                InstanceIds = instances,
                PreviousState = wf.State,
                Checking = true,
                Document = isolate ? settings.EffectiveIsolationDocument : settings.PatchDocument,
                Operation = isolate ? null : "Install",
                RebootOption = isolate ? null : settings.RebootOption,
            };
            var what = isolate ? "Isolation" : "Patch";
            return new Decision(wf with { State = GroupState.PatchRequested, Patch = patch }, $"{what} requested",
                $"{instances.Count} instance(s); checking SSM",
                $"{what} requested for {instances.Count} instance(s). Checking which ones SSM can reach; approvers are asked once that is done.")
            {
                AuditAction = isolate ? "isolation_requested" : "patch_requested",
            };
        }, cancellationToken);
        if (!result.Succeeded)
        {
            return result;
        }
        // The SSM check runs from the durable queue: a chat request never waits on AWS.
        var check = new RemediationJob(RemediationJob.RequestCheck, request.GroupId) { RequestId = requestId };
        await queue.EnqueueAsync(Queues.Remediation, check.QueueId, check.ToJson(), transitions.Now, cancellationToken);
        var expiry = new RemediationJob(RemediationJob.ApprovalExpiry, request.GroupId) { RequestId = requestId };
        await queue.EnqueueAsync(Queues.Remediation, expiry.QueueId, expiry.ToJson(), result.Group!.Workflow.Patch!.ExpiresAt, cancellationToken);
        return result;
    }

    /// <summary>
    /// From the remediation queue: asks SSM which requested instances it manages and can reach (every
    /// one, paged, in its own account and region), then opens the request for approval or says why not.
    /// </summary>
    public async Task CheckAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        var group = await transitions.GetAsync(job.GroupId, cancellationToken);
        if (group?.Workflow is not { State: GroupState.PatchRequested, Patch: { Checking: true } pending } || pending.Id != job.RequestId)
        {
            return;
        }
        var isolate = pending.Kind == PatchRequest.IsolateKind;
        var perBatch = isolate ? 1 : SsmRunbooks.MaxInstancesPerCommand;
        var online = new List<string>();
        var batches = new List<PatchBatch>();
        string? firstRequestId = null;
        string? failure = null;
        Exception? error = null;
        try
        {
            foreach (var (target, ids) in TargetsOf(group, pending.InstanceIds))
            {
                var managed = await runbooks.DescribeManagedInstancesAsync(ids, target, cancellationToken);
                firstRequestId ??= managed.RequestIds.Count > 0 ? managed.RequestIds[0] : null;
                foreach (var chunk in managed.Online.Chunk(perBatch))
                {
                    batches.Add(new PatchBatch(online.Count, chunk.Length, target?.AccountId, target?.Region));
                    online.AddRange(chunk);
                }
            }
        }
        catch (Exception ex) when (AwsFailures.Is(ex))
        {
            LogAwsFailed(ex, "DescribeInstanceInformation", group.Id);
            error = ex;
            failure = $"Could not check SSM for these instances: {AwsFailures.Describe(ex)}.";
        }
        var what = isolate ? "isolate" : "patch";
        if (failure is null && online.Count == 0)
        {
            failure = $"None of the {pending.InstanceIds.Count} instance(s) is managed by SSM and online, so the bot cannot {what} them. " +
                "Check the SSM agent and instance profile" + (isolate ? ", or isolate by hand." : ", or patch by hand.");
        }
        if (failure is not null)
        {
            var refused = await transitions.ApplyAsync(job.GroupId, Actor.System, (g, _) =>
                g.Workflow is { State: GroupState.PatchRequested, Patch: { Checking: true } p } wf && p.Id == pending.Id
                    ? new Decision(wf with { State = p.PreviousState, Patch = p with { Checking = false, Failure = failure } },
                        isolate ? "Isolation not possible" : "Patch not possible", failure, "")
                    {
                        AuditAction = isolate ? "isolation_check_failed" : "patch_check_failed",
                        Outcome = "failed",
                        AwsRequestId = error is null ? firstRequestId : AwsFailures.RequestId(error),
                    }
                    : Decision.Refuse("moved on"), cancellationToken);
            if (refused.Succeeded)
            {
                await outbox.EnqueueThreadNoteAsync(job.GroupId, new ChatNote($"{pending.RequestedBy.DisplayName} asked to {what} {group.VulnerabilityId}: {failure}"),
                    cancellationToken, dedupKey: $"patch-check:{pending.Id}");
            }
            return;
        }
        var skipped = pending.InstanceIds.Count - online.Count;
        var ready = await transitions.ApplyAsync(job.GroupId, Actor.System, (g, now) =>
            g.Workflow is { State: GroupState.PatchRequested, Patch: { Checking: true } p } wf && p.Id == pending.Id
                ? new Decision(wf with { Patch = p with { Checking = false, InstanceIds = online, Batches = batches } }, "Ready for approval",
                    $"{online.Count} instance(s)" + (skipped > 0 ? $", {skipped} not SSM-managed" : "") + $", approval expires {AlertCardBuilder.Format(p.ExpiresAt)}", "")
                {
                    AuditAction = isolate ? "isolation_checked" : "patch_checked",
                    AwsRequestId = firstRequestId,
                }
                : Decision.Refuse("moved on"), cancellationToken);
        if (!ready.Succeeded)
        {
            return;
        }
        var readyGroup = ready.Group!;
        var route = permissions.RouteOf(readyGroup);
        var approvers = route.Approvers.Select(Person.Parse).Where(p => !p.Names(pending.RequestedBy, anyEmail: true))
            .SelectMany(p => p.Ids).ToArray();
        var summary = AlertCardBuilder.ApprovalSummary(readyGroup);
        await outbox.EnqueueThreadNoteAsync(job.GroupId, new ChatNote(
            $"{pending.RequestedBy.DisplayName} asks to {what} {online.Count} instance(s) for {readyGroup.VulnerabilityId}" +
            (skipped > 0 ? $" ({skipped} not managed by SSM are left out)" : "") +
            $". {summary}. Approvers, please approve or reject on the card within {AlertCardBuilder.FormatDuration(pending.ExpiresAt - transitions.Now)}." +
            (approvers.Length == 0 ? " No approver is configured for this owner: set Routing approvers." : ""),
            approvers), cancellationToken, dedupKey: $"patch-request:{pending.Id}");
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
            var patch = wf.Patch with { DecidedBy = request.Actor, DecidedAt = now, Approved = true, LastProgressAt = now };
            return new Decision(wf with { State = GroupState.Patching, Patch = patch }, "Approved",
                $"{patch.Noun} of {patch.InstanceIds.Count} instance(s) requested by {patch.RequestedBy.DisplayName}",
                $"Approved. Starting the {patch.Noun} of {patch.InstanceIds.Count} instance(s); the card follows its progress.")
            {
                AuditAction = patch.Kind == PatchRequest.IsolateKind ? "isolation_approved" : "patch_approved",
            };
        }, cancellationToken);
        if (!decided.Succeeded)
        {
            return decided;
        }
        await ArmAsync(decided.Group!, cancellationToken);
        return decided;
    }

    /// <summary>
    /// Release of isolated instances: an approver runs the release runbook (for AWS's containment
    /// runbook, its Release mode restores the security groups it backed up).
    /// </summary>
    public async Task<TriageResult> ReleaseAsync(TriageRequest request, CancellationToken cancellationToken)
    {
        if (!options.Value.ReleaseEnabled)
        {
            return TriageResult.Refused("No release runbook is configured (Remediation:Isolation:ReleaseDocument).");
        }
        var releaseId = Guid.NewGuid().ToString("n")[..10];
        var decided = await transitions.ApplyAsync(request.GroupId, request.Actor, (group, now) =>
        {
            var wf = group.Workflow;
            if (wf.State != GroupState.Isolated || wf.Patch is not { IsAutomation: true } isolation)
            {
                return Decision.Refuse("Nothing is isolated here.");
            }
            var route = permissions.RouteOf(group);
            if (!permissions.IsAllowed(CardAction.Release, request.Actor, route))
            {
                return Decision.Refuse(permissions.RefusalFor(CardAction.Release, route));
            }
            var contained = isolation.ContainedInstances;
            var source = isolation.EffectiveBatches.Where(b => b.Count == 1).ToDictionary(b => isolation.InstanceIds[b.Start], StringComparer.Ordinal);
            var release = new PatchRequest
            {
                Id = releaseId,
                Kind = PatchRequest.ReleaseKind,
                RequestedBy = request.Actor,
                RequestedAt = now,
                ExpiresAt = now,
                DecidedBy = request.Actor,
                DecidedAt = now,
                Approved = true,
                InstanceIds = contained,
                Batches = [.. contained.Select((id, i) => source.TryGetValue(id, out var b) ? new PatchBatch(i, 1, b.AccountId, b.Region) : new PatchBatch(i, 1, null, null))],
                PreviousState = GroupState.Isolated,
                AfterState = isolation.Kind == PatchRequest.ReleaseKind ? isolation.AfterState : isolation.PreviousState,
                Document = options.Value.EffectiveReleaseDocument,
                LastProgressAt = now,
            };
            return new Decision(wf with { State = GroupState.Patching, Patch = release }, "Release requested",
                $"{contained.Count} instance(s) with {release.Document}",
                $"Releasing {contained.Count} instance(s); the card follows its progress.")
            {
                AuditAction = "release_requested",
            };
        }, cancellationToken);
        if (!decided.Succeeded)
        {
            return decided;
        }
        await ArmAsync(decided.Group!, cancellationToken);
        return decided;
    }

    /// <summary>Queues the start of an approved run and its watchdog; the AWS calls happen in <see cref="StartAsync"/>.</summary>
    private async Task ArmAsync(AlertGroup group, CancellationToken cancellationToken)
    {
        var patchRequest = group.Workflow.Patch!;
        // Armed before any AWS call: whatever happens next (a crash, a hung endpoint), the run cannot sit unnoticed.
        var watchdog = new RemediationJob(RemediationJob.Watchdog, group.Id) { RequestId = patchRequest.Id };
        await queue.EnqueueAsync(Queues.Remediation, watchdog.QueueId, watchdog.ToJson(), transitions.Now + options.Value.StallTimeout, cancellationToken);
        var start = new RemediationJob(RemediationJob.StartRun, group.Id) { RequestId = patchRequest.Id };
        await queue.EnqueueAsync(Queues.Remediation, start.QueueId, start.ToJson(), transitions.Now, cancellationToken);
    }

    /// <summary>From the remediation queue: sends what an approved run still has to send.</summary>
    public async Task StartAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        var group = await transitions.GetAsync(job.GroupId, cancellationToken);
        if (group?.Workflow is not { State: GroupState.Patching, Patch: { } run } || run.Id != job.RequestId)
        {
            return;
        }
        var actor = run.DecidedBy ?? Actor.System;
        await (run.IsAutomation
            ? StartAutomationsAsync(group, actor, run, cancellationToken)
            : SendBatchesAsync(group, actor, run, cancellationToken));
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
                    rebootOption: patchRequest.RebootOption, target: TargetOf(batch), cancellationToken: cancellationToken);
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

    /// <summary>
    /// Starts one automation per instance (isolation or release), recording each execution id as it is
    /// started; the same client token per request and instance makes a retried start start nothing new.
    /// An instance SSM refuses counts as failed; the others go ahead.
    /// </summary>
    private async Task<TriageResult> StartAutomationsAsync(AlertGroup group, Actor actor, PatchRequest run, CancellationToken cancellationToken)
    {
        var release = run.Kind == PatchRequest.ReleaseKind;
        var batches = run.EffectiveBatches;
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
            var instance = run.InstanceIds[batch.Start];
            Decision Record(PatchBatch updated, PatchRequest p, WorkflowState wf, DateTimeOffset now, string verb, string detail) =>
                new(wf with { Patch = WithBatch(p, index, updated, now) }, verb, detail, "") { Quiet = index > 0 };
            TriageResult recorded;
            try
            {
                var execution = await runbooks.StartContainmentAsync(instance, release, DeterministicToken(run.Id, instance), TargetOf(batch), cancellationToken);
                recorded = await transitions.ApplyAsync(group.Id, actor, (g, now) =>
                    g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == run.Id
                        ? Record(batch with { CommandId = execution.AutomationExecutionId }, p, wf, now,
                            release ? "Release started" : "Isolation started", $"{instance}: {execution.AutomationExecutionId} ({execution.DocumentName})") with
                        {
                            AuditAction = release ? "release_started" : "isolation_started",
                            AwsRequestId = execution.RequestId,
                        }
                        : Decision.Refuse("moved on"), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogAwsFailed(ex, "StartAutomationExecution", group.Id);
                firstError ??= ex;
                var why = AwsFailures.Describe(ex);
                recorded = await transitions.ApplyAsync(group.Id, Actor.System, (g, now) =>
                    g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == run.Id
                        ? Record(batch with { Error = why }, p, wf, now, release ? "Release refused" : "Isolation refused", $"{instance}: {why}") with
                        {
                            AuditAction = release ? "release_failed_to_start" : "isolation_failed_to_start",
                            Outcome = "failed",
                            AwsRequestId = AwsFailures.RequestId(ex),
                        }
                        : Decision.Refuse("moved on"), cancellationToken);
            }
            if (!recorded.Succeeded)
            {
                return recorded;
            }
            last = recorded;
        }

        var current = last?.Group?.Workflow.Patch ?? run;
        if (current.CommandIds.Count == 0)
        {
            var why = firstError is null ? "no automation could be started" : AwsFailures.Describe(firstError);
            await transitions.ApplyAsync(group.Id, Actor.System, (g, _) =>
                g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == run.Id
                    ? new Decision(wf with { State = p.PreviousState, Patch = p with { Failure = why } },
                        release ? "Release failed to start" : "Isolation failed to start", why, "")
                    {
                        AuditAction = release ? "release_failed" : "isolation_failed",
                        Outcome = "failed",
                    }
                    : Decision.Refuse("already moved on"), cancellationToken);
            await outbox.EnqueueThreadNoteAsync(group.Id, new ChatNote($"The {run.Noun} for {group.VulnerabilityId} could not start: {why}"),
                cancellationToken, dedupKey: $"patch-failed:{run.Id}");
            return TriageResult.Refused($"SSM refused to start the {run.Noun}: {why}.", group);
        }
        var poll = new RemediationJob(RemediationJob.PatchPoll, group.Id) { RequestId = run.Id };
        await queue.EnqueueAsync(Queues.Remediation, poll.QueueId, poll.ToJson(), transitions.Now + PollInterval, cancellationToken);
        return last!;
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
                AuditAction = (patch.Kind == PatchRequest.IsolateKind ? "isolation_" : "patch_") + (ownRequest ? "cancelled" : "rejected"),
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

    /// <summary>
    /// Polls SSM for every command of a running patch (ListCommandInvocations) or every execution of an
    /// isolation or release (DescribeAutomationExecutions); returns when to poll again, or null when done.
    /// </summary>
    public async Task<DateTimeOffset?> PollAsync(RemediationJob job, CancellationToken cancellationToken)
    {
        var group = await transitions.GetAsync(job.GroupId, cancellationToken);
        if (group?.Workflow is not { State: GroupState.Patching, Patch: { } patch } || patch.Id != job.RequestId
            || patch.CommandIds.Count == 0)
        {
            return null;
        }
        var batches = patch.EffectiveBatches.ToArray();
        var failures = new List<string>();
        var results = new List<string>();
        string? awsRequestId = null;
        if (patch.IsAutomation)
        {
            failures.AddRange(await PollAutomationsAsync(patch, batches, cancellationToken));
        }
        else
        {
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
                results.AddRange(progress.Instances.Select(s => $"{s.InstanceId}: {s.Status}"));
            }
        }
        var shown = Aggregate(batches);
        var finished = batches.All(b => b.Finished);
        if (shown == patch.Progress && !finished)
        {
            return transitions.Now + PollInterval;
        }
        var (endState, endVerb) = finished ? Outcome(patch, shown) : (GroupState.Patching, "");
        var updated = await transitions.ApplyAsync(job.GroupId, Actor.System, (g, now) =>
            g.Workflow is { State: GroupState.Patching, Patch: { } p } wf && p.Id == patch.Id
                ? new Decision(wf with
                {
                    State = endState,
                    Patch = p with { Batches = batches, Progress = shown, LastProgressAt = now },
                }, finished ? endVerb : $"{Capitalized(patch.Noun)} progress",
                    shown + (!patch.IsAutomation && batches.Length > 1 ? $" ({batches.Length} commands)" : ""), "")
                {
                    AuditAction = finished ? $"{patch.Noun}_finished" : $"{patch.Noun}_progress",
                    Outcome = finished && shown.Failed > 0 ? "partial" : "ok",
                    AwsRequestId = awsRequestId,
                    Quiet = !finished,
                    InstanceResults = results.Count > 0 ? results : null,
                }
                : Decision.Refuse("moved on"), cancellationToken);
        if (!updated.Succeeded || !finished)
        {
            return updated.Succeeded ? transitions.Now + PollInterval : null;
        }
        failures.AddRange(batches.Where(b => b.Error is not null).Select(b => $"{b.Count} instance(s) not started: {b.Error}"));
        var failedText = failures.Count > 0 ? " Failed: " + string.Join("; ", failures.Take(10)) + (failures.Count > 10 ? $" and {failures.Count - 10} more" : "") + "." : "";
        if (patch.IsAutomation)
        {
            await outbox.EnqueueThreadNoteAsync(job.GroupId, new ChatNote(
                $"{endVerb}: {patch.Noun} of {group.VulnerabilityId} finished, {shown}." + failedText +
                (endState == GroupState.Isolated ? " The instances stay in their containment security group until someone presses Release." : "")),
                cancellationToken, dedupKey: $"patch-done:{patch.Id}");
            return null;
        }
        await outbox.EnqueueThreadNoteAsync(job.GroupId, new ChatNote(
            $"Patch of {group.VulnerabilityId} finished: {shown}" + (batches.Length > 1 ? $" across {batches.Length} commands" : "") + "." + failedText +
            " Inspector will rescan; the card turns \"verified fixed\" when it closes the findings."),
            cancellationToken, dedupKey: $"patch-done:{patch.Id}");
        // Timed from when the patch finished, not from whenever this line runs.
        var finishedAt = updated.Group!.Workflow.Patch!.LastProgressAt ?? transitions.Now;
        var rescan = new RemediationJob(RemediationJob.RescanCheck, job.GroupId) { RequestId = patch.Id };
        await queue.EnqueueAsync(Queues.Remediation, rescan.QueueId, rescan.ToJson(), finishedAt + RescanWindow, cancellationToken);
        return null;
    }

    /// <summary>Where a finished run leaves the group, and the word for it.</summary>
    private static (GroupState State, string Verb) Outcome(PatchRequest run, PatchProgress shown) => run.Kind switch
    {
        // An isolation that contained nothing leaves the group as it was; a release that left some contained keeps it isolated.
        PatchRequest.IsolateKind => shown.Succeeded > 0 ? (GroupState.Isolated, "Isolated") : (run.PreviousState, "Isolation failed"),
        PatchRequest.ReleaseKind => shown.Failed == 0 ? (run.AfterState ?? GroupState.Acknowledged, "Released") : (GroupState.Isolated, "Release incomplete"),
        _ => (GroupState.Patched, "Patch finished"),
    };

    /// <summary>Reads every unfinished execution, per account and region, into its one-instance batch; returns per-instance failures.</summary>
    private async Task<List<string>> PollAutomationsAsync(PatchRequest run, PatchBatch[] batches, CancellationToken cancellationToken)
    {
        var failures = new List<string>();
        var open = batches.Select((b, i) => (Batch: b, Index: i)).Where(x => x.Batch is { CommandId: not null, Finished: false })
            .GroupBy(x => TargetOf(x.Batch));
        foreach (var where in open)
        {
            var states = (await runbooks.GetAutomationStatesAsync([.. where.Select(x => x.Batch.CommandId!)], where.Key, cancellationToken))
                .ToDictionary(s => s.ExecutionId, StringComparer.Ordinal);
            foreach (var (batch, index) in where)
            {
                if (!states.TryGetValue(batch.CommandId!, out var state))
                {
                    continue; // Not listed yet: still starting.
                }
                var ok = state.Status == RunbookStatus.Success;
                var done = state.IsFinished;
                batches[index] = batch with
                {
                    Progress = new PatchProgress(batch.Count, ok ? batch.Count : 0, done && !ok ? batch.Count : 0, done ? 0 : batch.Count),
                    Detail = state.RawStatus + (state.FailureMessage is { Length: > 0 } m ? ": " + m : ""),
                };
                if (done && !ok)
                {
                    failures.Add($"{run.InstanceIds[batch.Start]}: {state.RawStatus}" + (state.FailureMessage is { Length: > 0 } msg ? $" ({Cut(msg, 200)})" : ""));
                }
            }
        }
        return failures;
    }

    private static string Capitalized(string word) => string.Concat(word[..1].ToUpperInvariant(), word.AsSpan(1));

    private static string Cut(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");

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
                $"{Capitalized(p.Noun)} stalled", why, "")
            {
                AuditAction = $"{p.Noun}_stalled",
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
        if (group?.Workflow.Patch is not { Kind: PatchRequest.PatchKind } patch || patch.Id != job.RequestId || group.Workflow.State == GroupState.Resolved)
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

    private static string? CheckPending(AlertGroup group, TriageRequest request, DateTimeOffset now)
    {
        var wf = group.Workflow;
        if (wf.State != GroupState.PatchRequested || wf.Patch is not { } patch)
        {
            return wf.Patch switch
            {
                { Approved: true, DecidedBy: { } by, Kind: not PatchRequest.ReleaseKind } => $"Already approved by {by.DisplayName}.",
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
        if (patch.Checking && request.Action == CardAction.ApprovePatch)
        {
            return "SSM is still being checked for this request; approve once the card lists the instances.";
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
