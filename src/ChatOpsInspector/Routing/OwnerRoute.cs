namespace ChatOpsInspector.Routing;

/// <summary>Where a finding's alerts go and who may act on them; immutable view of a matched target.</summary>
internal sealed record OwnerRoute(
    string Owner,
    string? SlackChannel,
    string? TeamsChannel,
    IReadOnlyList<string> Approvers,
    IReadOnlyList<string> Suppressors,
    IReadOnlyList<string> Members,
    string? Environment,
    string MatchedRule)
{
    public bool IsProduction => string.Equals(Environment, "prod", StringComparison.OrdinalIgnoreCase)
        || string.Equals(Environment, "production", StringComparison.OrdinalIgnoreCase);

    public static OwnerRoute From(RouteTarget target, string matchedRule, string? accountEnvironment) => new(
        target.Owner,
        NullIfEmpty(target.SlackChannel),
        NullIfEmpty(target.TeamsChannel),
        target.Approvers.ToArray(),
        target.Suppressors.ToArray(),
        target.Members.ToArray(),
        NullIfEmpty(target.Environment) ?? NullIfEmpty(accountEnvironment),
        matchedRule);

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
