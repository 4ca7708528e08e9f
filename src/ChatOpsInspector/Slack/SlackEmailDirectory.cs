using ChatOpsInspector.State;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Turns e-mail addresses from configuration (approvers, suppressors) and from other platforms into
/// Slack user ids with <c>users.lookupByEmail</c> (scope users:read.email), so those people are
/// mentioned and messaged rather than printed as text. Answers are cached in the store for
/// <see cref="SlackOptions.PeopleCacheTtl"/>; an address Slack does not know is remembered for an hour.
/// </summary>
internal sealed class SlackEmailDirectory(SlackApiClient slack, IKeyValueStore values, IOptions<SlackOptions> options)
{
    private const string NotFound = "-";
    private static readonly TimeSpan MissCacheFor = TimeSpan.FromHours(1);

    /// <summary>The Slack user id for <paramref name="email"/>, null when Slack knows no such person; Transient when Slack could not say now.</summary>
    public async Task<EmailLookup> ResolveAsync(string email, CancellationToken cancellationToken)
    {
        var key = "slack:email:" + email.Trim().ToLowerInvariant();
        if (await values.GetAsync(key, cancellationToken) is { } cached)
        {
            return new EmailLookup(cached == NotFound ? null : cached, false);
        }
        var result = await slack.LookupByEmailAsync(email.Trim(), cancellationToken);
        if (result.Transient)
        {
            return new EmailLookup(null, true);
        }
        var id = result.Ok ? result.Body?["user"]?["id"]?.GetValue<string>() : null;
        var ttl = options.Value.PeopleCacheTtl;
        await values.SetAsync(key, id ?? NotFound, id is null ? (ttl < MissCacheFor ? ttl : MissCacheFor) : ttl, cancellationToken);
        return new EmailLookup(id, false);
    }
}

internal readonly record struct EmailLookup(string? UserId, bool Transient);
