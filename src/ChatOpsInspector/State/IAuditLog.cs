namespace ChatOpsInspector.State;

/// <summary>Append-only record of every state change, kept as remediation evidence.</summary>
internal interface IAuditLog
{
    Task AppendAsync(AuditRecord record, CancellationToken cancellationToken);

    /// <summary>Records with <paramref name="from"/> ≤ At &lt; <paramref name="to"/>, oldest first.</summary>
    Task<IReadOnlyList<AuditRecord>> ReadAsync(DateTimeOffset from, DateTimeOffset to, int max, CancellationToken cancellationToken);
}

/// <summary>Who did what, when, from which chat, with what outcome.</summary>
internal sealed record AuditRecord
{
    public required DateTimeOffset At { get; init; }
    public required string Action { get; init; }
    public required string ActorPlatform { get; init; }
    public required string ActorId { get; init; }
    public required string ActorName { get; init; }

    /// <summary>The actor's Slack team or Entra tenant: with platform and id, who acted.</summary>
    public string? ActorWorkspace { get; init; }
    public string? Channel { get; init; }
    public string? GroupId { get; init; }
    public string? Owner { get; init; }
    public string? VulnerabilityId { get; init; }
    public string? Detail { get; init; }
    public string Outcome { get; init; } = "ok";
    public string? AwsRequestId { get; init; }
}
