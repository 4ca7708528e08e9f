using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.State;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// The one way workflow documents change: read, decide, compare-and-set with an audit record in the
/// same atomic step, and re-decide on a lost race. A second identical click therefore sees the first
/// one's result and is refused, on any replica.
/// </summary>
internal sealed class WorkflowTransitions(IAlertStore store, IWorkQueue queue, IAuditLog audit, TimeProvider time, IOptions<RemediationOptions> remediation)
{
    private readonly RemediationDocuments _documents = new(remediation.Value.PatchDocument,
        remediation.Value.IsolationEnabled ? remediation.Value.IsolationDocument : null);

    private const int MaxAttempts = 8;

    public DateTimeOffset Now => time.GetUtcNow();

    public Task<AlertGroup?> GetAsync(string groupId, CancellationToken cancellationToken) => store.GetGroupAsync(groupId, cancellationToken);

    public async Task<TriageResult> ApplyAsync(string groupId, Actor actor, Func<AlertGroup, DateTimeOffset, Decision> decide, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var group = await store.GetGroupAsync(groupId, cancellationToken);
            if (group is null)
            {
                return TriageResult.Refused(TriageService.NotVisible);
            }
            var now = time.GetUtcNow();
            var decision = decide(group, now);
            if (decision.Refusal is { } refusal)
            {
                return TriageResult.Refused(refusal, group);
            }
            var next = decision.Quiet ? decision.Next! : decision.Next!.Record(new HistoryEntry(now, decision.Verb, actor, decision.Detail));
            var audit = new AuditRecord
            {
                At = now,
                Action = decision.AuditAction ?? decision.Verb.ToLowerInvariant().Replace(' ', '_'),
                ActorPlatform = actor.Platform,
                ActorId = actor.UserId,
                ActorName = actor.DisplayName,
                ActorWorkspace = actor.Workspace,
                Channel = actor.Channel,
                GroupId = group.Id,
                Owner = group.Owner,
                VulnerabilityId = group.VulnerabilityId,
                Detail = decision.Detail,
                Outcome = decision.Outcome,
                AwsRequestId = decision.AwsRequestId,
            }.About(group).Of(group.Workflow, next, _documents) with
            {
                InstanceResults = decision.InstanceResults,
            };
            if (await store.TryUpdateWorkflowAsync(group.Id, group.Version, next, audit, cancellationToken))
            {
                await queue.TouchAsync(Queues.Groups, group.Id, now, cancellationToken);
                return TriageResult.Done(decision.Message, group with { Workflow = next, Version = group.Version + 1 });
            }
        }
        return TriageResult.Refused("The alert is changing right now; try again in a moment.");
    }

    /// <summary>Records a step that does not change the workflow document (an AWS call's outcome).</summary>
    public async Task AuditAsync(string groupId, string action, string? detail, string? awsRequestId, CancellationToken cancellationToken, string outcome = "ok")
    {
        var group = await store.GetGroupAsync(groupId, cancellationToken);
        var record = new AuditRecord
        {
            At = time.GetUtcNow(),
            Action = action,
            ActorPlatform = Actor.System.Platform,
            ActorId = Actor.System.UserId,
            ActorName = Actor.System.DisplayName,
            GroupId = groupId,
            Owner = group?.Owner,
            VulnerabilityId = group?.VulnerabilityId,
            Detail = detail,
            Outcome = outcome,
            AwsRequestId = awsRequestId,
        };
        if (group is not null)
        {
            record = record.About(group).Of(group.Workflow, group.Workflow, _documents);
        }
        await audit.AppendAsync(record, cancellationToken);
    }
}

/// <summary>What a transition decided: the next workflow document and how to describe it, or a refusal.</summary>
internal sealed record Decision(WorkflowState? Next, string Verb, string? Detail, string Message, string? Refusal = null)
{
    public string? AuditAction { get; init; }
    public string Outcome { get; init; } = "ok";
    public string? AwsRequestId { get; init; }

    /// <summary>Per-instance outcome of an SSM run, for the audit record (<c>i-…: Success</c>).</summary>
    public IReadOnlyList<string>? InstanceResults { get; init; }

    /// <summary>Audited but kept out of the card's short history (one of many similar steps, such as a command batch).</summary>
    public bool Quiet { get; init; }

    public static Decision Refuse(string why) => new(null, "", null, "", why);
}
