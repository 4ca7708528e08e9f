using System.Text.Json;
using ChatOpsInspector.State;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Remembers how to reach each Teams channel the bot is installed in (service URL, tenant, team, bot
/// id), keyed by Teams channel id so that routing can name channels by id. A per-team index lets an
/// uninstall forget every channel of that team.
/// </summary>
internal sealed class ConversationReferences(IKeyValueStore values)
{
    public Task<ConversationReference?> ChannelAsync(string channelId, CancellationToken cancellationToken) =>
        ReadAsync(ChannelKey(channelId), cancellationToken);

    public Task<ConversationReference?> PersonalChatAsync(string aadObjectId, CancellationToken cancellationToken) =>
        ReadAsync(UserKey(aadObjectId), cancellationToken);

    public async Task SaveChannelAsync(ConversationReference reference, CancellationToken cancellationToken)
    {
        await values.SetAsync(ChannelKey(reference.ConversationId), JsonSerializer.Serialize(reference, TeamsJson.Default.ConversationReference), null, cancellationToken);
        if (reference.TeamId is { } team)
        {
            var channels = await TeamChannelsAsync(team, cancellationToken);
            if (!channels.Contains(reference.ConversationId))
            {
                channels.Add(reference.ConversationId);
                await values.SetAsync(TeamKey(team), JsonSerializer.Serialize(channels, TeamsJson.Default.ListString), null, cancellationToken);
            }
        }
    }

    public Task SavePersonalChatAsync(string aadObjectId, ConversationReference reference, CancellationToken cancellationToken) =>
        values.SetAsync(UserKey(aadObjectId), JsonSerializer.Serialize(reference, TeamsJson.Default.ConversationReference), null, cancellationToken);

    public async Task RemoveChannelAsync(string channelId, CancellationToken cancellationToken) =>
        await values.DeleteAsync(ChannelKey(channelId), cancellationToken);

    /// <summary>Forgets every channel of a team (bot removed, team deleted); returns how many.</summary>
    public async Task<int> RemoveTeamAsync(string teamId, CancellationToken cancellationToken)
    {
        var channels = await TeamChannelsAsync(teamId, cancellationToken);
        // The General channel's id is the team id; it may have been stored before the team was known.
        if (!channels.Contains(teamId))
        {
            channels.Add(teamId);
        }
        var removed = 0;
        foreach (var channel in channels)
        {
            removed += await values.DeleteAsync(ChannelKey(channel), cancellationToken) ? 1 : 0;
        }
        await values.DeleteAsync(TeamKey(teamId), cancellationToken);
        return removed;
    }

    /// <summary>Keeps a copy of every channel reference of a team that is archived or deleted, for <see cref="RestoreTeamAsync"/>.</summary>
    public async Task ParkTeamAsync(string teamId, CancellationToken cancellationToken)
    {
        var channels = await TeamChannelsAsync(teamId, cancellationToken);
        if (!channels.Contains(teamId))
        {
            channels.Add(teamId);
        }
        var parked = new List<string>();
        foreach (var channel in channels)
        {
            if (await values.GetAsync(ChannelKey(channel), cancellationToken) is { } json)
            {
                parked.Add(json);
            }
        }
        if (parked.Count > 0)
        {
            await values.SetAsync(ParkedKey(teamId), JsonSerializer.Serialize(parked, TeamsJson.Default.ListString), ParkedFor, cancellationToken);
        }
    }

    /// <summary>Brings back the channels of a team that was unarchived or restored; returns how many.</summary>
    public async Task<int> RestoreTeamAsync(string teamId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await values.GetAsync(ParkedKey(teamId), cancellationToken) is not { } json)
        {
            return 0;
        }
        var restored = 0;
        foreach (var item in JsonSerializer.Deserialize(json, TeamsJson.Default.ListString) ?? [])
        {
            if (JsonSerializer.Deserialize(item, TeamsJson.Default.ConversationReference) is { } reference)
            {
                await SaveChannelAsync(reference with { UpdatedAt = now }, cancellationToken);
                restored++;
            }
        }
        await values.DeleteAsync(ParkedKey(teamId), cancellationToken);
        return restored;
    }

    /// <summary>Teams keeps a deleted team restorable for 30 days and an archived one indefinitely.</summary>
    private static readonly TimeSpan ParkedFor = TimeSpan.FromDays(400);

    private async Task<List<string>> TeamChannelsAsync(string teamId, CancellationToken cancellationToken) =>
        await values.GetAsync(TeamKey(teamId), cancellationToken) is { } json
            ? JsonSerializer.Deserialize(json, TeamsJson.Default.ListString) ?? []
            : [];

    private async Task<ConversationReference?> ReadAsync(string key, CancellationToken cancellationToken) =>
        await values.GetAsync(key, cancellationToken) is { } json
            ? JsonSerializer.Deserialize(json, TeamsJson.Default.ConversationReference)
            : null;

    private static string ChannelKey(string channelId) => "teams:channel:" + channelId;
    private static string TeamKey(string teamId) => "teams:team:" + teamId;
    private static string ParkedKey(string teamId) => "teams:parked:" + teamId;
    private static string UserKey(string aadObjectId) => "teams:user:" + aadObjectId.ToLowerInvariant();
}
