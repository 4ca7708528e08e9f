namespace ChatOpsInspector.Workflow;

/// <summary>Who did something, and from which chat. <see cref="UserId"/> is the platform's id
/// (Slack user id, Teams AAD object id); <see cref="Email"/> lets config name people once for both.</summary>
internal sealed record Actor(string Platform, string UserId, string DisplayName, string? Email = null, string? Channel = null)
{
    public static Actor System { get; } = new("system", "chatopsinspector", "ChatOpsInspector");

    /// <summary>True when a configured entry (user id or e-mail, case-insensitive) names this actor.</summary>
    public bool IsListedIn(IEnumerable<string> entries) => entries.Any(e =>
        string.Equals(e, UserId, StringComparison.OrdinalIgnoreCase)
        || (Email is not null && string.Equals(e, Email, StringComparison.OrdinalIgnoreCase)));

    public bool SamePersonAs(Actor other) =>
        string.Equals(Platform, other.Platform, StringComparison.OrdinalIgnoreCase)
            && string.Equals(UserId, other.UserId, StringComparison.Ordinal)
        || (Email is not null && string.Equals(Email, other.Email, StringComparison.OrdinalIgnoreCase));
}
