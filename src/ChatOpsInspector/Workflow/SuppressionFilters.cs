using System.Globalization;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Findings;

namespace ChatOpsInspector.Workflow;

/// <summary>One Inspector2 filter of a suppression: created in <see cref="Region"/> under a name that is known before it exists.</summary>
internal sealed record FilterPart(string Region, string Name, FindingFilterCriteria Criteria, int Findings);

/// <summary>The filters that together match exactly a group's findings, or why none can.</summary>
internal sealed record FilterPlan(IReadOnlyList<FilterPart> Parts, string NamePrefix, string? Refusal = null)
{
    public int Findings => Parts.Sum(p => p.Findings);

    public IReadOnlyList<string> Regions => Parts.Select(p => p.Region).Distinct().Order(StringComparer.Ordinal).ToArray();

    /// <summary>"12 findings, 2 filters, eu-west-1": what the card and the answer report once Inspector confirmed.</summary>
    public string Scope => $"{Plural(Findings, "finding")}, {Plural(Parts.Count, "filter")}, {string.Join(", ", Regions.Select(r => r.Length == 0 ? "home region" : r))}";

    private static string Plural(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n.ToString(CultureInfo.InvariantCulture)} {noun}s";
}

/// <summary>
/// Derives Inspector2 suppression filters from a group. Criteria are AND-ed across fields and OR-ed
/// within one list, and every list holds at most ten entries, so a group is cut into parts: one per
/// region (filters are regional), account and value of the owner's routing tags, each part holding at
/// most ten resources (and ten repositories, functions or file paths). Each part names the group's
/// resources, so a filter never reaches beyond the group however its other criteria read.
/// </summary>
internal static class SuppressionFilters
{
    private const int Max = FindingFilterCriteria.MaxListEntries;

    /// <summary><c>coi-&lt;group&gt;-&lt;suppressed at, epoch s&gt;-</c>: the same for every retry of one suppression, new for the next.</summary>
    public static string PrefixOf(string groupId, DateTimeOffset suppressedAt) =>
        $"coi-{groupId}-{suppressedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}-";

    public static FilterPlan Plan(AlertGroup group, IReadOnlyList<string> routeTagKeys, DateTimeOffset suppressedAt)
    {
        var prefix = PrefixOf(group.Id, suppressedAt);
        var meta = group.Meta;
        var (baseCriteria, missing) = meta.Type switch
        {
            FindingType.NetworkReachability when meta.NetworkProtocol is null || meta.PortBegin is null || meta.PortEnd is null =>
                (null, "its findings name no protocol and port range"),
            FindingType.NetworkReachability => (new FindingFilterCriteria
            {
                FindingType = [StringFilter.EqualTo("NETWORK_REACHABILITY")],
                NetworkProtocol = [StringFilter.EqualTo(meta.NetworkProtocol)],
                PortRange = [new PortRangeFilter(meta.PortBegin, meta.PortEnd)],
            }, null),
            FindingType.CodeVulnerability when string.IsNullOrEmpty(meta.CodeDetectorName) =>
                (null, "its findings name no code detector"),
            FindingType.CodeVulnerability => (new FindingFilterCriteria
            {
                FindingType = [StringFilter.EqualTo("CODE_VULNERABILITY")],
                CodeVulnerabilityDetectorName = [StringFilter.EqualTo(meta.CodeDetectorName)],
            }, null),
            _ => (new FindingFilterCriteria
            {
                FindingType = [StringFilter.EqualTo("PACKAGE_VULNERABILITY")],
                VulnerabilityId = [StringFilter.EqualTo(meta.VulnerabilityId)],
            }, (string?)null),
        };
        if (baseCriteria is null)
        {
            return new([], prefix, $"No Inspector filter can match exactly these findings: {missing}. Suppress them in the Inspector console instead.");
        }

        // Inspector filters suppress Inspector's findings only; other products' findings stay as they are.
        var members = group.Members
            .Where(m => m.Status != FindingStatus.Closed && m.ProductArn is null)
            .OrderBy(m => m.ResourceId, StringComparer.Ordinal)
            .ToArray();
        if (members.Length == 0)
        {
            return new([], prefix, "There is no open Inspector finding in this alert to suppress.");
        }
        if (members.Any(m => m.ResourceId.Length is 0 or > 1024))
        {
            return new([], prefix, "A resource id of this alert is not one Inspector's filters accept. Suppress it in the Inspector console instead.");
        }

        var parts = new List<FilterPart>();
        var partitions = members
            .GroupBy(m => (Region: m.Region.Length > 0 ? m.Region : meta.Region, m.AccountId, Tags: TagSignature(m, routeTagKeys)))
            .OrderBy(p => p.Key.Region, StringComparer.Ordinal).ThenBy(p => p.Key.AccountId, StringComparer.Ordinal).ThenBy(p => p.Key.Tags, StringComparer.Ordinal);
        foreach (var partition in partitions)
        {
            foreach (var chunk in Pack(partition))
            {
                var criteria = baseCriteria with
                {
                    AwsAccountId = [StringFilter.EqualTo(partition.Key.AccountId)],
                    ResourceId = Distinct(chunk, m => m.ResourceId)!,
                    ResourceTags = partition.Key.Tags.Length == 0 ? null
                        : routeTagKeys.Select(k => MapFilter.EqualTo(k, chunk[0].Tags[k])).ToArray(),
                    EcrImageRepositoryName = Distinct(chunk, m => m.EcrRepository),
                    LambdaFunctionName = Distinct(chunk, m => m.LambdaFunction),
                    CodeVulnerabilityFilePath = meta.Type == FindingType.CodeVulnerability ? Distinct(chunk, m => m.CodeFilePath) : null,
                };
                parts.Add(new FilterPart(partition.Key.Region, prefix + (parts.Count + 1).ToString(CultureInfo.InvariantCulture), criteria,
                    chunk.Count));
            }
        }
        return new(parts, prefix);
    }

    /// <summary>The values of the owner's routing tags, or "" when a member lacks one (then tags are left out).</summary>
    private static string TagSignature(GroupMember member, IReadOnlyList<string> keys) =>
        keys.Count == 0 || !keys.All(member.Tags.ContainsKey) || keys.Any(k => member.Tags[k].Length > 256)
            ? ""
            : string.Join("\n", keys.Select(k => $"{k}={member.Tags[k]}"));

    /// <summary>Greedy: a member joins the current chunk unless one of its lists would pass ten values.</summary>
    private static IEnumerable<List<GroupMember>> Pack(IEnumerable<GroupMember> members)
    {
        var chunk = new List<GroupMember>();
        foreach (var member in members)
        {
            var candidate = new List<GroupMember>(chunk) { member };
            if (chunk.Count > 0 && !Fits(candidate))
            {
                yield return chunk;
                candidate = [member];
            }
            chunk = candidate;
        }
        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    private static bool Fits(List<GroupMember> chunk) =>
        Count(chunk, m => m.ResourceId) <= Max && Count(chunk, m => m.EcrRepository) <= Max
        && Count(chunk, m => m.LambdaFunction) <= Max && Count(chunk, m => m.CodeFilePath) <= Max;

    private static int Count(List<GroupMember> chunk, Func<GroupMember, string?> value) =>
        chunk.Select(value).Where(v => !string.IsNullOrEmpty(v)).Distinct(StringComparer.Ordinal).Count();

    /// <summary>The chunk's values as EQUALS entries; null when some member has none (the criterion would drop it).</summary>
    private static StringFilter[]? Distinct(List<GroupMember> chunk, Func<GroupMember, string?> value) =>
        chunk.Any(m => string.IsNullOrEmpty(value(m)) || value(m)!.Length > 1024)
            ? null
            : chunk.Select(m => value(m)!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(StringFilter.EqualTo).ToArray();
}
