using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;

namespace ChatOpsInspector.Workflow;

/// <summary>What someone asked to do to an alert group, from a button, a modal or a typed command.</summary>
internal sealed record TriageRequest(string GroupId, CardAction Action, Actor Actor)
{
    /// <summary>For Assign: the person to assign.</summary>
    public Actor? Assignee { get; init; }

    /// <summary>For Suppress (required) and Reject (optional).</summary>
    public string? Reason { get; init; }

    /// <summary>For Suppress: when the suppression ends.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>For Approve/Reject: the request being decided, so a stale card cannot approve a newer one.</summary>
    public string? PatchRequestId { get; init; }
}

/// <summary>Outcome of a triage request: a message for the person who asked, and the group as it now is.</summary>
internal sealed record TriageResult(bool Succeeded, string Message, AlertGroup? Group)
{
    public static TriageResult Refused(string message, AlertGroup? group = null) => new(false, message, group);
    public static TriageResult Done(string message, AlertGroup group) => new(true, message, group);
}
