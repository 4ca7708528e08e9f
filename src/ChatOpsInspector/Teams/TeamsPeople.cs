using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Turns the sender of an activity into an <see cref="Actor"/> with an e-mail address, so people
/// configured by e-mail (approvers, suppressors, assignees) are recognised in Teams as in Slack.
/// Teams activities carry no e-mail; it is read once from the conversation's member list and cached.
/// </summary>
internal sealed partial class TeamsPeople(ConnectorClient connector, IKeyValueStore values, ILogger<TeamsPeople> logger)
{
    private static readonly TimeSpan KnownFor = TimeSpan.FromHours(24);
    private static readonly TimeSpan UnknownFor = TimeSpan.FromMinutes(10);

    /// <summary>Bounds how long a click waits for the lookup; without an e-mail the id still identifies the person.</summary>
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);

    public async Task<Actor?> ActorAsync(Activity activity, CancellationToken cancellationToken)
    {
        if (CardActionHandler.ActorOf(activity) is not { } actor)
        {
            return null;
        }
        if (activity.From?.Id is not { } userId || activity.ServiceUrl is not { } serviceUrl
            || (activity.TeamId ?? activity.Conversation?.Id) is not { } conversation)
        {
            return actor;
        }
        var key = "teams:email:" + actor.UserId.ToLowerInvariant();
        var email = await values.GetAsync(key, cancellationToken);
        if (email is null)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(LookupTimeout);
            try
            {
                var (member, result) = await connector.GetMemberAsync(serviceUrl, conversation, userId, timeout.Token);
                email = member?.Email ?? member?.UserPrincipalName ?? "";
                if (member is not null || !result.Transient)
                {
                    await values.SetAsync(key, email, member is null ? UnknownFor : KnownFor, cancellationToken);
                }
                if (member is null)
                {
                    LogLookupFailed(result.Error);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                LogLookupFailed("timeout");
                email = "";
            }
        }
        return email.Length > 0 ? actor with { Email = email } : actor;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Teams member lookup failed ({Error}); acting on the Entra object id alone")]
    private partial void LogLookupFailed(string? error);
}
