using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;

namespace ChatOpsInspector.Slack;

/// <summary>Posts and updates alert cards in Slack. Queueing, rate limits and retries are the dispatcher's.</summary>
internal sealed class SlackChatAdapter(SlackApiClient slack, TimeProvider time) : IChatAdapter
{
    public const string PlatformKey = "slack";

    public string Platform => PlatformKey;

    public string? ChannelFor(OwnerRoute route) => route.SlackChannel;

    public async Task<ChatResult> PostCardAsync(string channel, AlertCardView card, CancellationToken cancellationToken)
    {
        var result = await slack.PostMessageAsync(channel, SlackCards.FallbackText(card), SlackCards.Blocks(card, time.GetUtcNow()), null, cancellationToken);
        return ToChatResult(result, channel);
    }

    public async Task<ChatResult> UpdateCardAsync(ChatMessageRef message, AlertCardView card, CancellationToken cancellationToken)
    {
        var result = await slack.UpdateAsync(message.Channel, message.MessageId, SlackCards.FallbackText(card), SlackCards.Blocks(card, time.GetUtcNow()), cancellationToken);
        return result.Error is { } error && SlackApiClient.MessageGoneErrors.Contains(error)
            ? ChatResult.Gone(error)
            : ToChatResult(result, message.Channel, message.MessageId);
    }

    public async Task<ChatResult> PostNoteAsync(string channel, ChatMessageRef? thread, ChatNote note, CancellationToken cancellationToken)
    {
        // Configured people may be e-mails; those are named as text rather than guessed into mentions.
        var mentions = note.Mentions is { Count: > 0 }
            ? " " + string.Join(' ', note.Mentions.Take(20).Select(m => IsUserId(m) ? $"<@{m}>" : SlackText.EscapeTruncate(m, 100)))
            : "";
        var text = SlackText.EscapeTruncate(note.Text, SlackLimits.MessageText - mentions.Length) + mentions;
        var result = await slack.PostMessageAsync(channel, text, null, thread?.MessageId, cancellationToken);
        return ToChatResult(result, channel);
    }

    internal static ChatResult ToChatResult(SlackApiResult result, string channel, string? knownTs = null)
    {
        if (result.Ok)
        {
            var ts = result.Ts ?? knownTs;
            return ChatResult.Ok(ts is null ? null : new ChatMessageRef(PlatformKey, result.Channel ?? channel, ts));
        }
        return result.Transient
            ? ChatResult.Retry(result.RetryAfter, result.Error ?? "transient")
            : ChatResult.Failed(result.Error ?? "unknown_error");
    }

    /// <summary>Only real user ids become mentions; e-mails and names in config stay text.</summary>
    private static bool IsUserId(string id) => id.Length is > 1 and <= 20 && id[0] is 'U' or 'W' && id.All(char.IsAsciiLetterOrDigit);
}
