using System.Text.RegularExpressions;
using ChatOpsInspector.Findings;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Routing;

/// <summary>Maps a finding to its owner with the ordered rules of <see cref="RoutingOptions"/>.</summary>
internal sealed class FindingRouter
{
    private readonly CompiledRule[] _rules;
    private readonly RouteTarget _default;
    private readonly IReadOnlyDictionary<string, AccountInfo> _accounts;
    private readonly Dictionary<string, OwnerRoute> _owners = new(StringComparer.OrdinalIgnoreCase);

    public FindingRouter(IOptions<RoutingOptions> routing, IOptions<Dictionary<string, AccountInfo>> accounts)
    {
        _accounts = accounts.Value;
        _default = routing.Value.Default;
        _rules = routing.Value.Rules.Select((r, i) => new CompiledRule(r, r.Name ?? $"Routing:Rules:{i}")).ToArray();

        // An owner named by several rules keeps the first definition, mirroring first-match routing.
        foreach (var rule in _rules)
        {
            _owners.TryAdd(rule.Rule.Target.Owner, OwnerRoute.From(rule.Rule.Target, rule.Label, null));
        }
        _owners.TryAdd(_default.Owner, OwnerRoute.From(_default, "Routing:Default", null));
    }

    public IReadOnlyCollection<OwnerRoute> Owners => _owners.Values;

    /// <summary>The owner configured under this name (case-insensitive), or null.</summary>
    public OwnerRoute? FindOwner(string owner) => _owners.GetValueOrDefault(owner);

    /// <summary>The security team that catches unrouted findings; it may suppress anything.</summary>
    public OwnerRoute DefaultOwner => _owners[_default.Owner];

    public AccountInfo? Account(string accountId) => _accounts.GetValueOrDefault(accountId);

    /// <summary>
    /// Tag keys every finding of this owner carries: those required by each of the owner's rules. None for
    /// the default owner, which also catches findings no rule matched.
    /// </summary>
    public IReadOnlyList<string> TagKeysOf(string owner)
    {
        if (string.Equals(owner, _default.Owner, StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }
        var rules = _rules.Where(r => string.Equals(r.Rule.Target.Owner, owner, StringComparison.OrdinalIgnoreCase)).ToArray();
        return rules.Length == 0
            ? []
            : rules.Select(r => (IEnumerable<string>)r.Rule.Tags.Keys).Aggregate((a, b) => a.Intersect(b, StringComparer.Ordinal)).Order(StringComparer.Ordinal).ToArray();
    }

    public OwnerRoute Route(Finding finding) => Route(finding.AwsAccountId, finding.Resources);

    /// <summary>Routes resources of an account; also used for things that are not findings (coverage gaps).</summary>
    public OwnerRoute Route(string accountId, IReadOnlyList<FindingResource> resources)
    {
        var environment = Account(accountId)?.Environment;
        foreach (var rule in _rules)
        {
            if (rule.Matches(accountId, resources, environment))
            {
                return OwnerRoute.From(rule.Rule.Target, rule.Label, environment);
            }
        }
        return OwnerRoute.From(_default, "Routing:Default", environment);
    }

    private sealed class CompiledRule(RoutingRule rule, string label)
    {
        private readonly Regex[] _lambdaGlobs = rule.LambdaFunctions.Select(Glob).ToArray();

        public RoutingRule Rule => rule;
        public string Label => label;

        public bool Matches(string accountId, IReadOnlyList<FindingResource> resources, string? accountEnvironment)
        {
            if (rule.AccountIds.Count > 0 && !rule.AccountIds.Contains(accountId))
            {
                return false;
            }
            if (rule.Environments.Count > 0
                && !rule.Environments.Contains(accountEnvironment ?? "", StringComparer.OrdinalIgnoreCase))
            {
                return false;
            }
            // Resource conditions hold when any of the finding's resources satisfies all of them.
            return resources.Any(ResourceMatches);
        }

        private bool ResourceMatches(FindingResource resource)
        {
            if (rule.Regions.Count > 0 && !rule.Regions.Contains(resource.Region, StringComparer.OrdinalIgnoreCase))
            {
                return false;
            }
            if (rule.ResourceTypes.Count > 0 && !rule.ResourceTypes.Contains(resource.Type, StringComparer.OrdinalIgnoreCase))
            {
                return false;
            }
            if (rule.EcrRepositories.Count > 0
                && (resource.EcrRepository is null || !rule.EcrRepositories.Contains(resource.EcrRepository)))
            {
                return false;
            }
            if (_lambdaGlobs.Length > 0
                && (resource.LambdaFunction is null || !_lambdaGlobs.Any(g => g.IsMatch(resource.LambdaFunction))))
            {
                return false;
            }
            foreach (var (key, value) in rule.Tags)
            {
                if (!resource.Tags.TryGetValue(key, out var actual) || (value != "*" && actual != value))
                {
                    return false;
                }
            }
            return true;
        }

        private static Regex Glob(string glob) => new(
            "^" + Regex.Escape(glob).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Compiled,
            TimeSpan.FromMilliseconds(100));
    }
}
