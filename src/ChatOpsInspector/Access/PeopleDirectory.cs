using ChatOpsInspector.Routing;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Access;

/// <summary>
/// Everyone configured anywhere (routing people lists and <c>Access:People</c>), so that the four-eyes
/// rule sees one human behind a Slack id and an Entra id listed together.
/// </summary>
internal sealed class PeopleDirectory(IOptions<RoutingOptions> routing, IOptions<AccessOptions> access)
{
    private readonly Lazy<Person[]> _everyone = new(() => Entries(routing.Value, access.Value)
        .Select(Person.Parse).Where(p => !p.IsEmpty).ToArray());

    public static bool IsListed(Actor actor, IEnumerable<string> entries) => entries.Any(e => Person.Parse(e).Names(actor));

    /// <summary>
    /// True when two actors could be the same human: the same account, the same e-mail, or ids that one
    /// configured entry lists together. Used to refuse self-approval, so it errs towards "same".
    /// </summary>
    public bool CouldBeSamePerson(Actor a, Actor b)
    {
        if (string.Equals(a.Platform, b.Platform, StringComparison.OrdinalIgnoreCase)
            && string.Equals(a.UserId, b.UserId, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (a.Email is { Length: > 0 } email && string.Equals(email, b.Email, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return _everyone.Value.Any(p => p.Names(a, anyEmail: true) && p.Names(b, anyEmail: true));
    }

    private static IEnumerable<string> Entries(RoutingOptions routing, AccessOptions access) =>
        routing.Rules.Select(r => r.Target).Append(routing.Default)
            .SelectMany(t => t.Approvers.Concat(t.Suppressors).Concat(t.Members))
            .Concat(access.People);
}
