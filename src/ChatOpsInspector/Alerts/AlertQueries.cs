using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Alerts;

/// <summary>Read side for commands, reminders and digests: groups by owner, by assignee, by id or CVE.</summary>
internal sealed class AlertQueries(IAlertStore store)
{
    private const int ReadBatch = 256;

    /// <summary>All of an owner's groups (open and closed), worst first.</summary>
    public async Task<IReadOnlyList<AlertGroup>> GroupsAsync(string owner, CancellationToken cancellationToken)
    {
        var ids = await store.GroupIdsAsync(owner, cancellationToken);
        var groups = new List<AlertGroup>(ids.Count);
        // Reads issued together share round trips on Redis's multiplexed connection; one after another,
        // /vulns NAME paid one round trip per group and took seconds under load (bench: interactions).
        foreach (var chunk in ids.Chunk(ReadBatch))
        {
            var read = await Task.WhenAll(chunk.Select(id => store.GetGroupAsync(id, cancellationToken)));
            groups.AddRange(read.OfType<AlertGroup>());
        }
        return WorstFirst(groups);
    }

    public async Task<IReadOnlyList<AlertGroup>> OpenGroupsAsync(string owner, CancellationToken cancellationToken) =>
        (await GroupsAsync(owner, cancellationToken)).Where(g => g.Workflow.IsOpen).ToArray();

    public async Task<IReadOnlyList<AlertGroup>> AllGroupsAsync(CancellationToken cancellationToken)
    {
        var owners = await store.OwnersAsync(cancellationToken);
        var perOwner = await Task.WhenAll(owners.Select(owner => GroupsAsync(owner, cancellationToken)));
        return WorstFirst(perOwner.SelectMany(g => g));
    }

    public async Task<IReadOnlyList<AlertGroup>> AssignedToAsync(Actor person, CancellationToken cancellationToken) =>
        (await AllGroupsAsync(cancellationToken))
            .Where(g => g.Workflow.IsOpen && g.Workflow.AssignedTo is { } a && a.SamePersonAs(person))
            .ToArray();

    /// <summary>By group id, or every group (any owner) of a vulnerability id such as a CVE.</summary>
    public async Task<IReadOnlyList<AlertGroup>> FindAsync(string idOrVulnerability, CancellationToken cancellationToken)
    {
        var text = idOrVulnerability.Trim();
        if (GroupIds.LooksLikeId(text.ToLowerInvariant()) && await store.GetGroupAsync(text.ToLowerInvariant(), cancellationToken) is { } byId)
        {
            return [byId];
        }
        return (await AllGroupsAsync(cancellationToken))
            .Where(g => string.Equals(g.VulnerabilityId, text, StringComparison.OrdinalIgnoreCase))
            .ToArray();
    }

    private static AlertGroup[] WorstFirst(IEnumerable<AlertGroup> groups) => groups
        .OrderByDescending(g => g.Workflow.IsOpen)
        .ThenByDescending(g => g.Meta.Priority)
        .ThenByDescending(g => g.Severity)
        .ThenByDescending(g => g.InspectorScore ?? 0)
        .ThenBy(g => g.Meta.SlaDueAt)
        .ToArray();
}
