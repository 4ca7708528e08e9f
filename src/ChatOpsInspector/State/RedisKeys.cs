using System.Text;
using StackExchange.Redis;

namespace ChatOpsInspector.State;

/// <summary>
/// Where every key lives. A Redis Cluster runs a multi-key command, script or MULTI only when all its
/// keys hash to one slot, so keys that change together share a hash tag:
/// <list type="bullet">
/// <item>a group, its members, its findings and event ids, its owner index, the owners set, its part of
/// the <c>groups</c> queue and of the audit stream all sit under the tag of the group's partition,
/// <c>{N}</c> with N = hash(group id) mod <see cref="StateOptions.Partitions"/>; the per-owner and
/// global lists are the union over partitions;</item>
/// <item>any other queue sits under its own tag <c>{q:name}</c>;</item>
/// <item>a rate-limited resource's keys sit under <c>{r:resource}</c>; plain keyed values carry no tag.</item>
/// </list>
/// Partitions spread over the shards, so a cluster shares the load; a single Redis sees the same keys.
/// </summary>
internal sealed class RedisKeys
{
    private readonly string _p;

    public RedisKeys(StateOptions options)
    {
        // A tag in the prefix would be the first tag of every key and put all of them in one slot.
        _p = StripTags(options.KeyPrefix);
        Partitions = options.Partitions;
    }

    public int Partitions { get; }

    /// <summary>The prefix as used in key names: the configured one without braces.</summary>
    public string Prefix => _p;

    public static string StripTags(string prefix) => prefix.Replace("{", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal);

    /// <summary>Stable across processes and versions (unlike string.GetHashCode): FNV-1a over UTF-8.</summary>
    public int PartitionOf(string id)
    {
        var hash = 2166136261u;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(id) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(id, buffer)] : Encoding.UTF8.GetBytes(id);
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 16777619u;
        }
        return (int)(hash % (uint)Partitions);
    }

    public string Tag(int partition) => _p + "{" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}";

    private string GroupTag(string groupId) => Tag(PartitionOf(groupId));

    public RedisKey Group(string groupId) => GroupTag(groupId) + "g:" + groupId;

    public RedisKey Members(string groupId) => GroupTag(groupId) + "gm:" + groupId;

    /// <summary>A finding's last updatedAt and group, kept in the partition of the group it was ingested into.</summary>
    public RedisKey Finding(int partition, string findingArn) => Tag(partition) + "f:" + findingArn;

    public RedisKey Event(int partition, string eventId) => Tag(partition) + "evt:" + eventId;

    public RedisKey OwnerIndex(int partition, string owner) => Tag(partition) + "owner:" + owner;

    public RedisKey Owners(int partition) => Tag(partition) + "owners";

    public RedisKey Audit(int partition) => Tag(partition) + "audit";

    /// <summary>Every owner's group counters of one partition (fields start with the owner).</summary>
    public RedisKey Counts(int partition) => Tag(partition) + "counts";

    /// <summary>Groups of one partition changed since SLA planning last looked, scored by change mark.</summary>
    public RedisKey Changed(int partition) => Tag(partition) + "changed";

    /// <summary>An owner's open groups of one partition, scored by SLA due time (ms).</summary>
    public RedisKey Due(int partition, string owner) => Tag(partition) + "due:" + owner;

    /// <summary>The groups of one vulnerability id (any case) in one partition.</summary>
    public RedisKey Vulnerability(int partition, string vulnerabilityId) =>
        Tag(partition) + "vuln:" + vulnerabilityId.Trim().ToUpperInvariant();

    /// <summary>Harmless key that /readyz writes through a script, once per partition.</summary>
    public RedisKey Probe(int partition) => Tag(partition) + "probe";

    /// <summary>The <c>groups</c> queue is split like the groups, so ingest can mark a group in the group's slot.</summary>
    public static bool IsPartitioned(string queue) => queue == Queues.Groups;

    public QueueKeys Queue(string queue, string id) =>
        IsPartitioned(queue) ? QueuePartition(queue, PartitionOf(id)) : QueueOf(queue);

    public QueueKeys QueuePartition(string queue, int partition) => new(Tag(partition), queue);

    /// <summary>A queue that is not partitioned: all its keys under its own tag.</summary>
    public QueueKeys QueueOf(string queue) => new(_p + "{q:" + queue + "}", queue);

    public RedisKey Value(string key) => _p + "kv:" + key;

    public RedisKey RateState(string resource) => _p + "{r:" + resource + "}rate";

    public RedisKey RateHeld(string resource, string holder) => _p + "{r:" + resource + "}slot:" + holder;

    internal readonly record struct QueueKeys(string Tag, string Name)
    {
        public RedisKey Due => Tag + "q:" + Name;
        public RedisKey Generation => Tag + "qg:" + Name;
        public RedisKey Payload => Tag + "qp:" + Name;
    }
}
