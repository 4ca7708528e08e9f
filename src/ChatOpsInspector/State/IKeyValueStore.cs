namespace ChatOpsInspector.State;

/// <summary>Small keyed values with expiry: conversation references, retry markers, rate-limit slots.</summary>
internal interface IKeyValueStore
{
    Task<string?> GetAsync(string key, CancellationToken cancellationToken);

    Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken);

    /// <summary>Sets the key only when absent; true when this caller set it (a claim or a lock).</summary>
    Task<bool> TrySetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken);
}
