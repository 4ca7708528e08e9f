namespace ChatOpsInspector.Routing;

/// <summary>Section <c>Routing</c>: ordered rules, first match wins; <see cref="Default"/> catches the rest.</summary>
internal sealed class RoutingOptions
{
    public const string Section = "Routing";

    public List<RoutingRule> Rules { get; set; } = [];
    public RouteTarget Default { get; set; } = new() { Owner = "unrouted" };
}

internal sealed class RoutingRule
{
    /// <summary>Optional label shown in start-up errors; defaults to the rule's position.</summary>
    public string? Name { get; set; }

    /// <summary>Tag key → value, or <c>*</c> for "tag present". All listed tags must match.</summary>
    public Dictionary<string, string> Tags { get; set; } = [];
    public List<string> AccountIds { get; set; } = [];
    public List<string> Regions { get; set; } = [];
    public List<string> ResourceTypes { get; set; } = [];
    public List<string> EcrRepositories { get; set; } = [];

    /// <summary>Globs (<c>*</c>, <c>?</c>) on the Lambda function name.</summary>
    public List<string> LambdaFunctions { get; set; } = [];

    /// <summary>Account environments from the <c>Accounts</c> map, e.g. <c>prod</c>.</summary>
    public List<string> Environments { get; set; } = [];

    public RouteTarget Target { get; set; } = new();

    public bool HasAnyCondition =>
        Tags.Count + AccountIds.Count + Regions.Count + ResourceTypes.Count + EcrRepositories.Count
        + LambdaFunctions.Count + Environments.Count > 0;
}

internal sealed class RouteTarget
{
    /// <summary>The application/team name that <c>/vulns NAME</c> uses.</summary>
    public string Owner { get; set; } = "";
    public string? SlackChannel { get; set; }
    public string? TeamsChannel { get; set; }

    /// <summary>Slack user ids, Teams AAD object ids or e-mail addresses allowed to approve patches.</summary>
    public List<string> Approvers { get; set; } = [];

    /// <summary>Who may suppress this owner's findings.</summary>
    public List<string> Suppressors { get; set; } = [];

    /// <summary>People offered in "Assign" pickers where the platform cannot list channel members.</summary>
    public List<string> Members { get; set; } = [];

    /// <summary><c>prod</c> raises priority. Empty: taken from the account's environment.</summary>
    public string? Environment { get; set; }
}

/// <summary>Section <c>Accounts</c>: account id → name and environment.</summary>
internal sealed class AccountInfo
{
    public string Name { get; set; } = "";
    public string Environment { get; set; } = "";
}
