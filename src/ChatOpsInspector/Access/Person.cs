using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Access;

/// <summary>
/// One person as configured in Approvers, Suppressors, Members or <c>Access:People</c>. An entry may
/// name the same human by several ids, separated by commas: <c>"U0123ABCD, 0f1e…-…, ana@example.com"</c>.
/// A Slack user id matches only Slack callers, an Entra object id (a GUID) only Teams callers, and an
/// e-mail only a caller whose platform vouched for it from an allowed workspace or tenant.
/// </summary>
internal sealed record Person(IReadOnlyList<string> SlackIds, IReadOnlyList<string> EntraIds, IReadOnlyList<string> Emails)
{
    private static readonly char[] Separators = [',', ';', ' ', '\t'];

    public static Person Parse(string entry)
    {
        var ids = entry.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new Person(
            ids.Where(i => !IsEmail(i) && !Guid.TryParse(i, out _)).ToArray(),
            ids.Where(i => Guid.TryParse(i, out _)).ToArray(),
            ids.Where(IsEmail).ToArray());
    }

    /// <summary>Every id of this person, e.g. for mentions; each chat adapter renders the ones it can address.</summary>
    public IEnumerable<string> Ids => SlackIds.Concat(EntraIds).Concat(Emails);

    public bool IsEmpty => SlackIds.Count + EntraIds.Count + Emails.Count == 0;

    /// <summary>
    /// True when <paramref name="actor"/> is this person. An e-mail only counts when the actor's
    /// workspace or tenant is known (set from a request that passed the workspace/tenant check), unless
    /// <paramref name="anyEmail"/> — used to refuse, never to grant.
    /// </summary>
    public bool Names(Actor actor, bool anyEmail = false)
    {
        if (actor.Platform == Platforms.Slack && SlackIds.Contains(actor.UserId, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }
        if (actor.Platform == Platforms.Teams && Guid.TryParse(actor.UserId, out var aad)
            && EntraIds.Any(e => Guid.TryParse(e, out var listed) && listed == aad))
        {
            return true;
        }
        return actor.Email is { Length: > 0 } email && (anyEmail || !string.IsNullOrEmpty(actor.Workspace))
            && Emails.Contains(email, StringComparer.OrdinalIgnoreCase);
    }

    private static bool IsEmail(string id) => id.Length > 2 && id.IndexOf('@', StringComparison.Ordinal) is > 0 && !id.EndsWith('@');
}

/// <summary>The platform keys actors carry.</summary>
internal static class Platforms
{
    public const string Slack = "slack";
    public const string Teams = "teams";
}
