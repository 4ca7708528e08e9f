using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;

namespace ChatOpsInspector.Alerts;

/// <summary>
/// A chat platform the dispatcher can post alert cards to. Implementations only translate and send;
/// queuing, retries, rate limits and remembering message refs belong to <see cref="AlertDispatcher"/>.
/// </summary>
internal interface IChatAdapter
{
    /// <summary>Stable platform key ("slack", "teams") used in card refs and queued messages.</summary>
    string Platform { get; }

    /// <summary>The owner's channel on this platform, or null when the owner has none here.</summary>
    string? ChannelFor(OwnerRoute route);

    Task<ChatResult> PostCardAsync(string channel, AlertCardView card, CancellationToken cancellationToken);

    Task<ChatResult> UpdateCardAsync(ChatMessageRef message, AlertCardView card, CancellationToken cancellationToken);

    /// <summary>A text message, in the card's thread when <paramref name="thread"/> is set.</summary>
    Task<ChatResult> PostNoteAsync(string channel, ChatMessageRef? thread, ChatNote note, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="userId"/> is a person this platform can message directly.</summary>
    bool CanMessage(string userId) => false;

    /// <summary>
    /// A direct (1:1) message to one person. <paramref name="channel"/> is the owner's channel on this
    /// platform, for platforms that start a personal chat from a known conversation.
    /// </summary>
    Task<ChatResult> DirectMessageAsync(string userId, string? channel, ChatNote note, CancellationToken cancellationToken) =>
        Task.FromResult(ChatResult.Failed("direct_messages_not_supported"));
}

/// <summary>Plain text (the adapter escapes it) plus people to mention by platform user id or e-mail.</summary>
internal sealed record ChatNote(string Text, IReadOnlyList<string>? Mentions = null)
{
    /// <summary>Display names of the mentioned ids, so a mention reads as a name where the platform shows the tag's text (Teams).</summary>
    public IReadOnlyDictionary<string, string>? Names { get; init; }

    /// <summary>A thread reply that is also shown in the channel (Slack <c>reply_broadcast</c>): escalations.</summary>
    public bool Broadcast { get; init; }
}

internal enum ChatOutcome
{
    Ok,

    /// <summary>Throttled (429) or transient (5xx, network): try again after <see cref="ChatResult.RetryAfter"/>.</summary>
    RetryLater,

    /// <summary>The platform refused for good (channel_not_found, invalid_auth…): log, count, surface.</summary>
    Failed,
}

internal sealed record ChatResult(ChatOutcome Outcome, ChatMessageRef? Message = null, TimeSpan? RetryAfter = null, string? Error = null)
{
    public static ChatResult Ok(ChatMessageRef? message = null) => new(ChatOutcome.Ok, message);
    public static ChatResult Retry(TimeSpan? after, string error) => new(ChatOutcome.RetryLater, RetryAfter: after, Error: error);
    public static ChatResult Failed(string error) => new(ChatOutcome.Failed, Error: error);

    /// <summary>The card to update no longer exists (deleted in the channel): the dispatcher posts it again.</summary>
    public static ChatResult Gone(string error) => new(ChatOutcome.Failed, Error: error) { MessageGone = true };

    public bool MessageGone { get; init; }
}
