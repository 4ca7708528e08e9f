using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;

namespace ChatOpsInspector.Slack;

/// <summary>Posts and updates alert cards in Slack. Queueing, rate limits and retries are the dispatcher's.</summary>
internal sealed class SlackChatAdapter(SlackApiClient slack, SlackEmailDirectory emails, TimeProvider time) : IChatAdapter
{
    public const string PlatformKey = "slack";

    public string Platform => PlatformKey;

    public string? ChannelFor(OwnerRoute route) => route.SlackChannel;

    public async Task<ChatResult> PostCardAsync(string channel, AlertCardView card, CancellationToken cancellationToken)
    {
        var result = await slack.PostMessageAsync(channel, SlackPushText.For(card), SlackCards.Blocks(card, time.GetUtcNow()), null, cancellationToken);
        return ToChatResult(result, channel);
    }

    public async Task<ChatResult> UpdateCardAsync(ChatMessageRef message, AlertCardView card, CancellationToken cancellationToken)
    {
        var result = await slack.UpdateAsync(message.Channel, message.MessageId, SlackPushText.For(card), SlackCards.Blocks(card, time.GetUtcNow()), cancellationToken);
        return result.Error is { } error && SlackApiClient.MessageGoneErrors.Contains(error)
            ? ChatResult.Gone(error)
            : ToChatResult(result, message.Channel, message.MessageId);
    }

    public async Task<ChatResult> PostNoteAsync(string channel, ChatMessageRef? thread, ChatNote note, CancellationToken cancellationToken)
    {
        var (mentions, transient) = await MentionsAsync(note.Mentions, cancellationToken);
        if (transient)
        {
            return ChatResult.Retry(null, "users.lookupByEmail unavailable");
        }
        var text = SlackText.EscapeTruncate(note.Text, SlackLimits.MessageText - mentions.Length) + mentions;
        var result = await slack.PostMessageAsync(channel, text, null, thread?.MessageId, cancellationToken, broadcast: note.Broadcast && thread is not null);
        return ToChatResult(result, channel);
    }

    public bool CanMessage(string userId) => IsUserId(userId) || IsEmail(userId);

    /// <summary>
    /// chat.postMessage with the user id as channel posts in the app's DM with that person (the
    /// Messages tab of the app), which Slack opens on first use.
    /// </summary>
    public async Task<ChatResult> DirectMessageAsync(string userId, string? channel, ChatNote note, CancellationToken cancellationToken)
    {
        var target = userId;
        if (IsEmail(userId))
        {
            var found = await emails.ResolveAsync(userId, cancellationToken);
            if (found.Transient)
            {
                return ChatResult.Retry(null, "users.lookupByEmail unavailable");
            }
            if (found.UserId is not { } id)
            {
                return ChatResult.Failed("users_not_found: no Slack user has this e-mail");
            }
            target = id;
        }
        if (!IsUserId(target))
        {
            return ChatResult.Failed("not_a_slack_user");
        }
        var result = await slack.PostMessageAsync(target, SlackText.EscapeTruncate(note.Text, SlackLimits.MessageText), null, null, cancellationToken);
        return ToChatResult(result, target);
    }

    /// <summary>
    /// Slack ids become mentions; e-mails become mentions once Slack names their user, else stay text;
    /// ids of other platforms (Entra GUIDs) are left out. Each person is mentioned once.
    /// </summary>
    private async Task<(string Text, bool Transient)> MentionsAsync(IReadOnlyList<string>? people, CancellationToken cancellationToken)
    {
        if (people is not { Count: > 0 })
        {
            return ("", false);
        }
        var parts = new List<string>();
        foreach (var person in people.Take(20))
        {
            string? part = null;
            if (IsUserId(person))
            {
                part = $"<@{person}>";
            }
            else if (IsEmail(person))
            {
                var found = await emails.ResolveAsync(person, cancellationToken);
                if (found.Transient)
                {
                    return ("", true);
                }
                part = found.UserId is { } id ? $"<@{id}>" : SlackText.EscapeTruncate(person, 100);
            }
            else if (!Guid.TryParse(person, out _))
            {
                part = SlackText.EscapeTruncate(person, 100);
            }
            if (part is not null && !parts.Contains(part))
            {
                parts.Add(part);
            }
        }
        return (parts.Count > 0 ? " " + string.Join(' ', parts) : "", false);
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

    private static bool IsEmail(string id) => id.Length > 2 && id.IndexOf('@', StringComparison.Ordinal) > 0 && !id.EndsWith('@') && !id.Contains(' ', StringComparison.Ordinal);
}
