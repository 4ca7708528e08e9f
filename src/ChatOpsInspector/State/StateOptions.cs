namespace ChatOpsInspector.State;

/// <summary>Section <c>State</c>.</summary>
internal sealed class StateOptions
{
    public const string Section = "State";

    /// <summary>
    /// StackExchange.Redis configuration string; empty selects the in-memory store (local mode).
    /// A single endpoint, a cluster configuration endpoint or several nodes, with <c>ssl=true</c>,
    /// <c>user=</c>, <c>password=</c> as needed.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>
    /// Put before every key. Braces are dropped: the store adds its own hash tags, and a tag in the
    /// prefix would put every key in one slot (one shard of a cluster).
    /// </summary>
    public string KeyPrefix { get; set; } = "coi:";

    /// <summary>
    /// How many hash-tag partitions groups are spread over (see <see cref="RedisKeys"/>). Fixed for the
    /// life of a store: data written under one number is not found under another. 16 spreads over up
    /// to a handful of shards; raise it before first use for bigger clusters.
    /// </summary>
    public int Partitions { get; set; } = 16;

    /// <summary>ACL user name, when not in <see cref="Redis"/>; set from a secret store, never in appsettings.</summary>
    public string? User { get; set; }

    /// <summary>ACL password or AUTH token, when not in <see cref="Redis"/>; set from a secret store, never in appsettings.</summary>
    public string? Password { get; set; }

    /// <summary>PEM file of the CA that signed the server certificate (turns TLS on); empty: the system trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>ElastiCache / MemoryDB IAM authentication (a presigned token as the password); off unless <c>CacheName</c> is set.</summary>
    public RedisIamAuthOptions IamAuth { get; set; } = new();

    /// <summary>How long a resolved group's data is kept after resolution.</summary>
    public int ClosedGroupTtlDays { get; set; } = 90;

    /// <summary>How long event ids are remembered for de-duplication (EventBridge redelivers within hours).</summary>
    public int EventDedupHours { get; set; } = 48;

    /// <summary>Days a finding's last <c>updatedAt</c> is remembered, so a late redelivery is still a duplicate.</summary>
    public int FindingTtlDays { get; set; } = 400;

    public bool UseRedis => !string.IsNullOrWhiteSpace(Redis);
}
