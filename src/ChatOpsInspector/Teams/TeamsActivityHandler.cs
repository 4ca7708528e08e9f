using ChatOpsInspector.Operations;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Dispatches authenticated activities: installs and uninstalls (conversation references),
/// Universal Action invokes (answered in the response), and messages (answered in the background).
/// </summary>
internal sealed partial class TeamsActivityHandler(
    ConversationReferences references,
    CardActionHandler cardActions,
    TeamsMessageQueue messages,
    ServiceUrlPolicy serviceUrls,
    IOptions<TeamsOptions> options,
    TimeProvider time,
    ILogger<TeamsActivityHandler> logger)
{
    public async Task<IResult> HandleAsync(Activity activity, CancellationToken cancellationToken)
    {
        switch (activity.Type)
        {
            case "invoke" when activity.Name == CardActionHandler.InvokeName:
                var response = await cardActions.HandleAsync(activity, cancellationToken);
                // The outcome travels in the body's statusCode; the HTTP status is 200 whenever the bot handled it.
                return Results.Json(response, TeamsJson.Default.AdaptiveCardInvokeResponse);
            case "invoke":
                return Results.StatusCode(StatusCodes.Status501NotImplemented);
            case "conversationUpdate":
                await OnConversationUpdateAsync(activity, cancellationToken);
                return Results.Ok();
            case "installationUpdate":
                await OnInstallationUpdateAsync(activity, cancellationToken);
                return Results.Ok();
            case "message":
                await RememberAsync(activity, cancellationToken);
                if (!messages.TryEnqueue(activity))
                {
                    AppMetrics.Errors.WithLabels("teams").Inc();
                    LogBusy();
                    return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
                }
                return Results.Ok();
            default:
                return Results.Ok();
        }
    }

    private async Task OnConversationUpdateAsync(Activity activity, CancellationToken cancellationToken)
    {
        var eventType = activity.ChannelData?.EventType;
        var botAdded = activity.MembersAdded?.Any(m => IsBot(activity, m)) == true;
        var botRemoved = activity.MembersRemoved?.Any(m => IsBot(activity, m)) == true;
        switch (eventType)
        {
            case "teamDeleted" or "teamHardDeleted" or "teamArchived":
                // Parked, not only forgotten: an archived or soft-deleted team can come back.
                if (activity.TeamId is { } parked)
                {
                    await references.ParkTeamAsync(parked, cancellationToken);
                }
                await ForgetTeamAsync(activity, cancellationToken);
                return;
            case "teamUnarchived" or "teamRestored":
                if (activity.TeamId is { } back)
                {
                    var restored = await references.RestoreTeamAsync(back, time.GetUtcNow(), cancellationToken);
                    LogTeamRestored(back, restored);
                    if (activity.ServiceUrl is not null)
                    {
                        await SaveChannelAsync(activity, back, cancellationToken);
                    }
                }
                await RememberAsync(activity, cancellationToken);
                return;
            case "channelDeleted" when activity.ChannelData?.Channel?.Id is { } deleted:
                await references.RemoveChannelAsync(deleted, cancellationToken);
                LogChannelForgotten(deleted);
                return;
            case "channelCreated" or "channelRestored" when activity.ChannelData?.Channel?.Id is { } created:
                await SaveChannelAsync(activity, created, cancellationToken);
                return;
        }
        if (botRemoved)
        {
            await ForgetTeamAsync(activity, cancellationToken);
        }
        else if (botAdded)
        {
            await RememberAsync(activity, cancellationToken);
        }
    }

    private async Task OnInstallationUpdateAsync(Activity activity, CancellationToken cancellationToken)
    {
        switch (activity.Action)
        {
            case "add" or "add-upgrade":
                await RememberAsync(activity, cancellationToken);
                // The channel picked in the install dialog: alerts routed there are delivered before anyone
                // writes to the bot in it.
                if (activity.ChannelData?.Settings?.SelectedChannel?.Id is { } selected && selected != activity.TeamsChannelId)
                {
                    await SaveChannelAsync(activity, selected, cancellationToken);
                }
                break;
            case "remove":
                await ForgetTeamAsync(activity, cancellationToken);
                break;
        }
    }

    /// <summary>Stores where this activity came from, so that alerts and notes can be sent there later.</summary>
    private async Task RememberAsync(Activity activity, CancellationToken cancellationToken)
    {
        if (activity.Conversation?.ConversationType == "personal"
            && activity.From?.AadObjectId is { } user
            && Reference(activity, activity.Conversation.Id) is { } personal)
        {
            await references.SavePersonalChatAsync(user, personal, cancellationToken);
            return;
        }
        if (activity.TeamsChannelId is { } channel)
        {
            await SaveChannelAsync(activity, channel, cancellationToken);
        }
    }

    private async Task SaveChannelAsync(Activity activity, string channelId, CancellationToken cancellationToken)
    {
        if (Reference(activity, channelId) is { } reference)
        {
            await references.SaveChannelAsync(reference, cancellationToken);
            LogChannelRemembered(channelId, reference.TeamId);
        }
    }

    private async Task ForgetTeamAsync(Activity activity, CancellationToken cancellationToken)
    {
        if (activity.TeamId is { } team)
        {
            var removed = await references.RemoveTeamAsync(team, cancellationToken);
            LogTeamForgotten(team, removed);
        }
        else if (activity.TeamsChannelId is { } channel)
        {
            await references.RemoveChannelAsync(channel, cancellationToken);
            LogChannelForgotten(channel);
        }
    }

    /// <summary>Null when the activity lacks what a later proactive message needs, or names a connector we may not call.</summary>
    private ConversationReference? Reference(Activity activity, string? conversationId)
    {
        if (conversationId is null || activity.ServiceUrl is not { } serviceUrl || activity.TenantId is not { } tenant
            || activity.Recipient?.Id is not { } bot)
        {
            return null;
        }
        if (!serviceUrls.IsAllowed(serviceUrl))
        {
            LogServiceUrlNotAllowed(conversationId);
            return null;
        }
        return new ConversationReference
        {
            ServiceUrl = serviceUrl,
            TenantId = tenant,
            TeamId = activity.TeamId,
            ConversationId = conversationId,
            BotId = bot,
            BotName = activity.Recipient.Name,
            UpdatedAt = time.GetUtcNow(),
        };
    }

    private bool IsBot(Activity activity, ChannelAccount member) =>
        member.Id is { } id
        && (id == activity.Recipient?.Id || id.EndsWith(":" + options.Value.AppId, StringComparison.OrdinalIgnoreCase));

    [LoggerMessage(Level = LogLevel.Information, Message = "Teams channel {Channel} of team {Team} remembered for alerts")]
    private partial void LogChannelRemembered(string channel, string? team);

    [LoggerMessage(Level = LogLevel.Information, Message = "Team {Team} is back: {Count} channel reference(s) restored")]
    private partial void LogTeamRestored(string team, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Teams channel {Channel} forgotten")]
    private partial void LogChannelForgotten(string channel);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot removed from team {Team}: {Count} channel reference(s) forgotten")]
    private partial void LogTeamForgotten(string team, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not remembering conversation {Conversation}: its service URL is not in Teams:AllowedServiceUrls")]
    private partial void LogServiceUrlNotAllowed(string conversation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Teams message queue is full; asking the connector to retry")]
    private partial void LogBusy();
}
