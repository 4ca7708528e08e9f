namespace ChatOpsInspector.State;

/// <summary>Small keyed values with expiry: conversation references, retry markers, rate-limit slots.</summary>
internal interface IKeyValueStore
{
    Task<string?> GetAsync(string key, CancellationToken cancellationToken);

    Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken);

    /// <summary>Sets the key only when absent; true when this caller set it (a claim or a lock).</summary>
    Task<bool> TrySetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>
    /// Extends the key's expiry only while it still holds <paramref name="value"/>: renewing a lease
    /// taken with <see cref="TrySetIfAbsentAsync"/>. False when the lease was lost (expired or taken).
    /// </summary>
    Task<bool> TryRenewAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>
    /// One slot per <paramref name="interval"/> on <paramref name="resource"/>, shared by all replicas.
    /// Returns when <paramref name="holder"/>'s slot starts: <paramref name="now"/> means go now; a
    /// later time is held for the holder, who asks again then and gets it, instead of polling for a
    /// free slot. A slot is never used sooner than an interval after the previous one was used; a
    /// held slot not used within <paramref name="interval"/> of its start lapses.
    /// </summary>
    Task<DateTimeOffset> ReserveSlotAsync(string resource, string holder, TimeSpan interval, DateTimeOffset now, CancellationToken cancellationToken);
}
