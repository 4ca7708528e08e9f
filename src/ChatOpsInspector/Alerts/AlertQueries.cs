using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Alerts;

/// <summary>Read side for commands, reminders and digests: groups by owner, by assignee, by id or CVE.</summary>
internal sealed class AlertQueries(IAlertStore store)
{
    private const int ReadBatch = 256;

    /// <summary>A page of a list: how many matched, and the first of them, worst first, read in full.</summary>
    internal sealed record Page(int Total, IReadOnlyList<AlertGroup> First);

    /// <summary>All of an owner's groups (open and closed), worst first.</summary>
    public async Task<IReadOnlyList<AlertGroup>> GroupsAsync(string owner, CancellationToken cancellationToken) =>
        WorstFirst(await ReadAsync(await store.GroupIdsAsync(owner, cancellationToken), cancellationToken));

    /// <summary>
    /// The owner's open groups, worst first: chosen from the summaries, so only the <paramref name="max"/>
    /// shown are read in full.
    /// </summary>
    public async Task<Page> OpenGroupsAsync(string owner, int max, CancellationToken cancellationToken)
    {
        var open = GroupSummary.WorstFirst((await SummariesAsync(owner, cancellationToken)).Where(s => s.IsOpen), s => s);
        return new Page(open.Length, await ReadOpenAsync(open.Take(max), cancellationToken));
    }

    public async Task<IReadOnlyList<AlertGroup>> AllGroupsAsync(CancellationToken cancellationToken)
    {
        var owners = await store.OwnersAsync(cancellationToken);
        var perOwner = await Task.WhenAll(owners.Select(owner => GroupsAsync(owner, cancellationToken)));
        return WorstFirst(perOwner.SelectMany(g => g));
    }

    /// <summary>Open groups assigned to <paramref name="person"/>, found from every owner's summaries.</summary>
    public async Task<Page> AssignedToAsync(Actor person, int max, CancellationToken cancellationToken)
    {
        var owners = await store.OwnersAsync(cancellationToken);
        var summaries = await Task.WhenAll(owners.Select(owner => SummariesAsync(owner, cancellationToken)));
        var mine = GroupSummary.WorstFirst(
            summaries.SelectMany(s => s).Where(s => s.IsOpen && s.AssignedTo is { } a && a.SamePersonAs(person)), s => s);
        return new Page(mine.Length, await ReadOpenAsync(mine.Take(max), cancellationToken));
    }

    /// <summary>
    /// A summary of each of the owner's groups, as current as a full read: the remembered ones in one
    /// round trip, the rest read in full and remembered for the next caller.
    /// </summary>
    public async Task<IReadOnlyList<GroupSummary>> SummariesAsync(string owner, CancellationToken cancellationToken)
    {
        var saved = await store.SavedSummariesAsync(owner, cancellationToken);
        var summaries = saved.Select(s => s.Summary).OfType<GroupSummary>().ToList();
        foreach (var group in await ReadAsync(saved.Where(s => s.Summary is null).Select(s => s.GroupId).ToArray(), cancellationToken))
        {
            summaries.Add(GroupSummary.Of(group));
            store.RememberSummary(group);
        }
        return summaries;
    }

    /// <summary>By group id, or every group (any owner) of a vulnerability id such as a CVE.</summary>
    public async Task<IReadOnlyList<AlertGroup>> FindAsync(string idOrVulnerability, CancellationToken cancellationToken)
    {
        var text = idOrVulnerability.Trim();
        if (GroupIds.LooksLikeId(text.ToLowerInvariant()) && await store.GetGroupAsync(text.ToLowerInvariant(), cancellationToken) is { } byId)
        {
            return [byId];
        }
        if (text.Length == 0)
        {
            return [];
        }
        // From the vulnerability index: the groups that match, not every group of every owner.
        var groups = await ReadAsync(await store.GroupsOfVulnerabilityAsync(text, cancellationToken), cancellationToken);
        return WorstFirst(groups.Where(g => string.Equals(g.VulnerabilityId, text, StringComparison.OrdinalIgnoreCase)));
    }

    /// <summary>Full reads of the chosen groups, in their order; one that closed since its summary drops out.</summary>
    public async Task<IReadOnlyList<AlertGroup>> ReadInOrderAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken) =>
        await ReadAsync(ids, cancellationToken);

    private async Task<IReadOnlyList<AlertGroup>> ReadOpenAsync(IEnumerable<GroupSummary> chosen, CancellationToken cancellationToken) =>
        (await ReadAsync(chosen.Select(s => s.Id).ToArray(), cancellationToken)).Where(g => g.Workflow.IsOpen).ToArray();

    private async Task<IReadOnlyList<AlertGroup>> ReadAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var groups = new List<AlertGroup>(ids.Count);
        // Reads issued together share round trips on Redis's multiplexed connection; one after another,
        // a list paid one round trip per group and took seconds under load (bench: interactions).
        foreach (var chunk in ids.Chunk(ReadBatch))
        {
            var read = await Task.WhenAll(chunk.Select(id => store.GetGroupAsync(id, cancellationToken)));
            groups.AddRange(read.OfType<AlertGroup>());
        }
        return groups;
    }

    private static AlertGroup[] WorstFirst(IEnumerable<AlertGroup> groups) => GroupSummary.WorstFirst(groups, GroupSummary.Of);
}
