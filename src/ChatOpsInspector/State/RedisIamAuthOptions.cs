namespace ChatOpsInspector.State;

/// <summary>
/// Section <c>State:IamAuth</c>: connect to ElastiCache or MemoryDB (Valkey / Redis OSS 7+) as an
/// IAM-enabled user, with a short-lived SigV4-presigned token as the password instead of a stored one.
/// </summary>
internal sealed class RedisIamAuthOptions
{
    public const string ElastiCache = "elasticache";
    public const string MemoryDb = "memorydb";

    /// <summary>
    /// The replication group / serverless cache id (ElastiCache) or the cluster name (MemoryDB) — not the
    /// endpoint host name. Empty: IAM authentication off.
    /// </summary>
    public string? CacheName { get; set; }

    /// <summary>The IAM-enabled user; ElastiCache and MemoryDB require its user id and user name to be equal.</summary>
    public string? User { get; set; }

    /// <summary><c>elasticache</c> (default) or <c>memorydb</c>: the SigV4 service the token is signed for.</summary>
    public string Service { get; set; } = ElastiCache;

    /// <summary>ElastiCache Serverless: the token then names the resource type, as AWS documents.</summary>
    public bool Serverless { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CacheName);
}
