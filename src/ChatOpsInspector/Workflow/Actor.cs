using ChatOpsInspector.Access;

namespace ChatOpsInspector.Workflow;

/// <summary>
/// Who did something, and from which chat. Identity is (<see cref="Platform"/>, <see cref="Workspace"/>,
/// <see cref="UserId"/>): the Slack team or Entra tenant the request came from, and the platform's id
/// (Slack user id, Teams Entra object id). <see cref="Email"/> lets config name people once for both.
/// </summary>
internal sealed record Actor(string Platform, string UserId, string DisplayName, string? Email = null, string? Channel = null, string? Workspace = null)
{
    public static Actor System { get; } = new("system", "chatopsinspector", "ChatOpsInspector");

    /// <summary>True when a configured entry names this actor on its own platform (see <see cref="Person"/>).</summary>
    public bool IsListedIn(IEnumerable<string> entries) => PeopleDirectory.IsListed(this, entries);

    /// <summary>The same account, or the same e-mail: for "assigned to me" and "already assigned".</summary>
    public bool SamePersonAs(Actor other) =>
        string.Equals(Platform, other.Platform, StringComparison.OrdinalIgnoreCase)
            && string.Equals(UserId, other.UserId, StringComparison.Ordinal)
        || (Email is not null && string.Equals(Email, other.Email, StringComparison.OrdinalIgnoreCase));
}
