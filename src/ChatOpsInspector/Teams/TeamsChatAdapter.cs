using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;

namespace ChatOpsInspector.Teams;

/// <summary>Posts and updates alert cards in Teams channels through the Bot Connector.</summary>
internal sealed class TeamsChatAdapter(ConnectorClient connector, ConversationReferences references, CardViewers viewers) : IChatAdapter
{
    public const string NoReference = "no_conversation_reference: install the bot in the team";
    public const string NoPersonalChat = "no_personal_chat: the person must install the bot or message it once";

    public string Platform => "teams";

    public string? ChannelFor(OwnerRoute route) => route.TeamsChannel;

    public async Task<ChatResult> PostCardAsync(string channel, AlertCardView card, CancellationToken cancellationToken)
    {
        if (await references.ChannelAsync(channel, cancellationToken) is not { } reference)
        {
            return ChatResult.Failed(NoReference);
        }
        var result = await connector.CreateChannelThreadAsync(reference, CardActivity(card), cancellationToken);
        if (result.Ok && (result.ActivityId is null || result.Id is null))
        {
            return ChatResult.Failed("connector answered without conversation or activity id");
        }
        return Map(result, () => new ChatMessageRef(Platform, channel, result.ActivityId!, ThreadId: result.Id));
    }

    public async Task<ChatResult> UpdateCardAsync(ChatMessageRef message, AlertCardView card, CancellationToken cancellationToken)
    {
        if (await references.ChannelAsync(message.Channel, cancellationToken) is not { } reference)
        {
            return ChatResult.Failed(NoReference);
        }
        var result = await connector.UpdateAsync(reference.ServiceUrl, message.ThreadId ?? message.Channel, message.MessageId, CardActivity(card), cancellationToken);
        return Map(result, () => message);
    }

    public async Task<ChatResult> PostNoteAsync(string channel, ChatMessageRef? thread, ChatNote note, CancellationToken cancellationToken)
    {
        if (await references.ChannelAsync(channel, cancellationToken) is not { } reference)
        {
            return ChatResult.Failed(NoReference);
        }
        var activity = NoteActivity(note);
        if (thread?.ThreadId is { } conversationId)
        {
            var reply = await connector.SendAsync(reference.ServiceUrl, conversationId, thread.MessageId, activity, cancellationToken);
            return Map(reply, () => new ChatMessageRef(Platform, channel, reply.Id ?? "", ThreadId: conversationId));
        }
        var created = await connector.CreateChannelThreadAsync(reference, activity, cancellationToken);
        return Map(created, () => new ChatMessageRef(Platform, channel, created.ActivityId ?? "", ThreadId: created.Id));
    }

    /// <summary>
    /// A 1:1 message to a person by Entra object id (approval requests, escalations), in the personal
    /// chat the bot learned about when the person installed it or wrote to it.
    /// </summary>
    public async Task<ChatResult> DirectMessageAsync(string aadObjectId, ChatNote note, CancellationToken cancellationToken)
    {
        if (await references.PersonalChatAsync(aadObjectId, cancellationToken) is not { } chat)
        {
            return ChatResult.Failed(NoPersonalChat);
        }
        var sent = await connector.SendAsync(chat.ServiceUrl, chat.ConversationId, null, NoteActivity(note), cancellationToken);
        return Map(sent, () => new ChatMessageRef(Platform, chat.ConversationId, sent.Id ?? "", ThreadId: chat.ConversationId));
    }

    internal Activity CardActivity(AlertCardView card) => new()
    {
        Type = "message",
        Summary = TeamsText.Cut(card.FallbackText, 200),
        Attachments = [new Attachment(AlertCardRenderer.ContentType, AlertCardRenderer.Render(card, viewers.ForChannel(card)))],
    };

    /// <summary>Escaped text; people named by Entra object id or UPN become real mentions.</summary>
    internal static Activity NoteActivity(ChatNote note)
    {
        var text = TeamsText.Escape(TeamsText.Cut(note.Text, 4000));
        var entities = new List<Entity>();
        foreach (var person in note.Mentions ?? [])
        {
            if (Guid.TryParse(person, out _) || person.Contains('@', StringComparison.Ordinal))
            {
                var tag = $"<at>{TeamsText.Escape(person)}</at>";
                text += " " + tag;
                entities.Add(new Entity("mention") { Text = tag, Mentioned = new ChannelAccount(person, person) });
            }
        }
        return new Activity { Type = "message", TextFormat = "markdown", Text = text, Entities = entities.Count > 0 ? entities : null };
    }

    private static ChatResult Map(ConnectorResult result, Func<ChatMessageRef> message)
    {
        if (result.Ok)
        {
            return ChatResult.Ok(message());
        }
        return result.Transient
            ? ChatResult.Retry(result.RetryAfter, result.Error ?? "transient")
            : ChatResult.Failed(result.Error ?? "failed");
    }
}
