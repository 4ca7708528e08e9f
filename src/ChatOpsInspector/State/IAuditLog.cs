namespace ChatOpsInspector.State;

/// <summary>Append-only record of every state change, kept as remediation evidence.</summary>
internal interface IAuditLog
{
    Task AppendAsync(AuditRecord record, CancellationToken cancellationToken);

    /// <summary>Records with <paramref name="from"/> ≤ At &lt; <paramref name="to"/>, oldest first.</summary>
    Task<IReadOnlyList<AuditRecord>> ReadAsync(DateTimeOffset from, DateTimeOffset to, int max, CancellationToken cancellationToken);

    /// <summary>
    /// One page of records with <paramref name="from"/> ≤ At &lt; <paramref name="to"/>, oldest first, each
    /// with its place in the hash chain; <see cref="AuditPage.Next"/> continues after the last one.
    /// </summary>
    Task<AuditPage> ReadPageAsync(DateTimeOffset from, DateTimeOffset to, int max, string? cursor, CancellationToken cancellationToken);

    /// <summary>Recomputes every hash chain still held and reports the first link that does not hold.</summary>
    Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken);

    /// <summary>The chains (stream partitions) the archiver walks.</summary>
    IReadOnlyList<string> Chains { get; }

    /// <summary>Up to <paramref name="max"/> records of a chain not archived yet, oldest first, as stored.</summary>
    Task<IReadOnlyList<StoredAuditEntry>> ReadUnarchivedAsync(string chain, int max, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a chain is archived through <paramref name="lastId"/> and drops those records, and
    /// only those, from the store: a record not archived yet is never removed.
    /// </summary>
    Task MarkArchivedAsync(string chain, string lastId, CancellationToken cancellationToken);
}

/// <summary>A record exactly as stored: its bytes are what its hash covers.</summary>
internal sealed record StoredAuditEntry(string Id, byte[] Record, string? PrevHash, string? Hash);

/// <summary>A stored record with its stream id and chain link: <c>Hash = SHA-256(PrevHash + "\n" + stored JSON)</c>.</summary>
internal sealed record ChainedAuditRecord(AuditRecord Record, string Id, string? PrevHash, string? Hash);

internal sealed record AuditPage(IReadOnlyList<ChainedAuditRecord> Records, string? Next);

/// <summary>Outcome of re-hashing the audit chains: the first broken link, if any.</summary>
internal sealed record AuditVerification
{
    public required bool Intact { get; init; }
    public required long Checked { get; init; }

    /// <summary>Records written before records were chained: present, but not covered by a hash.</summary>
    public long Unchained { get; init; }
    public IReadOnlyList<AuditChainHead> Chains { get; init; } = [];
    public AuditBrokenLink? FirstBroken { get; init; }
}

/// <summary>One chain (one stream partition): where it starts (after archiving) and its newest hash.</summary>
internal sealed record AuditChainHead(string Chain, string? FirstId, string? FirstPrevHash, string? LastId, string? LastHash, long Records);

internal sealed record AuditBrokenLink(string Chain, string Id, string Reason, string? Expected, string? Found);

/// <summary>An actor named inside a record (a requester, an approver): identity is platform, workspace or tenant, and id.</summary>
internal sealed record AuditActor(string Platform, string? Workspace, string Id, string? Name)
{
    public override string ToString() => $"{Platform}/{Workspace}/{Id}";
}

/// <summary>
/// Who did what, when, from which chat, with what outcome, about which findings. Fields added over time
/// are optional, so records written by earlier versions still read.
/// </summary>
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

    /// <summary>The findings concerned (at most <c>AuditEvidence.MaxListed</c>); <see cref="FindingCount"/> counts them all.</summary>
    public IReadOnlyList<string>? FindingArns { get; init; }
    public int? FindingCount { get; init; }
    public IReadOnlyList<string>? ResourceIds { get; init; }
    public IReadOnlyList<string>? AccountIds { get; init; }
    public IReadOnlyList<string>? Regions { get; init; }
    public string? Severity { get; init; }

    /// <summary>Amazon Inspector's first observation of the earliest finding concerned.</summary>
    public DateTimeOffset? DetectedAt { get; init; }
    public DateTimeOffset? SlaDueAt { get; init; }

    /// <summary>Set once the SLA is decided: false when it was missed (at <see cref="At"/>), true when fixed in time.</summary>
    public bool? SlaMet { get; init; }

    /// <summary>When Amazon Inspector closed the last finding: the fix verified by a rescan.</summary>
    public DateTimeOffset? FixedAt { get; init; }

    /// <summary>The card's platform message id (Slack ts, Teams activity id) for an alert posted.</summary>
    public string? MessageId { get; init; }
    public string? Reason { get; init; }
    public DateTimeOffset? Until { get; init; }
    public IReadOnlyList<string>? FilterArns { get; init; }
    public string? PatchRequestId { get; init; }
    public AuditActor? RequestedBy { get; init; }
    public AuditActor? ApprovedBy { get; init; }
    public IReadOnlyList<string>? Documents { get; init; }
    public IReadOnlyList<string>? CommandIds { get; init; }

    /// <summary>Per instance, <c>i-…: Success</c> / <c>Failed</c> / …, as SSM reported it.</summary>
    public IReadOnlyList<string>? InstanceResults { get; init; }
}
