using System.Text.Json.Nodes;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Turns Slack user ids into actors with names and e-mails (users.info), cached so that permission
/// checks by e-mail do not cost a Slack call per click.
/// </summary>
internal sealed class SlackUsers(SlackApiClient slack, IKeyValueStore values)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromHours(1);

    public async Task<Actor> ActorAsync(string userId, string? knownName, string? channel, string? teamId, CancellationToken cancellationToken)
    {
        var user = await LookupAsync(userId, cancellationToken);
        return new Actor(SlackChatAdapter.PlatformKey, userId, user?.Name ?? knownName ?? userId, user?.Email, channel, teamId);
    }

    private async Task<SlackUser?> LookupAsync(string userId, CancellationToken cancellationToken)
    {
        var key = $"slack:user:{userId}";
        if (await values.GetAsync(key, cancellationToken) is { } cached && JsonNode.Parse(cached) is JsonObject o)
        {
            return new SlackUser(userId, o["name"].Str() ?? userId, o["email"].Str());
        }
        var user = await slack.UserInfoAsync(userId, cancellationToken);
        if (user is not null)
        {
            await values.SetAsync(key, new JsonObject { ["name"] = user.Name, ["email"] = user.Email }.ToJsonString(), CacheFor, cancellationToken);
        }
        return user;
    }
}
