using System.Text.Json.Serialization;

namespace ChatOpsInspector.Workflow;

/// <summary>Where an alert group stands. Order matters only for display.</summary>
internal enum GroupState
{
    New,
    Acknowledged,
    Assigned,
    Suppressed,
    PatchRequested,
    Patching,
    Patched,
    Resolved,

    /// <summary>Isolation finished: the instances sit in their containment security group until released.</summary>
    Isolated,
}

internal static class GroupStates
{
    /// <summary>Still needs someone: neither resolved nor suppressed.</summary>
    public static bool IsOpen(this GroupState state) => state is not (GroupState.Resolved or GroupState.Suppressed);
}

/// <summary>The human workflow of one alert group, stored as one document and changed by compare-and-set.</summary>
internal sealed record WorkflowState
{
    public GroupState State { get; init; } = GroupState.New;
    public DateTimeOffset? AcknowledgedAt { get; init; }
    public Actor? AcknowledgedBy { get; init; }
    public Actor? AssignedTo { get; init; }
    public Actor? AssignedBy { get; init; }
    public DateTimeOffset? AssignedAt { get; init; }
    public Suppression? Suppression { get; init; }
    public PatchRequest? Patch { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public TimeSpan? TimeToFix { get; init; }
    public bool SlaBreached { get; init; }
    public int ReopenCount { get; init; }

    /// <summary>Newest Inspector <c>updatedAt</c> already written to the audit as detected/received.</summary>
    public DateTimeOffset? ReceivedThrough { get; init; }

    /// <summary>When the bot lifted a suppression: Inspector's SUPPRESSED findings older than this are stale.</summary>
    public DateTimeOffset? UnsuppressedAt { get; init; }

    /// <summary>Most recent changes, newest last, capped so the document stays small.</summary>
    public IReadOnlyList<HistoryEntry> History { get; init; } = [];

    public bool IsOpen => State.IsOpen();

    public WorkflowState Record(HistoryEntry entry) => this with { History = [.. History.TakeLast(MaxHistory - 1), entry] };

    public const int MaxHistory = 20;
}

internal sealed record HistoryEntry(DateTimeOffset At, string Action, Actor Actor, string? Detail = null);

internal sealed record Suppression(
    string Reason,
    DateTimeOffset ExpiresAt,
    Actor By,
    DateTimeOffset At,
    string? FilterArn,
    GroupState PreviousState)
{
    /// <summary>Every filter of the suppression (<see cref="FilterArn"/> is the first); empty until Inspector confirmed them all.</summary>
    public IReadOnlyList<string> FilterArns { get; init; } = [];

    /// <summary>"12 findings, 2 filters, eu-west-1", set with <see cref="FilterArns"/>.</summary>
    public string? Scope { get; init; }

    /// <summary>The filters to delete when the suppression ends, including those stored before there were several.</summary>
    public IReadOnlyList<string> AllFilterArns => FilterArn is null || FilterArns.Contains(FilterArn) ? FilterArns : [FilterArn, .. FilterArns];
}

internal sealed record PatchRequest
{
    public required string Id { get; init; }
    public required Actor RequestedBy { get; init; }
    public required DateTimeOffset RequestedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public required IReadOnlyList<string> InstanceIds { get; init; }
    public required GroupState PreviousState { get; init; }

    public const string PatchKind = "patch";
    public const string IsolateKind = "isolate";
    public const string ReleaseKind = "release";

    /// <summary>"patch" (SSM Run Command), "isolate" or "release" (SSM Automation, one execution per instance).</summary>
    public string Kind { get; init; } = PatchKind;

    /// <summary>True while the bot is still asking SSM which instances it can reach; nothing can be approved yet.</summary>
    public bool Checking { get; init; }

    /// <summary>What the approver approves, fixed at request time: the runbook, its operation and reboot option.</summary>
    public string? Document { get; init; }
    public string? Operation { get; init; }
    public string? RebootOption { get; init; }

    /// <summary>For a release: the state to return to once every instance is released (the state before isolation).</summary>
    public GroupState? AfterState { get; init; }

    [JsonIgnore]
    public bool IsAutomation => Kind is IsolateKind or ReleaseKind;

    /// <summary>The words for this run: "patch", "isolation", "release".</summary>
    [JsonIgnore]
    public string Noun => Kind switch
    {
        IsolateKind => "isolation",
        ReleaseKind => "release",
        _ => "patch",
    };

    /// <summary>Instances this run leaves in containment: isolated ones after an isolation, unreleased ones after a release.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> ContainedInstances => Kind switch
    {
        IsolateKind => [.. EffectiveBatches.Where(b => b.Progress is { Succeeded: > 0 }).SelectMany(InstanceIdsOf)],
        ReleaseKind => [.. EffectiveBatches.Where(b => b.Progress is not { Succeeded: > 0 }).SelectMany(InstanceIdsOf)],
        _ => [],
    };
    public Actor? DecidedBy { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public bool? Approved { get; init; }

    /// <summary>Single command of requests stored before batching, or the automation execution ids of an isolation.</summary>
    public string? CommandId { get; init; }
    public PatchProgress? Progress { get; init; }

    /// <summary>
    /// Slices of <see cref="InstanceIds"/>, one per SSM call: one account and region each, at most
    /// 50 instances (SendCommand's limit). Each records its command id once sent.
    /// </summary>
    public IReadOnlyList<PatchBatch> Batches { get; init; } = [];

    /// <summary>When the run last moved (approval, a command sent, progress seen): what the watchdog measures.</summary>
    public DateTimeOffset? LastProgressAt { get; init; }

    /// <summary>Why the bot gave up on this run (stalled, could not start).</summary>
    public string? Failure { get; init; }

    /// <summary>The batches, with a request stored before batching seen as one batch.</summary>
    public IReadOnlyList<PatchBatch> EffectiveBatches => Batches.Count > 0
        ? Batches
        : [new PatchBatch(0, InstanceIds.Count, null, null) { CommandId = CommandId, Progress = Progress }];

    public IReadOnlyList<string> InstanceIdsOf(PatchBatch batch) => [.. InstanceIds.Skip(batch.Start).Take(batch.Count)];

    public IReadOnlyList<string> CommandIds => [.. EffectiveBatches.Select(b => b.CommandId).OfType<string>()];
}

/// <summary>One SSM call's share of a run: <see cref="Count"/> instances from <see cref="Start"/>, in one account and region.</summary>
internal sealed record PatchBatch(int Start, int Count, string? AccountId, string? Region)
{
    public string? CommandId { get; init; }
    public PatchProgress? Progress { get; init; }

    /// <summary>Why SSM did not take this batch; its instances count as failed.</summary>
    public string? Error { get; init; }

    /// <summary>For an automation run: the execution's status as SSM reports it, and its failure message.</summary>
    public string? Detail { get; init; }

    public bool Finished => Error is not null || Progress is { Finished: true };
}

internal sealed record PatchProgress(int Total, int Succeeded, int Failed, int InProgress)
{
    public bool Finished => Succeeded + Failed >= Total && Total > 0;

    public override string ToString() =>
        $"{Succeeded}/{Total} done" + (Failed > 0 ? $", {Failed} failed" : "") + (InProgress > 0 ? $", {InProgress} running" : "");
}
