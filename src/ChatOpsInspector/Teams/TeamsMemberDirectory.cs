using System.Text.Json;
using ChatOpsInspector.State;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Looks people up in a team's roster with the connector's
/// <c>GET /v3/conversations/{teamId}/members/{userId}</c>, which takes a Teams user id, an Entra object
/// id or a UPN (as Bot Builder's <c>TeamsInfo.getMember</c>): names for mentions, Entra object ids for
/// people configured by e-mail. Answers are cached in the store for <see cref="TeamsOptions.PeopleCacheTtl"/>.
/// </summary>
internal sealed class TeamsMemberDirectory(ConnectorClient connector, IKeyValueStore values, IOptions<TeamsOptions> options)
{
    private const string NotFound = "-";
    private static readonly TimeSpan MissCacheFor = TimeSpan.FromMinutes(10);

    public async Task<MemberLookup> FindAsync(ConversationReference team, string person, CancellationToken cancellationToken)
    {
        var roster = team.TeamId ?? team.ConversationId;
        var key = $"teams:member:{roster}:{person.Trim().ToLowerInvariant()}";
        if (await values.GetAsync(key, cancellationToken) is { } cached)
        {
            return new MemberLookup(cached == NotFound ? null : JsonSerializer.Deserialize(cached, TeamsJson.Default.TeamsMember), false);
        }
        var (member, result) = await connector.GetMemberAsync(team.ServiceUrl, roster, person.Trim(), cancellationToken);
        if (member is null && result.Transient)
        {
            return new MemberLookup(null, true);
        }
        var ttl = options.Value.PeopleCacheTtl;
        await values.SetAsync(key, member is null ? NotFound : JsonSerializer.Serialize(member, TeamsJson.Default.TeamsMember),
            member is null ? (ttl < MissCacheFor ? ttl : MissCacheFor) : ttl, cancellationToken);
        return new MemberLookup(member, false);
    }
}

internal readonly record struct MemberLookup(TeamsMember? Member, bool Transient);
