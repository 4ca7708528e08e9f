namespace ChatOpsInspector.Commands;

/// <summary>Where Inspector is not scanning: the answer to <c>/vulns coverage</c>.</summary>
internal interface ICoverageSource
{
    /// <summary>False while no real source is wired, so commands can say so instead of "no gaps".</summary>
    bool IsConfigured => true;

    /// <summary>Resources not scanned, for one owner or (null) all of them.</summary>
    Task<IReadOnlyList<CoverageGap>> GapsAsync(string? owner, CancellationToken cancellationToken);
}

/// <summary>A resource Inspector does not scan, and why (e.g. UNMANAGED_EC2_INSTANCE).</summary>
internal sealed record CoverageGap(string ResourceType, string ResourceId, string AccountId, string Reason);

/// <summary>Used until an Inspector2 coverage client is registered.</summary>
internal sealed class NotConfiguredCoverageSource : ICoverageSource
{
    public bool IsConfigured => false;

    public Task<IReadOnlyList<CoverageGap>> GapsAsync(string? owner, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<CoverageGap>>([]);
}
